"""The summary's chart: people who came (bars) and % happier leaving (line), week by week, as PNG bytes.

Uses matplotlib's object API on the Agg canvas (no pyplot, no global state, safe in any thread).
Bars carry their numbers and the line has markers, so nothing depends on telling colours apart.
The x axis names each week by the date of its session, the percentages have their own labelled axis on the right,
and the chart starts at the first week anyone came. Small cells are hidden as in the forwardable text: a bar
under 5 is not drawn but labelled "<5", and a week whose happier share is suppressed has no point.
"""

from __future__ import annotations

import asyncio
import functools
import io
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from babel.dates import format_date

from bot.reports.summary import SUPPRESS_BELOW, Ratio
from storage.snapshot import WeekTally

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LINE_COLOUR = "#b5501c"

T = TypeVar("T")

# Drawing takes 0.3 s (0.9 s the first time, loading matplotlib): on the event loop that is 0.3 s in which no tap
# is answered and polling waits (issue 14). In a worker *thread* the loop still shares Python's one lock (the GIL)
# with the drawing: ten charts in a few seconds held every tap for up to two seconds (docs/benchmarks.md, "Taps
# while charts are drawn"). So charts are drawn in a worker *process*, on the other core, one at a time (memory
# stays that of one figure, in that process, not in the bot's). Other heavy work whose inputs cannot cross to a
# process (CSV from database rows, a QR code) runs in the worker thread.
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imm-heavy")
_DRAWER: ProcessPoolExecutor | None = None


async def off_loop(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a heavy, self-contained function (a file, an image) in the worker thread and wait for it."""
    return await asyncio.get_running_loop().run_in_executor(_WORKER, functools.partial(work, *args, **kwargs))


async def off_process(draw: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a module-level function whose arguments and result can be pickled (a chart) in the drawing process.

    The process is started on first use ("spawn": a fresh interpreter, never a fork of a threaded bot) and kept.
    If it dies (killed, out of memory) the work is done in the worker thread instead, and a new process is
    started next time.
    """
    global _DRAWER
    call = functools.partial(draw, *args, **kwargs)
    loop = asyncio.get_running_loop()
    if _DRAWER is None:
        _DRAWER = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=_yield_to_the_bot)
    try:
        return await loop.run_in_executor(_DRAWER, call)
    except BrokenProcessPool:
        _DRAWER = None
        return await loop.run_in_executor(_WORKER, call)


def _yield_to_the_bot() -> None:
    """In the drawing process: a lower CPU priority, so that on a busy machine taps get the CPU before charts."""
    os.nice(10)


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


def plotted_weeks(weeks: Sequence[WeekTally]) -> list[WeekTally]:
    """The weeks worth a bar: from the first in which anyone came (a term's first weeks before anyone joined
    would show bars of 0 that look like nobody turned up)."""
    first = next((index for index, week in enumerate(weeks) if week.attended or week.answers), len(weeks))
    return list(weeks[first:])


def week_label(week: WeekTally, lang: str = "en") -> str:
    """The week's first session day, "12 Jan", in the reader's language: dates say more than "Week 3"."""
    return format_date(week.first_day, "d MMM", locale=lang)


def attendance_chart(weeks: Sequence[WeekTally], words: ChartWords, *, forwardable: bool = True,
                     lang: str = "en") -> bytes:
    return _png(chart_figure(weeks, words, forwardable=forwardable, lang=lang))


def chart_figure(weeks: Sequence[WeekTally], words: ChartWords, *, forwardable: bool = True,
                 lang: str = "en") -> Figure:
    """The chart as a matplotlib Figure (attendance_chart makes it a PNG; tests read its axes)."""
    # matplotlib (with numpy) is imported on first use: it would otherwise add about 60 MB to every running
    # bot, which draws a chart once a week (docs/benchmarks.md, memory).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_title(words.title, fontsize=12)
    weeks = plotted_weeks(weeks)
    if not weeks:
        axes.text(0.5, 0.5, words.empty, ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return figure
    xs = list(range(len(weeks)))
    shown = [0 if forwardable and 0 < w.attended < SUPPRESS_BELOW else w.attended for w in weeks]
    bars = axes.bar(xs, shown, color="#7aa6d8", edgecolor="#1f3b5c", hatch="//", label=words.attended)
    for bar, week, height in zip(bars, weeks, shown, strict=True):
        label = words.hidden if height == 0 and week.attended else str(week.attended)
        axes.annotate(label, (bar.get_x() + bar.get_width() / 2, height), ha="center", va="bottom",
                      xytext=(0, 2), textcoords="offset points", fontsize=9)
    axes.set_xlabel(words.week)
    axes.set_ylabel(words.people)
    axes.set_xticks(xs, [week_label(week, lang) for week in weeks])
    axes.set_xlim(-0.6, max(len(xs), 4) - 0.4)  # a first week or two stay bars, not a wall
    # Bars use the lower part of the plot and the happier line (mostly high) the upper part, so they rarely cross.
    axes.set_ylim(0, max([*shown, 1]) * 1.8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    # The percentages have their own axis on the right, 0 % to 100 %, in the line's colour and named for it.
    line = axes.twinx()
    points = [(x, Ratio(w.happier, w.answers)) for x, w in zip(xs, weeks, strict=True) if w.answers]
    if forwardable:
        points = [(x, ratio) for x, ratio in points if not ratio.suppressed()]
    line.plot([x for x, _ in points], [ratio.percent for _, ratio in points], color=LINE_COLOUR, marker="o",
              linewidth=2, label=words.happier)
    line.set_ylim(0, 105)
    line.set_yticks([0, 25, 50, 75, 100])
    line.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
    line.set_ylabel(words.percent, color=LINE_COLOUR)
    line.tick_params(axis="y", colors=LINE_COLOUR)
    line.spines["right"].set_color(LINE_COLOUR)
    line.spines["right"].set_linewidth(1.5)
    handles = [bars, *line.get_lines()]
    figure.legend(handles, [words.attended, words.happier], loc="lower center", ncol=2, fontsize=9, frameon=False)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
