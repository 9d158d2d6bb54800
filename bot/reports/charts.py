"""The summary's chart: people who came (bars) and % happier leaving (line), week by week, as PNG bytes.

Small cells are hidden as in the forwardable text: a bar under 5 is not drawn but labelled "<5", and a
week whose happier share is suppressed has no point. What to draw is worked out here (`plan`); the drawing
itself (bot.reports.drawing, matplotlib) runs in a child process (`draw`), so matplotlib never loads into the bot.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.reports.drawing import ChartWords, render
from bot.reports.summary import SUPPRESS_BELOW, Ratio
from storage.snapshot import WeekTally

__all__ = ["PNG_SIGNATURE", "ChartError", "ChartWords", "attendance_chart", "draw", "plan"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHILD_TIMEOUT = 120.0  # seconds: a child that has not drawn by then is killed (a chart takes about a second)
_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds the `bot` package


class ChartError(RuntimeError):
    """The drawing child failed: its exit code and the end of what it wrote to stderr."""


def plan(weeks: Sequence[WeekTally], words: ChartWords, *, forwardable: bool = True) -> dict[str, Any]:
    """What to draw, as plain numbers and words (JSON for the drawing child)."""
    xs = [week.week for week in weeks]
    shown = [0 if forwardable and 0 < w.attended < SUPPRESS_BELOW else w.attended for w in weeks]
    labels = [words.hidden if height == 0 and week.attended else str(week.attended)
              for week, height in zip(weeks, shown, strict=True)]
    points = [(w.week, Ratio(w.happier, w.answers)) for w in weeks if w.answers]
    if forwardable:
        points = [(x, ratio) for x, ratio in points if not ratio.suppressed()]
    return {"words": asdict(words), "xs": xs, "bars": shown, "labels": labels,
            "line_x": [x for x, _ in points], "line_y": [ratio.percent for _, ratio in points]}


def attendance_chart(weeks: Sequence[WeekTally], words: ChartWords, *, forwardable: bool = True) -> bytes:
    """The chart drawn in this process (tests; the bot uses `draw`)."""
    return render(plan(weeks, words, forwardable=forwardable))


async def draw(weeks: Sequence[WeekTally], words: ChartWords, *, forwardable: bool = True) -> bytes:
    """The chart drawn in a child process that exits once the PNG is made; the event loop goes on meanwhile.

    matplotlib with numpy costs the process that loads it about 55 MB for good (issue 12's memory figure: the
    first weekly summary raised the bot from 74 to 129 MB). Drawn in a thread, that memory stayed in the bot; a
    fresh `python -m bot.reports.drawing` per chart (about a second, once a week per hub) takes it away with it.
    """
    request = json.dumps(plan(weeks, words, forwardable=forwardable)).encode()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.reports.drawing", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )
    try:
        png, errors = await asyncio.wait_for(child.communicate(request), CHILD_TIMEOUT)
    except BaseException:
        if child.returncode is None:
            child.kill()
            await child.wait()
        raise
    if child.returncode != 0 or not png.startswith(PNG_SIGNATURE):
        tail = errors.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise ChartError(f"the chart could not be drawn (exit {child.returncode}): {' / '.join(tail)}")
    return png
