"""The per-tap shortcuts skip only what they may: a member seen writing is still reachable again after a
block, and a tap on a session without a capacity still moves everyone waiting up; an answer is one trip to
SQLite's thread, committed when it returns, and a failing one-trip transaction leaves nothing; a tap on a
reminder's card is two trips, one to read and one to answer."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import aiosqlite
import pytest

from bot.jobs import checkins
from bot.messages.session_card import rsvp_data
from tests.conftest import START
from tests.reminder_helpers import add_member, next_session
from tests.wellbeing_support import checkin_due, join
from tests.wellbeing_support import next_session as wellbeing_next_session


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


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[aiosqlite.Connection]:
    """The aiosqlite connection of every trip to SQLite's threads from now on, in order."""
    made: list[aiosqlite.Connection] = []
    real = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(self)
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return made


async def test_an_answer_is_one_trip_to_sqlites_thread_and_committed_when_it_returns(bot, request):
    member = await add_member(bot, 861, "Hal")
    session = await next_session(bot)
    trips = request.getfixturevalue("trips")  # counted from here: joining and the session took their own
    change = await bot.store.answer_rsvp(session.id, member.id, "yes", START, capacity=None)
    assert change.outcome == "answered" and change.rsvp.answer == "yes"
    assert len(trips) == 1  # BEGIN, the reads, the writes and COMMIT together
    # Committed: another connection (another process, after a crash) sees it at once.
    other = sqlite3.connect(bot.store.db.path)
    try:
        assert other.execute("SELECT answer FROM rsvps WHERE session_id = ? AND member_id = ?",
                             (session.id, member.id)).fetchone() == ("yes",)
    finally:
        other.close()


async def test_a_tap_on_the_card_is_one_trip_to_read_and_one_to_answer(bot, api, request):
    await add_member(bot, 863, "Jo", companions=[("Mia", "age_5_11")])
    await bot.dispatch()
    jo = api.user(863, "Jo")
    await jo.tap("No")  # a first tap also notes, once, that Jo can be reached
    trips = request.getfixturevalue("trips")
    await jo.tap("Yes")
    # Who tapped, their invitation and their companions in one read; then the answer's transaction.
    assert len(trips) == 2
    assert trips[0] is bot.store.db.reader and trips[1] is bot.store.db.conn
    assert "Coming: you and Mia." in jo.last_text()  # the card shows the companions read with the tap
    trips.clear()
    calls = await jo.tap_data(rsvp_data(999_999, "y"))  # a session that does not exist: one read, nothing written
    assert len(trips) == 1 and trips[0] is bot.store.db.reader
    assert any(c.method == "answerCallbackQuery" and c.params.get("show_alert") for c in calls)


async def test_a_checkin_tap_is_one_trip_to_read_and_one_to_store(bot, api, clock, request):
    anna = api.user(871, "Anna")
    await join(bot, anna, via_chat=True)
    session = await wellbeing_next_session(bot)
    clock.set(session.starts_at - timedelta(hours=1))
    await bot.dispatch()
    await anna.tap("Yes")
    clock.set(checkin_due(session))
    await bot.dispatch()
    trips = request.getfixturevalue("trips")
    await anna.tap("😀 Happier")
    # Who tapped, the session, that the check-in went to her, consent, her answer so far, who answers, her
    # companions: one read; then the answer's transaction.
    assert len(trips) == 2
    assert trips[0] is bot.store.db.reader and trips[1] is bot.store.db.conn
    assert (await bot.store.checkin_of(session.id, (await bot.store.member_by_user(871)).id)).feeling == "happier"
    assert "Do you feel more connected to people here?" in anna.last_text()
    trips.clear()
    calls = await anna.tap_data(f"{checkins.PREFIX}:999999:{checkins.STEP_FEELING}:happier")  # never asked about
    assert len(trips) == 1 and trips[0] is bot.store.db.reader  # one read, nothing written
    assert any(c.method == "answerCallbackQuery" for c in calls)


async def test_a_failing_one_trip_transaction_leaves_nothing_behind(bot):
    member = await add_member(bot, 862, "Ida")
    session = await next_session(bot)

    def half_done(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO rsvps (session_id, member_id, answer, all_companions, updated_at)"
                     " VALUES (?, ?, 'no', 1, '2026-01-01 00:00:00.000000')", (session.id, member.id))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await bot.store.db.in_transaction(half_done)
    assert await bot.store.rsvp(session.id, member.id) is None
    # No transaction was left open: the next answer goes through.
    change = await bot.store.answer_rsvp(session.id, member.id, "maybe", START, capacity=None)
    assert change.rsvp.answer == "maybe" and (await bot.store.rsvp(session.id, member.id)).answer == "maybe"
