"""Messages the bot owes: one ledger row each (see bot.delivery)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class NewDelivery:
    kind: str
    dedupe_key: str
    chat_id: int
    due_at: datetime
    member_id: int | None = None
    hub_id: str | None = None
    session_id: int | None = None
    expires_at: datetime | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    kind: str
    dedupe_key: str
    chat_id: int
    due_at: datetime
    member_id: int | None
    hub_id: str | None
    session_id: int | None
    expires_at: datetime | None
    payload: dict[str, Any]
    state: str
    attempts: int
    telegram_message_id: int | None = None
