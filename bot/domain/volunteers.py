"""Activator volunteers: which tasks a session needs, which are open, when volunteers and coordinators are told.

Plain functions of the hub's configuration, the tasks already taken and a `now`; no Telegram, no database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.config import HubSettings, VolunteerTask
from bot.domain.calendar import local_instant

REMINDER_KIND = "volunteer_tasks"
GAP_KIND = "volunteer_gap"


@dataclass(frozen=True, slots=True)
class TakenTask:
    task: str
    member_id: int
    first_name: str


def tasks_for(hub: HubSettings, session_kind: str) -> list[VolunteerTask]:
    """The tasks this hub needs at a session of this kind, in the configured order."""
    return [task for task in hub.volunteers.tasks if not task.kinds or session_kind in task.kinds]


def open_tasks(tasks: Sequence[VolunteerTask], taken: Mapping[str, TakenTask]) -> list[VolunteerTask]:
    return [task for task in tasks if task.id not in taken]


def held_by(taken: Mapping[str, TakenTask], member_id: int) -> list[str]:
    return [task for task, holder in taken.items() if holder.member_id == member_id]


def reminder_due(hub: HubSettings, session_day: date, starts_at: datetime) -> datetime:
    """Volunteers' reminder: `reminder_days_before` the session's local day at `reminder_at`, hub time; never
    later than the start."""
    day = session_day - timedelta(days=hub.volunteers.reminder_days_before)
    return min(local_instant(day, hub.volunteers.reminder_at, hub), starts_at)


def gap_notice_due(hub: HubSettings, starts_at: datetime) -> datetime:
    """Coordinators' notice of untaken tasks: `gap_notice_days_before` whole days before the start."""
    return starts_at - timedelta(days=hub.volunteers.gap_notice_days_before)


def may_take(held: int, limit: int) -> bool:
    return held < limit


def session_minutes(starts_at: datetime, ends_at: datetime) -> int:
    """A volunteer ticked present on the register is credited with the session's whole length."""
    return max(0, int((ends_at - starts_at).total_seconds() // 60))


def hours_text(minutes: int) -> str:
    """Hours with at most one decimal: 90 minutes is "1.5", 180 is "3"."""
    hours = round(minutes / 60, 1)
    return f"{hours:g}"
