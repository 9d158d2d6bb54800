"""Drawing the summary's chart with matplotlib, from a plan of plain numbers and words (bot.reports.charts).

This module imports nothing of the project, so that the child process that draws (`python -m
bot.reports.drawing`, started by bot.reports.charts.draw) loads matplotlib and little else: the plan arrives as
JSON on stdin and the PNG leaves on stdout. Uses matplotlib's object API on the Agg canvas (no pyplot, no global
state). Bars carry their numbers and the line has markers, so nothing depends on telling colours apart.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True, slots=True)
class ChartWords:
    title: str
    attended: str  # legend: people who came
    happier: str  # legend: % happier leaving
    week: str  # x axis
    people: str  # left y axis
    percent: str  # right y axis
    hidden: str  # what a hidden small bar shows ("<5")
    empty: str  # shown when there is nothing to plot


def render(plan: dict[str, Any]) -> bytes:
    """The PNG of a plan: words, xs (weeks), bars (heights drawn), labels (over each bar), line_x, line_y (%)."""
    # matplotlib (with numpy) is imported here, never at import: only the drawing child (and tests) load it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    words = ChartWords(**plan["words"])
    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_title(words.title, fontsize=12)
    xs, shown = plan["xs"], plan["bars"]
    if not xs:
        axes.text(0.5, 0.5, words.empty, ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return _png(figure)
    bars = axes.bar(xs, shown, color="#7aa6d8", edgecolor="#1f3b5c", hatch="//", label=words.attended)
    for bar, label, height in zip(bars, plan["labels"], shown, strict=True):
        axes.annotate(label, (bar.get_x() + bar.get_width() / 2, height), ha="center", va="bottom",
                      xytext=(0, 2), textcoords="offset points", fontsize=9)
    axes.set_xlabel(words.week)
    axes.set_ylabel(words.people)
    axes.set_xticks(xs)
    # Bars use the lower part of the plot and the happier line (mostly high) the upper part, so they rarely cross.
    axes.set_ylim(0, max([*shown, 1]) * 1.8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    line = axes.twinx()
    line.plot(plan["line_x"], plan["line_y"], color="#b5501c", marker="o", linewidth=2, label=words.happier)
    line.set_ylim(0, 105)
    line.set_ylabel(words.percent)
    handles = [bars, *line.get_lines()]
    figure.legend(handles, [words.attended, words.happier], loc="lower center", ncol=2, fontsize=9, frameon=False)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    return _png(figure)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def main() -> None:
    """One chart: its plan as JSON on stdin, the PNG on stdout."""
    png = render(json.loads(sys.stdin.buffer.read()))
    sys.stdout.buffer.write(png)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
