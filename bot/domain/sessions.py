"""Sessions as stored, and a member's invitation to one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.people import Member


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    key: str
    hub_id: str
    kind: str
    title: str
    term: str | None
    starts_at: datetime
    ends_at: datetime
    local_date: date
    cancelled_at: datetime | None
    cancel_reason: str | None

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    def open_at(self, now: datetime) -> bool:
        """Answers (RSVPs, reminders) still make sense: not cancelled and not started."""
        return not self.cancelled and now < self.starts_at


@dataclass(frozen=True, slots=True)
class Invitation:
    """One member's view of one session: what a reminder or a /next card shows, and whether to send it."""

    member: Member
    session: Session
    in_hub: bool  # still a member of the session's hub
    contact_consent: bool
    answer: str | None  # yes | no | maybe, None before answering
    all_companions: bool
    companion_ids: tuple[int, ...]  # chosen companions when all_companions is False
    waitlist_position: int | None  # 1 = first in line; None when not waiting


@dataclass(frozen=True, slots=True)
class Announcement:
    id: int
    hub_id: str
    text: str
    created_by: int
    created_at: datetime
    recipients: int
