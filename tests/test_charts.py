"""The chart is a real PNG, with or without weeks to show, and hides small numbers when it may be forwarded."""

from __future__ import annotations

import struct
from datetime import date, timedelta

from bot.reports.charts import PNG_SIGNATURE, ChartWords, attendance_chart
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


def test_weeks_are_named_by_date_in_the_readers_language_and_percentages_have_their_own_axis():
    from bot.reports.charts import chart_figure

    figure = chart_figure(weeks([14, 13, 15], [7, 7, 8], [9, 9, 9]), WORDS)
    bars, line = figure.axes
    assert [label.get_text() for label in bars.get_xticklabels()] == ["15 Sep", "22 Sep", "29 Sep"]
    assert line.get_ylabel() == "% happier"
    assert [line.yaxis.get_major_formatter()(tick, 0) for tick in line.get_yticks()] == [
        "0%", "25%", "50%", "75%", "100%"]
    figure = chart_figure(weeks([14], [7], [9]), WORDS, lang="uk")
    assert [label.get_text() for label in figure.axes[0].get_xticklabels()] == ["15 вер."]


def test_the_chart_starts_at_the_first_week_anyone_came():
    from bot.reports.charts import chart_figure, plotted_weeks

    data = weeks([0, 0, 6, 0, 7], [0, 0, 4, 0, 5], [0, 0, 6, 0, 6])
    assert [w.week for w in plotted_weeks(data)] == [3, 4, 5]  # a week nobody came after the start stays
    figure = chart_figure(data, WORDS)
    assert [label.get_text() for label in figure.axes[0].get_xticklabels()] == ["29 Sep", "6 Oct", "13 Oct"]
    assert plotted_weeks(weeks([0, 0], [0, 0], [0, 0])) == []
