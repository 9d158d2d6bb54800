"""After-session check-in rules: who answers, what a tap changes, which view follows, how long answers stay open.

Plain functions of plain values; bot.jobs.checkins plans and renders the messages, handlers.checkin takes the taps."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import HubSettings
from bot.domain.wellbeing import Checkin

KIND = "checkin"
PREFIX = "ci"
TALK_PREFIX = "sg"  # "I'd like someone to talk to" is handled by handlers.safeguarding
FEELINGS = ("happier", "same", "less_happy")
CONNECTED = ("yes", "a_little", "not_really")
ANSWERED_AS = ("self", "with_support", "on_behalf")
LOWEST_FEELING = "less_happy"
ABSENT = "absent"
SEND_WITHIN = timedelta(hours=12)
"""A check-in that could not go out within this time of being due (downtime) is dropped: it would be stale."""
ANSWER_WITHIN = timedelta(days=2)
"""First answers are taken until this long after the session ended; later taps are kindly refused."""

# Steps in callback data: ci:<session id>:<step>:<value>
STEP_WHO, STEP_FEELING, STEP_CONNECTED, STEP_ABSENT, STEP_CHANGE = "a", "f", "c", "x", "e"


def dedupe_key(session_id: int, member_id: int) -> str:
    return f"{KIND}:{session_id}:{member_id}"


def due_at(session_ends_at: datetime, hub: HubSettings) -> datetime:
    return session_ends_at + timedelta(minutes=hub.checkin_after_minutes)


def changes_for(step: str, value: str) -> dict[str, object] | None:
    """The columns a tap sets, or None for anything that is not a known answer."""
    if step == STEP_FEELING and value in FEELINGS:
        return {"feeling": value, "absent": False}
    if step == STEP_CONNECTED and value in CONNECTED:
        return {"connected": value, "absent": False}
    if step == STEP_ABSENT and value == ABSENT:
        return {"absent": True, "feeling": None, "connected": None}
    return None


def open_for_first_answer(session_ends_at: datetime, now: datetime) -> bool:
    return now < session_ends_at + ANSWER_WITHIN


def change_deadline(first_answered_at: datetime, window_hours: int) -> datetime:
    return first_answered_at + timedelta(hours=window_hours)


def needs_who_question(role: str, mode: str | None) -> bool:
    """Carers may answer for the person they support: ask them once who answers."""
    return role == "carer" and mode is None


def answered_as(mode: str | None) -> str:
    return mode or "self"


def view_after(checkin: Checkin, step: str, ask_connected: bool) -> str:
    """Which view follows a stored tap."""
    if checkin.absent:
        return "absent"
    if step == STEP_FEELING and ask_connected:
        return "connected"
    return "thanks"


def became_low(before: Checkin | None, after: Checkin) -> bool:
    """The lowest answer was just chosen (not merely kept while changing something else)."""
    return after.feeling == LOWEST_FEELING and (before is None or before.feeling != LOWEST_FEELING)
