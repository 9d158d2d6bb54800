"""Message catalogs: every sentence a person reads, per language, with named placeholders."""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

DEFAULT_LANGUAGE = "en"
RLM, LRM, FSI, PDI = "\u200f", "\u200e", "\u2068", "\u2069"


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    name: str  # the language's own name, as its readers write it
    rtl: bool = False


LANGUAGES: dict[str, Language] = {
    "en": Language("en", "English"),
    "uk": Language("uk", "Українська"),
    "ar": Language("ar", "العربية", rtl=True),
    "fa": Language("fa", "فارسی", rtl=True),
    "ur": Language("ur", "اردو", rtl=True),
}


class Catalog:
    """Looks up `key` in the reader's language, falling back to English for a missing key."""

    def __init__(self, catalogs: dict[str, dict[str, str]]) -> None:
        if DEFAULT_LANGUAGE not in catalogs:
            raise ValueError("the English catalog is required")
        self.catalogs = catalogs

    @classmethod
    def load(cls) -> Catalog:
        return cls(load_catalogs())

    @property
    def languages(self) -> list[Language]:
        return [LANGUAGES[code] for code in LANGUAGES if code in self.catalogs]

    def supports(self, code: str | None) -> bool:
        return code is not None and code in self.catalogs

    def best_language(self, telegram_code: str | None) -> str:
        """The catalog language nearest to a Telegram client's language code (e.g. 'uk-UA' -> 'uk')."""
        if telegram_code:
            base = telegram_code.replace("_", "-").split("-")[0].lower()
            if base == "prs":  # Dari readers understand Farsi
                base = "fa"
            if base in self.catalogs:
                return base
        return DEFAULT_LANGUAGE

    def get(self, key: str, lang: str | None = None, /, **values: Any) -> str:
        lang = lang if lang in self.catalogs else DEFAULT_LANGUAGE
        template = self.catalogs[lang].get(key)
        if template is None:
            template = self.catalogs[DEFAULT_LANGUAGE][key]
        text = template.format(**{name: _isolate(value, lang) for name, value in values.items()})
        return _right_to_left_lines(text) if LANGUAGES.get(lang, LANGUAGES["en"]).rtl else text

    def all(self, key: str) -> dict[str, str]:
        """Every language's version of a key: used to recognise a button whatever language it was in."""
        return {lang: cat[key] for lang, cat in self.catalogs.items() if key in cat}


def _isolate(value: Any, lang: str) -> Any:
    """Keep a left-to-right name or number from reordering a right-to-left sentence.

    An isolate cannot span a line break, so a multi-line value is isolated line by line.
    """
    if isinstance(value, str) and LANGUAGES.get(lang, LANGUAGES["en"]).rtl:
        return "\n".join(f"{FSI}{line}{PDI}" if line else line for line in value.split("\n"))
    return value


def _right_to_left_lines(text: str) -> str:
    """Start every line with RLM: Telegram sets each line's direction from its first strong character,
    so a line opening with '/stop', a name or a number would otherwise be laid out left to right, with its
    full stop or question mark at the wrong end."""
    return "\n".join(line if not line or line.startswith(RLM) else f"{RLM}{line}" for line in text.split("\n"))


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@cache
def load_catalogs() -> dict[str, dict[str, str]]:
    catalogs: dict[str, dict[str, str]] = {}
    for entry in resources.files("bot.messages.locales").iterdir():
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            catalogs[entry.name.removesuffix(".toml")] = {k: str(v) for k, v in _flatten(data).items()}
    return catalogs


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
