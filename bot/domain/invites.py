"""Invite codes and join requests: what a hub's invite link carries and who is waiting for a coordinator's yes."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

# No 0/o, 1/l: a coordinator may have to read a code aloud or type it from a poster.
CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
CODE_LENGTH = 12  # 32**12 = 2**60 codes: not guessable, and short enough for a QR code a phone reads at once
_CODE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


def new_invite_code() -> str:
    """A fresh random code for a hub's invite link (t.me/<bot>?start=<code>)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def looks_like_invite_code(payload: str) -> bool:
    """Whether a deep-link payload has the shape of an invite code (it may still be unknown or old)."""
    return bool(_CODE.match(payload))


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def within_party_limit(companions_coming: int, max_party: int | None) -> bool:
    """Whether a member may bring this many companions to one session of a hub (max_party: None = no limit)."""
    return max_party is None or companions_coming <= max_party


@dataclass(frozen=True, slots=True)
class JoinRequest:
    id: int
    member_id: int
    hub_id: str
    requested_at: datetime
    decided_at: datetime | None
    decision: str | None  # "accepted" | "declined" | None while open

    @property
    def open(self) -> bool:
        return self.decided_at is None
