"""Coordinators: /sessions counts, /cancel with or without a reason, /announce with preview; nobody else may."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import COORDINATOR_ID, OTHER_COORDINATOR_ID, hub_settings, make_settings
from tests.reminder_helpers import add_member, answered, next_session, reminders_to

ADMIN_ID = 9500


async def test_sessions_shows_answers_people_adults_children_and_the_waiting_list(start_bot, api, db_path):
    bot = await start_bot(make_settings(api, db_path, hubs=[hub_settings(capacity=4)]))
    session = await next_session(bot)
    now = bot.services.clock.now()
    fam = await add_member(bot, 1001, "Fay", companions=[("Mia", "age_5_11"), ("Gran", "older")])
    teen = await add_member(bot, 1002, "Tom", companions=[("Sis", "age_16_17")])
    maybe = await add_member(bot, 1003, "May", companions=[("Kid", "under_5")])
    no = await add_member(bot, 1004, "Ned")
    late = await add_member(bot, 1005, "Lou", companions=[("Bo", "age_12_15")])
    for member, answer in ((fam, "yes"), (teen, "no"), (maybe, "maybe"), (no, "no"), (late, "yes")):
        await bot.store.answer_rsvp(session.id, member.id, answer, now, capacity=4)
    await bot.store.answer_rsvp(session.id, teen.id, "yes", now, capacity=4)  # 3 + 2 > 4: waits, behind Lou
    coordinator = api.user(COORDINATOR_ID, "Coordinator")
    await coordinator.send("/sessions")
    text = coordinator.last_text()
    assert text.startswith("📋 Woking Community Hub: next sessions")
    assert "Tue 24 Nov, 10:00" in text
    assert "Places taken: 3 of 4" in text
    assert "✅ Yes: 1 household, 3 people (2 adults, 1 child)" in text
    assert "🤔 Maybe: 1 household, 2 people · ❌ No: 1 household" in text
    assert "⏳ Waiting list: Lou (2 people), Tom (2 people)" in text


async def test_only_coordinators_and_admins_may_use_the_coordinator_commands(bot, api):
    await add_member(bot, 1011, "Ann")
    ann = api.user(1011, "Ann")
    for command in ("/sessions", "/cancel", "/announce"):
        calls = await ann.send(command)
        sent = [c for c in calls if c.method == "sendMessage"]
        assert [c.text for c in sent] == ["Sorry, that is not available to you."], command
    assert await bot.store.awaited_input(1011) is None


async def test_cancel_with_a_reason_tells_yes_and_maybe_and_nobody_is_reminded_any_more(bot, api, clock):
    session = await next_session(bot)
    now = clock.now()
    people = {}
    for user_id, name, answer in ((1021, "Yan", "yes"), (1022, "Max", "maybe"), (1023, "Nob", "no"),
                                  (1024, "Qui", None)):
        people[name] = await add_member(bot, user_id, name)
        if answer:
            await bot.store.answer_rsvp(session.id, people[name].id, answer, now, capacity=None)
    coordinator = api.user(COORDINATOR_ID, "Coordinator")
    await coordinator.send("/cancel")
    assert coordinator.last_text() == "Which session do you want to cancel?"
    await coordinator.tap("Tue 24 Nov, 10:00")
    assert "Send a short reason" in coordinator.last_text()
    await coordinator.send("The hall has a burst pipe")
    assert "Reason: The hall has a burst pipe" in coordinator.last_text()
    assert "We will tell everyone who said Yes or Maybe: 2 households (2 people)." in coordinator.last_text()
    await coordinator.tap("Yes, cancel it")
    assert coordinator.last_text() == ("Cancelled Woking Community Hub, Tue 24 Nov, 10:00. "
                                       "We are telling 2 households (2 people).")
    await bot.dispatch()
    for user_id in (1021, 1022):
        text = api.user(user_id, "x").last_text()
        assert text.startswith("😔 Sorry, this session is cancelled.")
        assert "Tuesday 24 November, 10:00" in text and "The coordinator says: The hall has a burst pipe" in text
    assert api.sent_ok("sendMessage", 1023) == [] and api.sent_ok("sendMessage", 1024) == []
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    await bot.dispatch()
    assert all(reminders_to(api, user_id) == [] for user_id in (1021, 1022, 1023, 1024))
    assert (await bot.store.session(session.id)).cancel_reason == "The hall has a burst pipe"


async def test_cancel_without_a_reason_or_keep_the_session(bot, api):
    session = await next_session(bot)
    coordinator = api.user(COORDINATOR_ID, "Coordinator")
    await coordinator.send("/cancel")
    await coordinator.tap("Tue 24 Nov, 10:00")
    await coordinator.tap("No, keep it")
    assert coordinator.last_text() == "The session stays on. Nothing has changed."
    assert not (await bot.store.session(session.id)).cancelled
    await coordinator.send("/cancel")
    await coordinator.tap("Tue 24 Nov, 10:00")
    await coordinator.tap("No reason")
    assert "Reason: none given" in coordinator.last_text()
    await coordinator.send("oops, some text")
    assert coordinator.last_text() == "Please tap one of the buttons above."
    await coordinator.tap("Yes, cancel it")
    assert (await bot.store.session(session.id)).cancelled


async def test_a_double_tap_on_confirm_cancels_once_and_tells_once(bot, api):
    session = await next_session(bot)
    member = await add_member(bot, 1031, "Dot")
    await bot.store.answer_rsvp(session.id, member.id, "yes", bot.services.clock.now(), capacity=None)
    coordinator = api.user(COORDINATOR_ID, "Coordinator")
    await coordinator.send("/cancel")
    await coordinator.tap("Tue 24 Nov, 10:00")
    await coordinator.tap("No reason")
    confirm = coordinator.messages()[-1]["message_id"]
    await coordinator.tap("Yes, cancel it", message_id=confirm)
    calls = await coordinator.tap_data(f"sx:y:{session.id}", message_id=confirm)
    assert answered(calls)
    await bot.dispatch()
    assert len(await bot.store.deliveries_where(kind="session_cancelled")) == 1
    assert len(api.sent_ok("sendMessage", 1031)) == 1


async def test_forged_coordinator_buttons_for_another_hub_are_refused(bot, api):
    camden = await next_session(bot, "camden")
    coordinator = api.user(COORDINATOR_ID, "Coordinator")  # coordinates Woking only
    await coordinator.send("/cancel")
    for data in (f"sx:p:{camden.id}", f"sx:r:{camden.id}", f"sx:y:{camden.id}", "sx:y:999999", "sx:z:1",
                 "sx:p:abc", "an:y:0", "an:h:7"):
        calls = await coordinator.tap_data(data)
        assert answered(calls), data
    member = api.user(1041, "Mem")
    await add_member(bot, 1041, "Mem")
    woking = await next_session(bot)
    for data in (f"sx:p:{woking.id}", f"sx:y:{woking.id}", "an:y:0"):
        calls = await member.tap_data(data)
        assert "not available" in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]
    assert not (await bot.store.session(camden.id)).cancelled and not (await bot.store.session(woking.id)).cancelled
    assert await bot.store.awaited_input(COORDINATOR_ID) is None


async def test_announce_shows_a_preview_then_goes_to_every_member_through_the_ledger(bot, api):
    for user_id in (1051, 1052, 1053):
        await add_member(bot, user_id, f"M{user_id}")
    await add_member(bot, 1054, "Cam", hubs=("camden",))
    coordinator = api.user(COORDINATOR_ID, "Coordinator")
    await coordinator.send("/announce")
    assert "Type the message for everyone in Woking Community Hub" in coordinator.last_text()
    await coordinator.send("This week we meet in the small hall. 🎵")
    texts = coordinator.texts()
    assert texts[-3:] == ["This is how it will look:",
                          "📣 Woking Community Hub:\nThis week we meet in the small hall. 🎵",
                          "Send this to 3 members of Woking Community Hub?"]
    await coordinator.tap("Change it")
    await coordinator.send("This week we meet in the small hall.")
    await coordinator.tap("Send it")
    assert coordinator.last_text() == "Sending to 3 members of Woking Community Hub now."
    await bot.dispatch()
    news = "📣 Woking Community Hub:\nThis week we meet in the small hall."
    for user_id in (1051, 1052, 1053):  # (they also get Tuesday's reminder, due since Sunday)
        assert [text for text in api.user(user_id, "x").texts() if text.startswith("📣")] == [news]
    assert not any(text.startswith("📣") for text in api.user(1054, "Cam").texts())
    rows = await bot.store.deliveries_where(kind="announcement")
    assert len(rows) == 3 and {row.state for row in rows} == {"sent"}


async def test_an_admin_with_several_hubs_picks_one_and_the_draft_survives_a_restart(start_bot, api, db_path):
    settings = make_settings(api, db_path, admins=[ADMIN_ID])
    first = await start_bot(settings)
    await add_member(first, 1061, "Cam", hubs=("camden",))
    admin = api.user(ADMIN_ID, "Admin")
    await admin.send("/announce")
    assert admin.buttons() == [["Woking Community Hub"], ["Camden Hub"]]
    await admin.tap("Camden Hub")
    await admin.send("x" * 501)
    assert "Please keep it under 500" in admin.last_text()
    await admin.send("Party on Thursday!")
    await first.stop()
    second = await start_bot(settings)
    await admin.tap("Send it")
    await second.dispatch()
    assert api.user(1061, "Cam").texts() == ["📣 Camden Hub:\nParty on Thursday!"]


async def test_the_other_hubs_coordinator_sees_only_their_hub(bot, api):
    other = api.user(OTHER_COORDINATOR_ID, "Other")
    await other.send("/sessions")
    assert all("Woking" not in text for text in other.texts())
    assert other.texts()[0].startswith("📋 Camden Hub: next sessions")


async def _families_answer(bot, now) -> tuple:
    """Yes: a family of 3 and a family of 2; Maybe: one person; No: a family of 2 (not told)."""
    session = await next_session(bot)
    fay = await add_member(bot, 1201, "Fay", companions=[("Mia", "age_5_11"), ("Gran", "older")])
    lou = await add_member(bot, 1202, "Lou", companions=[("Bo", "age_12_15")])
    may = await add_member(bot, 1203, "May")
    ned = await add_member(bot, 1204, "Ned", companions=[("Kit", "under_5")])
    for member, answer in ((fay, "yes"), (lou, "yes"), (may, "maybe"), (ned, "no")):
        await bot.store.answer_rsvp(session.id, member.id, answer, now, capacity=None)
    return session


async def test_cancel_counts_households_and_people_the_same_before_and_after_and_as_many_are_told(bot, api, clock):
    """Issue 15 item 5: the question and the answer say households and people, from one tally, and the number
    of households told is the number of notices sent."""
    await _families_answer(bot, clock.now())
    coordinator = api.user(COORDINATOR_ID, "Coordinator")
    await coordinator.send("/sessions")
    assert "✅ Yes: 2 households, 5 people (3 adults, 2 children)" in coordinator.last_text()
    assert "🤔 Maybe: 1 household, 1 person · ❌ No: 1 household" in coordinator.last_text()
    await coordinator.send("/cancel")
    await coordinator.tap("Tue 24 Nov, 10:00")
    await coordinator.tap("No reason")
    assert coordinator.last_text().endswith("We will tell everyone who said Yes or Maybe: 3 households (6 people).")
    await coordinator.tap("Yes, cancel it")
    assert coordinator.last_text().endswith("We are telling 3 households (6 people).")
    await bot.dispatch()
    told = [user_id for user_id in (1201, 1202, 1203, 1204) if api.sent_ok("sendMessage", user_id)]
    assert told == [1201, 1202, 1203]


def _plain(text: str) -> str:
    """Without the invisible direction marks right-to-left texts carry."""
    return "".join(char for char in text if char not in "\u200f\u200e\u2068\u2069")


async def test_cancel_counts_in_ukrainian_and_arabic_by_their_plural_rules(bot, api, clock):
    await _families_answer(bot, clock.now())
    coordinator = api.user(COORDINATOR_ID, "Coordinator", language_code="uk")
    await coordinator.send("/sessions")
    assert "✅ Так: 2 домогосподарства, 5 осіб (3 дорослі, 2 дитини)" in coordinator.last_text()
    assert "🤔 Можливо: 1 домогосподарство, 1 особа · ❌ Ні: 1 домогосподарство" in coordinator.last_text()
    await coordinator.send("/cancel")
    await coordinator.tap(coordinator.buttons()[0][0])
    await coordinator.tap("Без причини")
    assert coordinator.last_text().endswith("«Так» або «Можливо»: 3 домогосподарства (6 осіб).")
    await coordinator.tap("Ні, залишити")

    coordinator = api.user(COORDINATOR_ID, "Coordinator", language_code="ar")
    await coordinator.send("/sessions")
    assert "✅ نعم: أسرتان، 5 أشخاص (3 بالغين، طفلان)" in _plain(coordinator.last_text())
    assert "🤔 ربما: أسرة واحدة، شخص واحد · ❌ لا: أسرة واحدة" in _plain(coordinator.last_text())
    await coordinator.send("/cancel")
    await coordinator.tap(coordinator.buttons()[0][0])
    await coordinator.tap("بدون سبب")
    assert _plain(coordinator.last_text()).endswith("سنبلغ كل من قال نعم أو ربما: 3 أسر (6 أشخاص).")
    await coordinator.tap("نعم، ألغِها")
    assert _plain(coordinator.last_text()).endswith("عدد من نبلغهم: 3 أسر (6 أشخاص).")


async def test_sessions_and_summary_give_the_same_counts_in_the_same_units(bot, api, clock):
    """Issue 15 item 5: /sessions and /summary name households and people alike, and agree."""
    await _families_answer(bot, clock.now())
    coordinator = api.user(COORDINATOR_ID, "Coordinator")
    await coordinator.send("/sessions")
    assert "✅ Yes: 2 households, 5 people (3 adults, 2 children)" in coordinator.last_text()
    await coordinator.send("/summary")
    await api.wait_quiet(COORDINATOR_ID)
    # The chart comes on its own (drawn off the event loop), before or after the texts.
    [private] = [text for text in coordinator.texts() if "Coming up in the next 7 days" in text]
    assert "Yes 2 households, 5 people (3 adults, 2 children). Maybe 1 household. No 1 household." in private
