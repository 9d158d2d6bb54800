"""The per-tap shortcuts skip only what they may: a member seen writing is still reachable again after a
block, and a tap on a session without a capacity still moves everyone waiting up."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import START
from tests.reminder_helpers import add_member, next_session


async def test_a_member_who_wrote_then_blocked_the_bot_is_reachable_again_when_they_write(bot, api):
    await add_member(bot, 841, "Dee")
    dee = api.user(841, "Dee")
    await dee.send("/help")  # seen writing: no write is needed for her next messages
    api.faults.blocked_chats.add(841)
    report = await bot.dispatch()
    assert report.failed == 1 and not (await bot.store.member_by_user(841)).reachable
    api.faults.blocked_chats.discard(841)
    await dee.send("/help")
    assert (await bot.store.member_by_user(841)).reachable


async def test_without_a_capacity_a_tap_moves_everyone_waiting_up(bot):
    first = await add_member(bot, 851, "Eve")
    second = await add_member(bot, 852, "Fin")
    late = await add_member(bot, 853, "Gus")
    session = await next_session(bot)
    store = bot.store
    # The hub had a capacity of one when they answered: Fin waits. Then the capacity was removed.
    await store.answer_rsvp(session.id, first.id, "yes", START, capacity=1)
    waiting = await store.answer_rsvp(session.id, second.id, "yes", START + timedelta(minutes=1), capacity=1)
    assert waiting.outcome == "waitlisted"
    change = await store.answer_rsvp(session.id, late.id, "maybe", START + timedelta(minutes=2), capacity=None)
    assert change.promoted == (second.id,)
    assert (await store.invitation(session.id, second.id)).waitlist_position is None
