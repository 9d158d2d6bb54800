"""Term measures (ONS4, loneliness): when a term's start and end sets are asked, which set comes next, and the
bounds of an answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.config import HubSettings, Term
from bot.domain.calendar import PlannedSession, sessions_between
from bot.domain.questionsets import Item, QuestionSet
from bot.domain.wellbeing import MeasureRun

INVITE_KIND = "measure_invite"
INVITE_PREFIX = "mi"
STEP_PREFIX = "ms"
POINTS = ("start", "end")
AFTER_SESSION = timedelta(hours=2)
INVITE_WINDOW = timedelta(days=14)
ANSWER_WINDOW = timedelta(days=28)


def term_points(hub: HubSettings, term: Term, cancelled_keys: set[str]) -> dict[str, PlannedSession]:
    """The sessions that mark a term's start and end: its first and last sessions that were not cancelled."""
    held = [s for s in sessions_between(hub, term.start, term.end) if s.key not in cancelled_keys]
    if not held:
        return {}
    points = {"start": held[0]}
    if len(held) > 1:
        points["end"] = held[-1]
    return points


def invite_key(hub_id: str, term: str, point: str, member_id: int | None = None) -> str:
    """The invitation's dedupe key (without the member id: the prefix shared by the whole hub)."""
    return f"{INVITE_KIND}:{hub_id}:{term}:{point}:{'' if member_id is None else member_id}"


def invite_due(session: PlannedSession) -> datetime:
    return session.ends_at + AFTER_SESSION


def next_set(sets: Sequence[QuestionSet], runs: Sequence[MeasureRun]) -> QuestionSet | None:
    """The first set not completed yet (runs are per set), or None when everything is answered."""
    done = {run.question_set for run in runs if run.complete}
    return next((qset for qset in sets if qset.id not in done), None)


def progress(sets: Sequence[QuestionSet], set_id: str, position: int) -> tuple[int, int]:
    """(question number, total) over all sets of the point, counting from 1."""
    before, total = 0, 0
    for qset in sets:
        if qset.id == set_id:
            before = total
        total += len(qset.items)
    return before + position + 1, total


def needs_language_note(member_language: str, sets: Sequence[QuestionSet]) -> bool:
    return any(qset.language != member_language for qset in sets)


def parse_value(item: Item, text: str) -> int | None:
    """A button's value if the item's scale has it; None for anything else (forged or old)."""
    if not text.lstrip("-").isdigit() or len(text) > 4:
        return None
    value = int(text)
    return value if item.accepts(value) else None

