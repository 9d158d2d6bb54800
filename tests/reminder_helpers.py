"""Shortcuts for the reminder, RSVP and coordinator tests: members who already joined, sessions, messages seen."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.consent import TEXT_VERSIONS
from bot.domain.people import Member, NewCompanion
from bot.domain.sessions import Session
from bot.simulator.localapi import LocalBotApi


async def add_member(
    bot, user_id: int, name: str, *, hubs: Sequence[str] = ("woking",), language: str = "en",
    companions: Sequence[tuple[str, str]] = (), now: datetime | None = None,
) -> Member:
    """Someone who has already joined (through the journey tested in test_join.py), with companions (name, band)."""
    now = now or bot.services.clock.now()
    member = await bot.store.complete_join(
        telegram_user_id=user_id, chat_id=user_id, first_name=name, language=language,
        role="family" if companions else "participant", hub_id=hubs[0],
        consents={"contact": TEXT_VERSIONS["contact"]},
        companions=[NewCompanion(cname, band, "child") for cname, band in companions], now=now,
    )
    for hub in hubs[1:]:
        await bot.store.add_membership(member.id, hub, now)
    return member


async def next_session(bot, hub_id: str = "woking") -> Session:
    sessions = await bot.store.upcoming_sessions(hub_id, bot.services.clock.now(), 1)
    assert sessions, f"no upcoming session for {hub_id}"
    return sessions[0]


def reminders_to(api: LocalBotApi, chat_id: int) -> list[str]:
    """Texts of the reminder cards (messages with Yes / No / Maybe buttons) delivered to a chat."""
    found = []
    for call in api.sent_ok("sendMessage", chat_id):
        markup = call.params.get("reply_markup") or {}
        data = [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]
        if any(d.startswith("r:") and d.endswith(":y") for d in data):
            found.append(call.text or "")
    return found


def answered(calls) -> bool:
    return any(call.method == "answerCallbackQuery" for call in calls)


def edits(calls) -> list:
    return [call for call in calls if call.method.startswith("editMessage")]
