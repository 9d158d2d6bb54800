"""The term chart as inline SVG, drawn on the server in microseconds (no matplotlib, no JavaScript).

The same picture as the weekly summary's PNG (bot.reports.charts): people who came each week as bars with
their numbers, % happier leaving as a line with markers, small cells hidden the same way (a bar under 5 is not
drawn but labelled "<5"; a suppressed share has no point). Colours come from the page's CSS (Telegram's theme),
bars are hatched and points marked, so nothing depends on telling colours apart. The SVG has role="img", a
<title> and a <desc>; the page puts the same figures in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from bot.reports.summary import SUPPRESS_BELOW, Ratio
from storage.snapshot import WeekTally

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 44, 44, 16, 40


@dataclass(frozen=True, slots=True)
class SvgWords:
    title: str
    description: str
    hidden: str  # "<5"
    week: str  # x axis
    empty: str


def term_chart(weeks: Sequence[WeekTally], words: SvgWords, chart_id: str = "term-chart") -> str:
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    head = (f'<svg id="{chart_id}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-labelledby="{title_id} {desc_id}" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{title_id}">{escape(words.title)}</title>'
            f'<desc id="{desc_id}">{escape(words.description)}</desc>'
            '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" class="bar-fill"/>'
            '<line x1="0" y1="0" x2="0" y2="6" class="bar-hatch"/></pattern></defs>')
    if not weeks:
        return (head + f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle" class="chart-text">'
                f'{escape(words.empty)}</text></svg>')
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    shown = [0 if 0 < w.attended < SUPPRESS_BELOW else w.attended for w in weeks]
    top = max([*shown, 1]) * 1.8  # bars in the lower part, the happier line (mostly high) in the upper part
    step = plot_w / len(weeks)
    bar_w = max(2.0, step * 0.6)
    parts = [head, f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" class="axis"/>']
    points = []
    for index, (week, height) in enumerate(zip(weeks, shown, strict=True)):
        centre = LEFT + step * (index + 0.5)
        bar_h = plot_h * height / top
        y = TOP + plot_h - bar_h
        if height:
            parts.append(f'<rect x="{centre - bar_w / 2:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" '
                         'fill="url(#hatch)" class="bar"/>')
        label = words.hidden if height == 0 and week.attended else str(week.attended)
        parts.append(f'<text x="{centre:.1f}" y="{y - 4:.1f}" text-anchor="middle" class="chart-text">'
                     f'{escape(label)}</text>')
        parts.append(f'<text x="{centre:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" class="chart-text">'
                     f'{week.week}</text>')
        ratio = Ratio(week.happier, week.answers)
        if week.answers and not ratio.suppressed() and ratio.percent is not None:
            points.append((centre, TOP + plot_h - plot_h * ratio.percent / 105))
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" class="chart-text">'
                 f'{escape(words.week)}</text>')
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" class="line"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" class="point"/>' for x, y in points]
    parts.append("</svg>")
    return "".join(parts)
