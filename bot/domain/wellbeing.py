"""Wellbeing answers: check-ins, term-measure runs and safeguarding alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Checkin:
    id: int
    session_id: int
    hub_id: str
    member_id: int | None
    feeling: str | None  # happier | same | less_happy
    connected: str | None  # yes | a_little | not_really
    absent: bool
    answered_as: str  # self | with_support | on_behalf
    first_answered_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CheckinTarget:
    """Someone who said Yes or Maybe to a session that has ended, and may be asked how it went."""

    session_id: int
    hub_id: str
    ends_at: datetime
    member_id: int
    chat_id: int


@dataclass(frozen=True, slots=True)
class MeasureRun:
    id: int
    member_id: int | None
    hub_id: str
    term: str
    point: str  # start | end
    question_set: str
    answered_as: str
    position: int  # index of the next item to ask
    started_at: datetime
    paused_at: datetime | None
    completed_at: datetime | None

    @property
    def complete(self) -> bool:
        return self.completed_at is not None


@dataclass(frozen=True, slots=True)
class MeasureAnswer:
    item: str
    scale: str
    value: int | None
    skipped: bool
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    hub_id: str
    member_id: int | None
    session_id: int | None
    trigger: str  # talk_request; low_checkin / low_measure are allowed by the schema but not raised
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    repeats: int
    escalated_at: datetime | None

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None
