"""Co-design: a coordinator's question to a hub with two to six answers, and members' ideas in their own words.

Pure rules and types: what a question and its answers may look like, when it closes, what a tap on an answer
means (a first answer, a change, the same answer again, or too late), and the tally of one question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

QUESTION_PREFIX = "cq"
"""Members' answer buttons: `cq:<question id>:<answer index>`."""
IDEA_PREFIX = "idea"
"""The "💡 I have an idea" button and the hub choice: `idea:new`, `idea:h<index>`, `idea:x`."""

MIN_OPTIONS, MAX_OPTIONS = 2, 6
MAX_QUESTION = 200
MAX_OPTION = 40
MAX_IDEA = 1000
DEFAULT_LONGEST_OPEN = timedelta(days=28)

AnswerOutcome = Literal["answered", "changed", "same", "closed", "no_such_answer"]


@dataclass(frozen=True, slots=True)
class Question:
    id: int
    hub_id: str
    text: str
    options: tuple[str, ...]
    created_by: int
    created_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    closed_by: int | None
    recipients: int

    def is_open(self, now: datetime) -> bool:
        return self.closed_at is None and now < self.closes_at

    def due_to_close(self, now: datetime) -> bool:
        return self.closed_at is None and now >= self.closes_at


@dataclass(frozen=True, slots=True)
class QuestionTally:
    """How many members chose each answer of one question (answers of erased members are gone)."""

    question: Question
    counts: tuple[int, ...]

    @property
    def answered(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True, slots=True)
class Idea:
    id: int
    hub_id: str
    member_id: int | None
    text: str | None
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class AnswerResult:
    outcome: AnswerOutcome
    choice: int | None  # the member's answer now (None if they have none)
    previous: int | None = None


def parse_options(text: str) -> list[str] | str:
    """The answers a coordinator typed, one a line; or the catalog key (codesign.options_*) saying what is wrong."""
    options = [line.strip().lstrip("•-*").strip() for line in text.splitlines()]
    options = [option for option in options if option]
    if len(options) < MIN_OPTIONS or len(options) > MAX_OPTIONS:
        return "codesign.options_count"
    if any(len(option) > MAX_OPTION for option in options):
        return "codesign.options_long"
    if len({option.casefold() for option in options}) != len(options):
        return "codesign.options_twice"
    return options


def question_problem(text: str) -> str | None:
    """None when the question's words will do, else the catalog key saying what is wrong."""
    return "codesign.question_long" if not text.strip() or len(text.strip()) > MAX_QUESTION else None


def answer_outcome(question: Question | None, choice: int, previous: int | None, now: datetime) -> AnswerOutcome:
    """What a tap on answer `choice` does, given the member's `previous` answer (None: not answered yet)."""
    if question is None or not 0 <= choice < len(question.options):
        return "no_such_answer"
    if not question.is_open(now):
        return "closed"
    if previous is None:
        return "answered"
    return "same" if previous == choice else "changed"


ClosingChoice = Literal["next_session", "day", "three_days", "week", "by_hand"]
CLOSING_CHOICES: tuple[ClosingChoice, ...] = ("next_session", "day", "three_days", "week", "by_hand")


def closing_time(choice: str, now: datetime, next_session: datetime | None,
                 longest: timedelta = DEFAULT_LONGEST_OPEN) -> datetime | None:
    """When a question asked at `now` closes for the coordinator's `choice`; None for an unknown choice or a
    next session that is not there. "By hand" still closes by itself after `longest`, so no question is open
    for ever."""
    spans = {"day": timedelta(days=1), "three_days": timedelta(days=3), "week": timedelta(days=7),
             "by_hand": longest}
    if choice == "next_session":
        return next_session if next_session is not None and next_session > now else None
    span = spans.get(choice)
    return now + min(span, longest) if span is not None else None


def tally(question: Question, choices: Sequence[int]) -> QuestionTally:
    counts = [0] * len(question.options)
    for choice in choices:
        if 0 <= choice < len(counts):
            counts[choice] += 1
    return QuestionTally(question, tuple(counts))
