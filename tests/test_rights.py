"""A member's data rights over real HTTP: /mydata, /forget, /stop and /start, /consent."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from bot.domain.consent import TEXT_VERSIONS
from bot.domain.ledger import NewDelivery
from storage.db import to_db
from storage.person_map import discover_schema, problems_with_map
from tests.conftest import COORDINATOR_ID, LEAD_ID, START
from tests.test_join import join_as_family

ZEB_ID = 860_001_234  # distinctive, so a scan for it cannot hit a timestamp by chance
BART_ID = 860_005_678


async def join_zebedee(bot, api, *, wellbeing: bool = True):
    zeb = api.user(ZEB_ID, "Zebedee", language_code="en")
    await join_as_family(bot, zeb, wellbeing=wellbeing, companions=(("Ottoline", "5 to 11", "My child"),))
    return zeb, await bot.store.member_by_user(ZEB_ID)


async def seed_a_term(bot, member, *, at: datetime | None = None) -> dict[str, Any]:
    """What a term leaves behind: an RSVP, a check-in, a term questionnaire, an alert, ledger rows.

    Wellbeing rows are written as the wellbeing feature writes them (the 003 contract tables), so that
    this test does not depend on that feature's conversation.
    """
    store, now = bot.store, at or bot.services.clock.now()
    session = (await store.upcoming_sessions("woking", START))[0]
    companion = (await store.companions_of(member.id))[0] if await store.companions_of(member.id) else None
    await store.record_rsvp(session.id, member.id, "yes", now,
                            companion_ids=[companion.id] if companion else None)
    await store.db.execute(
        "INSERT INTO checkins (session_id, hub_id, member_id, feeling, connected, first_answered_at, updated_at)"
        " VALUES (?, 'woking', ?, 'happier', 'yes', ?, ?)", (session.id, member.id, to_db(now), to_db(now)))
    run_id = await store.db.execute(
        "INSERT INTO measure_runs (member_id, hub_id, term, point, question_set, position, started_at, completed_at)"
        " VALUES (?, 'woking', 'Autumn 2026', 'start', 'ons4', 4, ?, ?)", (member.id, to_db(now), to_db(now)))
    for item, value in (("satisfied", 7), ("worthwhile", 8), ("happy", 6), ("anxious", 3)):
        await store.db.execute(
            "INSERT INTO measure_answers (run_id, item, scale, value, answered_at) VALUES (?, ?, '0-10', ?, ?)",
            (run_id, item, value, to_db(now)))
    await store.db.execute(
        "INSERT INTO alerts (hub_id, member_id, session_id, trigger, raised_at, acknowledged_at, acknowledged_by)"
        " VALUES ('woking', ?, ?, 'talk_request', ?, ?, ?)", (member.id, session.id, to_db(now), to_db(now), LEAD_ID))
    await store.enqueue_deliveries([
        NewDelivery("reminder", f"test-reminder:{session.id}:{member.id}", member.chat_id, now, member_id=member.id,
                    hub_id="woking", session_id=session.id, payload={"first_name": member.first_name}),
        NewDelivery("alert", f"test-alert:{member.id}", LEAD_ID, now, hub_id="woking",
                    payload={"who": f"{member.first_name} (with {companion.name if companion else 'nobody'})",
                             "member_id": member.id, "user_id": member.telegram_user_id}),
    ], now)
    await store.open_register(session.id, COORDINATOR_ID, now)  # ticks the member and companion who said yes
    await store.add_walk_in(session.id, "Wilhelmina", COORDINATOR_ID, now)
    return {"session": session, "run_id": run_id}


async def test_every_table_is_classified_for_data_rights(bot):
    """Fails when someone adds a table or a personal-looking column without saying how it relates to people."""
    assert await bot.store.schema_problems() == []


async def test_an_unclassified_table_or_column_is_caught(tmp_path):
    async with aiosqlite.connect(tmp_path / "x.sqlite3") as conn:
        await conn.execute("CREATE TABLE members (id INTEGER PRIMARY KEY, telegram_user_id INTEGER NOT NULL,"
                           " chat_id INTEGER NOT NULL, first_name TEXT NOT NULL, nickname TEXT)")
        await conn.execute("CREATE TABLE walk_ins (id INTEGER PRIMARY KEY, visitor TEXT,"
                           " member_id INTEGER REFERENCES members (id))")
        problems = problems_with_map(await discover_schema(conn))
    assert any("table walk_ins is not classified" in p for p in problems)
    assert any("members.nickname" in p for p in problems)


async def test_mydata_sends_every_row_about_the_member_as_a_file_and_a_summary(bot, api):
    zeb, member = await join_zebedee(bot, api)
    await seed_a_term(bot, member)
    bart = api.user(BART_ID, "Bartholomew")
    await join_as_family(bot, bart, companions=())
    await seed_a_term(bot, await bot.store.member_by_user(BART_ID))

    await zeb.send("/mydata")

    documents = api.sent_ok("sendDocument", ZEB_ID)
    assert len(documents) == 1
    exported = json.loads(documents[0].params["document"]["content"])
    tables = exported["tables"]
    counts = {name: len(rows) for name, rows in tables.items()}
    assert counts == {"members": 1, "companions": 1, "memberships": 1, "consents": 2, "rsvps": 1,
                      "rsvp_companions": 1, "checkins": 1, "measure_runs": 1, "measure_answers": 4, "alerts": 1,
                      "deliveries": 2, "attendance": 2,  # their reminder, and the alert that names them
                      "presence": 2,  # the attendance the bot counts: them and their companion at the session
                      "first_visits": 2}  # and when each of them first came to the hub
    assert sorted(row["what"] for row in tables["presence"]) == ["companion", "member"]
    assert tables["members"][0]["first_name"] == "Zebedee"
    assert tables["companions"][0]["name"] == "Ottoline"
    assert tables["alerts"][0]["acknowledged_by"] == "a staff member"  # not the lead's Telegram id
    assert "Bartholomew" not in documents[0].params["document"]["content"].decode()
    summary = zeb.last_text()
    for expected in ("Name: Zebedee", "Hubs: Woking Community Hub", "Ottoline (5 to 11)", "Replies to sessions: 1",
                     "Answers about how you felt: 2", "23 November 2026"):
        assert expected in summary


async def test_someone_who_never_joined_is_told_we_hold_nothing(bot, api):
    stranger = api.user(860_009_999, "Stranger")
    await stranger.send("/mydata")
    assert stranger.last_text() == "We hold nothing about you."
    assert api.sent_ok("sendDocument", 860_009_999) == []
    await stranger.send("/forget")
    assert stranger.last_text() == "We hold nothing about you."


async def test_forget_leaves_no_trace_of_the_member_in_any_table_or_column(bot, api):
    zeb, member = await join_zebedee(bot, api)
    seeded = await seed_a_term(bot, member)
    bart = api.user(BART_ID, "Bartholomew")
    await join_as_family(bot, bart, companions=(("Primrose", "Under 5", "My grandchild"),))
    await seed_a_term(bot, await bot.store.member_by_user(BART_ID))
    await bot.store.cancel_session(seeded["session"].id, "Ottoline's mum Zebedee has the keys", START)
    await bot.store.expect_input(ZEB_ID, "test.note", {"about": "Ottoline"}, START)
    await bot.store.create_announcement("woking", "Happy birthday Ottoline! Bartholomew brings a cake.", COORDINATOR_ID,
                                        START, kind="announcement", expires_at=START + timedelta(days=1))
    checkins_before = await bot.store.db.fetchall("SELECT feeling FROM checkins ORDER BY id")
    before = {f.table for f in await bot.store.where_values_appear([ZEB_ID, "Zebedee", "Ottoline"])}
    assert before == {"members", "companions", "deliveries", "sessions", "awaiting_input", "announcements"}

    await zeb.send("/forget")
    assert "cannot be undone" in zeb.last_text()
    await zeb.tap("Yes, delete everything")

    assert "deleted everything about you" in zeb.last_text()
    # Erasure follows links, not words: what coordinators wrote in their own rows stays as they wrote it.
    left = await bot.store.where_values_appear([ZEB_ID, "Zebedee", "Ottoline"])
    assert {(f.table, f.column) for f in left} == {("sessions", "cancel_reason"), ("announcements", "text")}
    assert await bot.store.where_values_appear([ZEB_ID]) == []
    # Counts that identify nobody stay: the same answers, detached.
    assert await bot.store.db.fetchall("SELECT feeling FROM checkins ORDER BY id") == checkins_before
    detached = await bot.store.db.fetchall("SELECT member_id, anonymised_at FROM checkins ORDER BY id")
    assert [(row[0] is None, row[1] is not None) for row in detached] == [(True, True), (False, False)]
    assert len(await bot.store.db.fetchall("SELECT 1 FROM alerts WHERE member_id IS NULL")) == 1
    # Everyone else is untouched.
    bart_member = await bot.store.member_by_user(BART_ID)
    assert [c.name for c in await bot.store.companions_of(bart_member.id)] == ["Primrose"]
    bart_export = await bot.store.export_person(BART_ID)
    assert bart_export.count("checkins") == 1 and bart_export.count("measure_answers") == 4
    assert bart_export.count("attendance") == 2
    walk_ins = await bot.store.where_values_appear(["Wilhelmina"])
    assert [(f.table, f.column) for f in walk_ins] == [("attendance", "walk_in_name")] * 2
    announcement = await bot.store.announcement(1)
    assert announcement.text == "Happy birthday Ottoline! Bartholomew brings a cake."


async def test_forget_can_be_called_off(bot, api):
    zeb, member = await join_zebedee(bot, api)
    await zeb.send("/forget")
    await zeb.tap("No, keep it")
    assert zeb.last_text() == "Nothing was deleted."
    assert await bot.store.member_by_user(ZEB_ID) == member


async def test_stop_pauses_every_message_and_start_turns_them_back_on(bot, api):
    zeb, _ = await join_zebedee(bot, api)
    await zeb.send("/stop")
    assert "Your messages are paused" in zeb.last_text()
    assert (await bot.store.member_by_user(ZEB_ID)).paused
    await zeb.send("/stop")
    assert "already paused" in zeb.last_text()
    await zeb.send("/start")
    assert "Your messages are on again" in zeb.last_text()
    assert not (await bot.store.member_by_user(ZEB_ID)).paused


async def test_consent_shows_each_consent_with_its_date_and_no_internal_version(bot, api):
    """Issue 15 item 11: the text version is a code for the records (it stays in the /mydata file), not for people."""
    zeb, _ = await join_zebedee(bot, api)
    await zeb.send("/consent")
    text = zeb.last_text()
    assert "Messages: reminders and news" in text and "How you feel" in text
    assert text.count("Yes, since 23 November 2026.") == 2
    assert "(text" not in text and TEXT_VERSIONS["contact"] not in text and TEXT_VERSIONS["wellbeing"] not in text
    await zeb.send("/mydata")
    summary = zeb.last_text()
    assert "Yes, since 23 November 2026." in summary and TEXT_VERSIONS["contact"] not in summary
    assert zeb.buttons() == [["❌ No more messages"], ["❌ No, stop asking"]]


async def test_withdrawing_wellbeing_consent_can_delete_past_answers(bot, api):
    zeb, member = await join_zebedee(bot, api)
    await seed_a_term(bot, member)
    bart = api.user(BART_ID, "Bartholomew")
    await join_as_family(bot, bart, companions=())
    await seed_a_term(bot, await bot.store.member_by_user(BART_ID))

    await zeb.send("/consent")
    await zeb.tap("No, stop asking")
    assert not await bot.store.has_consent(member.id, "wellbeing")
    assert await bot.store.has_consent(member.id, "contact")
    assert "We still keep 2 past answers" in zeb.last_text()
    await zeb.tap("Yes, delete them")

    assert zeb.last_text() == "Done. Your past answers are deleted."
    assert await bot.store.wellbeing_answer_count(member.id) == 0
    assert (await bot.store.export_person(ZEB_ID)).count("measure_answers") == 0
    assert await bot.store.wellbeing_answer_count((await bot.store.member_by_user(BART_ID)).id) == 2


async def test_keeping_past_answers_says_when_names_come_off_them(bot, api):
    zeb, member = await join_zebedee(bot, api)
    await seed_a_term(bot, member)
    await zeb.send("/consent")
    await zeb.tap("No, stop asking")
    await zeb.tap("No, keep them")
    assert "After 2 years, we remove your name" in zeb.last_text()
    assert await bot.store.wellbeing_answer_count(member.id) == 2


async def test_giving_wellbeing_consent_again_shows_what_it_covers_first(bot, api):
    zeb, member = await join_zebedee(bot, api, wellbeing=False)
    await zeb.send("/consent")
    assert "How you feel: questions after sessions.\nNo." in zeb.last_text()
    await zeb.tap("Yes, ask how I feel")
    assert "This is health information" in zeb.last_text()
    assert not await bot.store.has_consent(member.id, "wellbeing")
    await zeb.tap("Yes, I agree")
    assert await bot.store.has_consent(member.id, "wellbeing")
    assert "I will ask how you feel" in zeb.last_text()


async def test_withdrawing_contact_consent_pauses_and_offers_to_forget(bot, api):
    zeb, member = await join_zebedee(bot, api)
    await zeb.send("/consent")
    await zeb.tap("No more messages")
    assert "Your messages are paused" in zeb.last_text()
    assert (await bot.store.member_by_user(ZEB_ID)).paused
    assert not await bot.store.has_consent(member.id, "contact")
    await zeb.tap("Delete everything")
    assert "cannot be undone" in zeb.last_text()
    await zeb.tap("No, keep it")
    assert await bot.store.member_by_user(ZEB_ID) is not None


async def test_start_after_saying_no_to_messages_is_saying_yes_again(bot, api):
    zeb, member = await join_zebedee(bot, api)
    await zeb.send("/consent")
    await zeb.tap("No more messages")
    bot.services.clock.advance(timedelta(days=1))
    await zeb.send("/start")
    assert "Your messages are on again" in zeb.last_text()
    assert not (await bot.store.member_by_user(ZEB_ID)).paused
    consents = [c for c in await bot.store.consents_of(member.id) if c.kind == "contact"]
    assert [c.active for c in consents] == [False, True]
    assert consents[-1].given_at == START + timedelta(days=1)


async def test_rights_commands_explain_themselves_to_non_members(bot, api):
    stranger = api.user(860_009_998, "Stranger")
    for command in ("/stop", "/consent"):
        await stranger.send(command)
        assert "You have not joined a hub" in stranger.last_text()


async def test_forged_rights_buttons_change_nothing(bot, api):
    zeb, member = await join_zebedee(bot, api)
    await seed_a_term(bot, member)
    mallory = api.user(860_006_666, "Mallory")
    for forged in ("rt:answers:delete", "rt:contact:no", "rt:wellbeing:agree", "rt:forget:maybe", "rt:forget",
                   f"rt:forget:yes:{ZEB_ID}", "rt:x:y"):
        calls = await mallory.tap_data(forged)
        assert any(c.method == "answerCallbackQuery" for c in calls), forged
    # Zebedee's own stale button: answers cannot be deleted while wellbeing consent is in force.
    await zeb.tap_data("rt:answers:delete")
    assert await bot.store.member_by_user(ZEB_ID) == member
    assert await bot.store.wellbeing_answer_count(member.id) == 2
    assert await bot.store.has_consent(member.id, "contact")


async def test_a_paused_member_gets_no_reminder_until_they_start_again(bot, api, clock):
    zeb, _ = await join_zebedee(bot, api)
    await zeb.send("/stop")
    clock.set(START.replace(day=24, hour=9, minute=1))  # Tuesday morning: the day's reminder is due
    await bot.dispatch()
    assert "Are you coming?" not in zeb.last_text()
    await zeb.send("/start")
    clock.set(START.replace(day=29, hour=11))  # Sunday: two days before next Tuesday's session
    await bot.dispatch()
    await api.wait_quiet(ZEB_ID)
    assert "Are you coming?" in zeb.last_text()


async def test_a_staff_member_who_is_forgotten_leaves_no_id_on_what_they_did(bot, api):
    lead = api.user(LEAD_ID, "Leandra")
    await join_as_family(bot, lead, companions=())
    _, member = await join_zebedee(bot, api)
    await seed_a_term(bot, member)  # an alert Leandra acknowledged
    await bot.store.create_announcement("woking", "See you Tuesday", LEAD_ID, START, kind="announcement",
                                        expires_at=START + timedelta(days=1))

    await lead.send("/forget")
    await lead.tap("Yes, delete everything")

    assert (await bot.store.alert(1)).acknowledged_by is None
    assert (await bot.store.announcement(1)).created_by == 0
    assert await bot.store.member_by_user(LEAD_ID) is None
    assert (await bot.store.export_person(ZEB_ID)).count("alerts") == 1, "Zebedee's own record stays"
