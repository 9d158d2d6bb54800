"""People: members, the companions they bring, their consents and half-finished joins."""

from __future__ import annotations

import unicodedata
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


MAX_NAME = 32
_NAME_SIGNS = frozenset(" -'’.")
_EMOJI_GLUE = frozenset("\u200d\ufe0f\ufe0e")  # zero-width joiner and variation selectors inside emoji


def name_problem(text: str) -> str | None:
    """Why `text` is not a first name or nickname ("empty", "too_long", "not_a_name"), or None when it is one.

    A name has letters of any script; it may also hold emoji ("Lily 🌸"), spaces, hyphens, apostrophes and dots.
    Digits and other signs are refused: a phone number or an address typed by mistake must not become a name.
    """
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not name:
        return "empty"
    if len(name) > MAX_NAME:
        return "too_long"
    if name.startswith("/") or not any(char.isalpha() for char in name):
        return "not_a_name"
    for char in name:
        category = unicodedata.category(char)
        if not (char.isalpha() or char in _NAME_SIGNS or char in _EMOJI_GLUE or category.startswith("M")
                or category in ("So", "Sk")):
            return "not_a_name"
    return None


def clean_name(text: str) -> str | None:
    """The name as it will be stored (spaces folded), or None when it is not one (see name_problem)."""
    return None if name_problem(text) else " ".join(unicodedata.normalize("NFC", text).split())
