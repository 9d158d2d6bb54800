"""The chart is a real PNG, with or without weeks to show, and hides small numbers when it may be forwarded; the
bot draws it in a child process, so matplotlib never loads into the bot."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
from datetime import date, timedelta

from bot.reports.charts import PNG_SIGNATURE, ChartWords, attendance_chart, draw
from storage.snapshot import WeekTally

WORDS = ChartWords("Woking: Autumn 2026", "People who came", "% happier leaving", "Week", "People", "% happier",
                   "<5", "No sessions yet")


def png_size(content: bytes) -> tuple[int, int]:
    assert content.startswith(PNG_SIGNATURE)
    assert content[12:16] == b"IHDR"
    return struct.unpack(">II", content[16:24])


def weeks(attended: list[int], happier: list[int], answers: list[int]) -> list[WeekTally]:
    return [WeekTally(n + 1, date(2026, 9, 15) + timedelta(weeks=n), a, h, s)
            for n, (a, h, s) in enumerate(zip(attended, happier, answers, strict=True))]


def test_a_term_chart_is_an_800_by_450_png():
    content = attendance_chart(weeks([14, 13, 3, 15], [7, 7, 2, 8], [9, 9, 3, 9]), WORDS)
    assert png_size(content) == (800, 450)
    assert len(content) > 10_000


def test_an_empty_chart_still_renders():
    assert png_size(attendance_chart([], WORDS)) == (800, 450)


def test_small_weeks_are_drawn_differently_when_the_chart_may_be_forwarded():
    data = weeks([14, 3], [7, 2], [9, 3])
    assert attendance_chart(data, WORDS, forwardable=True) != attendance_chart(data, WORDS, forwardable=False)


async def test_the_bot_draws_the_same_chart_in_a_child_process():
    data = weeks([14, 3, 15], [7, 2, 8], [9, 3, 9])
    assert png_size(await draw(data, WORDS)) == (800, 450)
    assert png_size(await draw([], WORDS)) == (800, 450)


def test_drawing_a_chart_leaves_matplotlib_out_of_the_bots_process():
    script = textwrap.dedent("""
        import asyncio, sys
        from datetime import date
        from bot.reports.charts import ChartWords, draw
        from storage.snapshot import WeekTally
        words = ChartWords("t", "a", "h", "w", "p", "%", "<5", "e")
        png = asyncio.run(draw([WeekTally(1, date(2026, 9, 15), 12, 7, 9)], words))
        assert png.startswith(b"\\x89PNG"), png[:20]
        assert not [name for name in sys.modules if name.startswith(("matplotlib", "numpy"))], "loaded in-process"
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=110)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
