"""Co-design results in words: one question's counts, for the coordinators, the weekly summary and the report.

Anything meant to be forwarded hides small cells the way the weekly summary does (bot.reports.summary.Render):
a count of 1 to 4 shows as "<5", and when exactly one answer's count is hidden, the next smallest goes with it,
so subtracting from the number who answered cannot give it away.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.domain.codesign import QuestionTally


class Render(Protocol):
    """What bot.reports.summary.Render offers (named here so the summary can use these lines without a cycle)."""

    forwardable: bool

    def t(self, key: str, **values: object) -> str: ...

    def count(self, n: int) -> str: ...

    def counts(self, values: Sequence[int]) -> list[str]: ...


def option_lines(tally: QuestionTally, r: Render, key: str = "codesign.results_option") -> list[str]:
    """One line per answer, in the order they were offered, with its count (hidden when small and forwardable)."""
    counts = r.counts(list(tally.counts))
    return [r.t(key, option=option, count=count)
            for option, count in zip(tally.question.options, counts, strict=True)]


def results_message(tally: QuestionTally, hub_name: str, r: Render) -> str:
    """The results a coordinator gets when a question closes: forwardable (small numbers hidden) or exact."""
    question = tally.question
    note = r.t("summary.forward_note") if r.forwardable else r.t("codesign.results_private")
    lines = [r.t("codesign.results_title", hub=hub_name, question=question.text), note, "",
             r.t("codesign.results_asked", asked=r.count(question.recipients), answered=r.count(tally.answered)),
             *option_lines(tally, r)]
    return "\n".join(lines)


def summary_lines(tallies: Sequence[QuestionTally], ideas: int, still_open: int, r: Render) -> list[str]:
    """The weekly summary's co-design part: questions that closed in the week, ideas sent, questions open.
    Empty when there is nothing to say, so a hub that does not use co-design sees no new heading."""
    if not tallies and not ideas and not still_open:
        return []
    lines = [r.t("codesign.summary_heading")]
    for tally in tallies:
        lines.append(r.t("codesign.summary_question", question=tally.question.text,
                         answered=r.count(tally.answered)))
        lines += option_lines(tally, r)
    lines.append(r.t("codesign.summary_ideas", count=r.count(ideas)))
    if still_open:
        lines.append(r.t("codesign.summary_open", count=still_open))
    return lines
