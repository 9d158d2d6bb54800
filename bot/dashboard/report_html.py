"""The funder report as HTML and PDF: the Markdown that `imm-bot report` writes (bot.reports.funder_report),
turned into HTML by Python-Markdown (tables included) and into PDF by WeasyPrint. Same words, same figures."""

from __future__ import annotations

from html import escape

STYLE = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; font-size: 11pt; line-height: 1.45; color: #111; }
h1 { font-size: 18pt; } h2 { font-size: 14pt; margin-top: 1.2em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #777; padding: 3px 8px; text-align: start; }
"""


def report_html(markdown_text: str, title: str, lang: str = "en") -> str:
    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables"], output_format="html")
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style></head><body>{body}</body></html>")


def report_pdf(html: str) -> bytes:
    """A PDF of the report's HTML (WeasyPrint, with no access to anything outside the document)."""
    from weasyprint import HTML

    def no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
        raise ValueError(f"the report fetches nothing: {url}")

    pdf = HTML(string=html, url_fetcher=no_fetch).write_pdf()
    assert pdf is not None
    return pdf
