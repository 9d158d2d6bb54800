"""Shared steps for the check-in, term-measure and safeguarding journeys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.domain.consent import CONTACT, TEXT_VERSIONS, WELLBEING
from bot.domain.people import Member
from bot.domain.sessions import Session
from bot.simulator.faults import Fault

ROLE_LABELS = {"family": "Family member", "carer": "Carer", "participant": "I take part myself"}
CHECKIN_QUESTION = "Compared with when you arrived, how do you feel?"


async def join(bot: Any, user: Any, *, role: str = "participant", wellbeing: bool = True, hub: str = "woking",
               via_chat: bool = False, language: str = "en") -> Member:
    """A member of the hub with no companions: through the real joining conversation, or (faster, for tests
    about what comes after) written as that conversation would write it."""
    if via_chat:
        await user.send(f"/start {hub}")
        await user.tap("English")
        await user.tap("Yes, 16 or older")
        await user.tap("Yes, that is fine")
        await user.tap("Yes, ask me" if wellbeing else "No, thank you")
        await user.tap(ROLE_LABELS[role])
        await user.tap("Just me")
        member = await bot.store.member_by_user(user.id)
        assert member is not None
        return member
    consents = {CONTACT: TEXT_VERSIONS[CONTACT]}
    if wellbeing:
        consents[WELLBEING] = TEXT_VERSIONS[WELLBEING]
    return await bot.store.complete_join(
        telegram_user_id=user.id, chat_id=user.id, first_name=user.first_name, language=language, role=role,
        hub_id=hub, consents=consents, companions=[], now=bot.services.clock.now(),
    )


async def next_session(bot: Any, hub: str = "woking") -> Session:
    sessions = await bot.store.upcoming_sessions(hub, bot.services.clock.now(), 1)
    assert sessions, f"no upcoming session stored for {hub}"
    return sessions[0]


def checkin_due(session: Session, minutes: int = 15) -> Any:
    return session.ends_at + timedelta(minutes=minutes)


async def session_ends_and_checkins_go_out(bot: Any, clock: Any, session: Session) -> Any:
    """Move to the moment the hub's check-in is due and run the dispatcher."""
    clock.set(checkin_due(session))
    return await bot.dispatch()


def checkin_messages(user: Any) -> list[str]:
    return [text for text in user.texts() if CHECKIN_QUESTION in text or "connected to people" in text
            or "Thank you! Your answer is saved." in text]


def taps_answered_too_late(api: Any, monkeypatch: Any) -> None:
    """From now on Telegram refuses every tap's answer, as it does a tap answered too late; the rest goes on."""
    decide = api.faults.decide

    def too_old(method: str, chat_id: int | None) -> Fault | None:
        if method == "answerCallbackQuery":
            return Fault("error", 400, "Bad Request: query is too old and response timeout expired"
                                       " or query ID is invalid")
        return decide(method, chat_id)

    monkeypatch.setattr(api.faults, "decide", too_old)
