"""People: members, the companions they bring, their consents and half-finished joins."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    telegram_user_id: int
    chat_id: int
    first_name: str
    language: str
    role: str
    reachable: bool
    paused: bool


@dataclass(frozen=True, slots=True)
class Companion:
    id: int
    member_id: int
    name: str
    age_band: str
    relationship: str


@dataclass(frozen=True, slots=True)
class NewCompanion:
    name: str
    age_band: str
    relationship: str


@dataclass(frozen=True, slots=True)
class Consent:
    kind: str
    text_version: str
    given_at: datetime
    withdrawn_at: datetime | None

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


@dataclass(frozen=True, slots=True)
class JoinDraft:
    telegram_user_id: int
    hub_id: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)
