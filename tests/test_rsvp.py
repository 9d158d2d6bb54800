"""RSVPs: one tap on the reminder, answers that change until the start, who is coming, capacity and the waiting
list, forged buttons, and /next."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage.rsvps import PlaceNotice
from tests.conftest import hub_settings, make_settings
from tests.reminder_helpers import add_member, answered, edits, next_session, reminders_to

CAMDEN = {"id": "camden", "name": "Camden Hub", "coordinators": [9101],
          "weekly": [{"weekday": "thursday", "start": "16:00"}]}


@pytest.fixture
async def capped(start_bot, api, db_path):
    """A bot whose Woking hub has room for 3 people."""
    return await start_bot(make_settings(api, db_path, hubs=[hub_settings(capacity=3), hub_settings(**CAMDEN)]))


async def test_tapping_yes_on_the_reminder_records_it_and_the_message_shows_the_answer(bot, api):
    member = await add_member(bot, 901, "Ada")
    await bot.dispatch()
    ada = api.user(901, "Ada")
    calls = await ada.tap("Yes")
    session = await next_session(bot)
    assert (await bot.store.rsvp(session.id, member.id)).answer == "yes"
    assert answered(calls) and edits(calls)
    assert "You said Yes" in ada.last_text() and "Tuesday 24 November, 10:00" in ada.last_text()
    assert ada.buttons() == [["✓ Yes", "No", "Maybe"]]


async def test_answers_change_until_the_start_then_the_buttons_close(bot, api, clock):
    member = await add_member(bot, 902, "Bea")
    await bot.dispatch()
    bea = api.user(902, "Bea")
    session = await next_session(bot)
    await bea.tap("No")
    assert "You said No" in bea.last_text()
    await bea.tap("Maybe")
    assert (await bot.store.rsvp(session.id, member.id)).answer == "maybe"
    assert bea.buttons() == [["Yes", "No", "✓ Maybe"]]
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # the session starts
    calls = await bea.tap("Yes")
    assert "has started" in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]
    assert (await bot.store.rsvp(session.id, member.id)).answer == "maybe"
    assert "Answers are closed" in bea.last_text() and bea.buttons() == []


async def test_a_family_says_who_is_coming(bot, api):
    member = await add_member(bot, 903, "Cai", companions=[("Mia", "age_5_11"), ("Leo", "under_5")])
    await bot.dispatch()
    cai = api.user(903, "Cai")
    await cai.tap("Yes")
    assert "Coming: you, Mia, and Leo." in cai.last_text()
    await cai.tap("Who is coming?")
    assert cai.buttons() == [["✓ Mia", "✓ Leo"], ["✅ Confirm"]]
    await cai.tap("✓ Leo")  # Leo stays at home
    assert cai.buttons() == [["✓ Mia", "Leo"], ["✅ Confirm"]]
    await cai.tap("Confirm")
    session = await next_session(bot)
    rsvp = await bot.store.rsvp(session.id, member.id)
    mia = (await bot.store.companions_of(member.id))[0]
    assert (rsvp.answer, rsvp.all_companions, rsvp.companion_ids) == ("yes", False, (mia.id,))
    assert "Coming: you and Mia." in cai.last_text()
    await cai.tap("Maybe")  # changing the answer keeps who is coming
    assert (await bot.store.rsvp(session.id, member.id)).companion_ids == (mia.id,)


async def test_capacity_counts_people_and_the_waiting_list_moves_up_in_order(capped, api):
    bot = capped
    session = await next_session(bot)
    family = await add_member(bot, 911, "Fay", companions=[("Mia", "age_5_11")])  # 2 people
    solo = await add_member(bot, 912, "Sol")
    big = await add_member(bot, 913, "Big", companions=[("A", "under_5"), ("B", "under_5")])  # 3 people
    late = await add_member(bot, 914, "Lou")
    await bot.dispatch()
    for user_id in (911, 912, 913, 914):
        await api.user(user_id, "x").tap("Yes")
    assert "number 1 on the waiting list" in api.user(913, "Big").last_text()
    # Lou (1 person) would fit after Big, but nobody jumps the queue
    assert "number 2 on the waiting list" in api.user(914, "Lou").last_text()
    await api.user(912, "Sol").tap("No")  # 1 place frees: Big needs 3, so nobody moves yet
    assert await bot.store.waitlist_position(session.id, big.id) == 1
    await api.user(911, "Fay").tap("No")  # now 3 are free: Big moves up; Lou waits (first in line)
    assert await bot.store.waitlist_position(session.id, big.id) is None
    assert await bot.store.waitlist_position(session.id, late.id) == 1
    await bot.dispatch()
    told = api.user(913, "Big").last_text()
    assert told.startswith("🎉 Good news! A place is free for you.") and "You said Yes" in told
    assert not any("Good news" in t for t in api.user(914, "Lou").texts())
    tally = (await bot.store.session_tallies([session.id]))[session.id]
    assert (tally.yes.people, [p.first_name for p in tally.waiting]) == (3, ["Lou"])
    assert family.id and solo.id


async def test_a_place_notice_is_not_sent_if_they_no_longer_hold_it(capped, api):
    bot = capped
    session = await next_session(bot)
    await add_member(bot, 921, "Ann", companions=[("X", "adult"), ("Y", "adult")])
    waiter = await add_member(bot, 922, "Bob")
    await bot.dispatch()
    await api.user(921, "Ann").tap("Yes")
    await api.user(922, "Bob").tap("Yes")
    ann = await bot.store.member_by_user(921)
    # Ann says No (straight to the store, so that no dispatcher run is kicked): Bob moves up and is owed a notice
    change = await bot.store.answer_rsvp(session.id, ann.id, "no", bot.services.clock.now(), capacity=3,
                                         place_notice=PlaceNotice("rsvp_place", session.starts_at))
    assert change.promoted == (waiter.id,)
    await api.user(922, "Bob").tap("No")  # ... but he says No before it goes
    report = await bot.dispatch()
    assert report.skipped == 1 and report.sent == 0
    assert (await bot.store.rsvp(session.id, waiter.id)).answer == "no"


async def test_someone_holding_a_place_cannot_take_more_than_is_free(capped, api):
    bot = capped
    session = await next_session(bot)
    mum = await add_member(bot, 931, "Mum", companions=[("Kid", "age_5_11"), ("Baby", "under_5")])
    await add_member(bot, 932, "Dan")
    await bot.dispatch()
    mum_chat = api.user(931, "Mum")
    await mum_chat.tap("Yes")  # all of them: 3 people, the session is full
    await mum_chat.tap("Who is coming?")
    await mum_chat.tap("✓ Baby")
    await mum_chat.tap("Confirm")  # 2 people now: 1 place free
    await api.user(932, "Dan").tap("Yes")
    assert "You said Yes" in api.user(932, "Dan").last_text()
    await mum_chat.tap("Who is coming?")
    calls = await mum_chat.tap("Baby")  # each tick is saved at once, so the refusal comes at once too
    alert = next(c for c in calls if c.method == "answerCallbackQuery").params
    assert "not enough room" in alert["text"] and alert.get("show_alert")
    assert mum_chat.buttons()[0] == ["✓ Kid", "Baby"], "the list shows what is saved"
    await mum_chat.tap("Confirm")
    rsvp = await bot.store.rsvp(session.id, mum.id)
    assert len(rsvp.companion_ids) == 1 and rsvp.waitlisted_at is None


async def test_forged_rsvp_buttons_change_nothing_and_are_answered(bot, api, clock):
    member = await add_member(bot, 941, "Eve")
    await add_member(bot, 942, "Cam", hubs=("camden",))
    woking, camden = await next_session(bot), await next_session(bot, "camden")
    past = (await bot.store.sessions_of_hub("woking", datetime(2026, 11, 16, tzinfo=UTC), clock.now()))[0]
    cancelled = (await bot.store.upcoming_sessions("woking", clock.now(), 2))[1]
    await bot.store.cancel_session_telling(cancelled.id, "", clock.now(), notice_kind="session_cancelled",
                                           expires_at=cancelled.ends_at)
    await bot.dispatch()
    eve = api.user(941, "Eve")
    before = eve.messages()
    forgeries = [f"r:{camden.id}:y", f"r:{past.id}:y", f"r:{cancelled.id}:y", "r:999999:y", "r:abc:y",
                 f"r:{woking.id}:x", f"r:{woking.id}:y:z", f"r:{woking.id}:t999", f"r:{woking.id}:c01", "r:-1:y",
                 f"r:{woking.id}:w", "r::y", "r", "r:0:y"]
    for data in forgeries:
        calls = await eve.tap_data(data)
        assert answered(calls), data
        assert not edits(calls), data
    for session in (woking, camden, past, cancelled):
        assert await bot.store.rsvp(session.id, member.id) is None
    assert eve.messages() == before
    stranger = api.user(943, "Stranger")
    calls = await stranger.tap_data(f"r:{woking.id}:y")
    assert answered(calls) and await bot.store.rsvps_for_session(woking.id) == []


async def test_next_shows_the_next_sessions_of_all_my_hubs_with_answers_and_buttons(bot, api):
    member = await add_member(bot, 951, "Gus", hubs=("woking", "camden"))
    woking = await next_session(bot)
    await bot.store.answer_rsvp(woking.id, member.id, "yes", bot.services.clock.now(), capacity=None)
    gus = api.user(951, "Gus")
    await gus.send("/next")
    cards = gus.texts()
    # One card per hub, then the later sessions as dates: not four cards and twelve buttons (issue 15 item 11).
    assert len(cards) == 3
    assert "Woking Community Hub" in cards[0] and "You said Yes" in cards[0]
    assert "Camden Hub" in cards[1] and "Thursday 26 November, 16:00" in cards[1] and "Are you coming?" in cards[1]
    assert cards[2] == ("Later: Tue 1 Dec, 10:00 · Thu 3 Dec, 16:00. I will remind you before each one."
                        " To answer now, tap a date.")
    assert gus.buttons() == [["Tue 1 Dec, 10:00"], ["Thu 3 Dec, 16:00"]]
    later = gus.messages()[2]["message_id"]
    await gus.tap("Thu 3 Dec, 16:00")  # opens that session's card in place of the list
    assert "Thursday 3 December, 16:00" in gus.texts()[2] and "Are you coming?" in gus.texts()[2]
    await gus.tap("Maybe", message_id=later)
    sessions = await bot.store.upcoming_sessions("camden", bot.services.clock.now(), 2)
    assert (await bot.store.rsvp(sessions[1].id, member.id)).answer == "maybe"
    await gus.tap("No", message_id=gus.messages()[1]["message_id"])
    camden = await next_session(bot, "camden")
    assert (await bot.store.rsvp(camden.id, member.id)).answer == "no"


async def test_next_for_someone_who_has_not_joined_explains_how(bot, api):
    await api.user(952, "Hal").send("/next")
    assert "invite link" in api.user(952, "Hal").last_text()


async def test_a_raised_capacity_moves_people_up_at_restart_and_tells_them(start_bot, api, db_path):
    small = make_settings(api, db_path, hubs=[hub_settings(capacity=1)])
    first = await start_bot(small)
    session = await next_session(first)
    now = first.services.clock.now()
    a, b = await add_member(first, 961, "Ida"), await add_member(first, 962, "Jon")
    await first.store.answer_rsvp(session.id, a.id, "yes", now, capacity=1)
    assert (await first.store.answer_rsvp(session.id, b.id, "yes", now, capacity=1)).outcome == "waitlisted"
    await first.stop()
    second = await start_bot(make_settings(api, db_path, hubs=[hub_settings(capacity=2)]))
    assert await second.store.waitlist_position(session.id, b.id) is None
    await second.dispatch()
    assert any(text.startswith("🎉 Good news") for text in api.user(962, "Jon").texts())
    assert len(reminders_to(api, 962)) == 2  # the place notice carries the buttons too
