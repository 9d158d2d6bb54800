"""Safeguarding over real HTTP: help numbers after a low answer, talk requests to the lead, repeats, acknowledging."""

from __future__ import annotations

from datetime import timedelta

from bot.jobs import safeguarding
from tests.conftest import COORDINATOR_ID, LEAD_ID, OTHER_COORDINATOR_ID, make_settings
from tests.wellbeing_support import join, next_session, session_ends_and_checkins_go_out, taps_answered_too_late

TALK = "💬 I'd like someone to talk to"


async def checked_in(bot, api, clock, user_id: int, name: str):
    """A member who said Yes, and whose check-in has just arrived."""
    user = api.user(user_id, name)
    member = await join(bot, user)
    session = await next_session(bot)
    await bot.store.record_rsvp(session.id, member.id, "yes", clock.now())
    await session_ends_and_checkins_go_out(bot, clock, session)
    return user, member, session


def alert_messages(api, chat_id: int) -> list[str]:
    return [m["text"] for m in api.chat_messages(chat_id) if m.get("text", "").startswith("⚠️")]


async def test_less_happy_gets_a_kind_reply_with_the_configured_help_numbers(start_bot, api, clock, db_path):
    settings = make_settings(api, db_path, safeguarding={"signposting": {"samaritans": "116 999", "nhs": "111"}})
    bot = await start_bot(settings)
    user, member, session = await checked_in(bot, api, clock, 701, "Ava")
    await user.tap("🙁 Less happy")
    texts = user.texts()
    reply = texts[-1]
    assert "I'm sorry things are hard." in reply
    assert "Samaritans: call 116 999." in reply and "call 111." in reply and "SHOUT to 85258" in reply
    assert "call 999" in reply
    assert user.buttons() == [[TALK]]
    assert "Do you feel more connected" in texts[-2], "the check-in carries on above the reply"
    assert (await bot.store.checkin_of(session.id, member.id)).feeling == "less_happy"
    # A low answer is stored as the answer it is; it raises no alert (mild lows reach summaries as counts).
    assert await bot.store.unacknowledged_alerts(safeguarding.TALK) == []
    assert alert_messages(api, LEAD_ID) == []


async def test_the_kind_reply_goes_out_even_when_the_tap_cannot_be_answered(bot, api, clock, monkeypatch):
    user, member, session = await checked_in(bot, api, clock, 703, "Cleo")
    taps_answered_too_late(api, monkeypatch)
    await user.tap("🙁 Less happy", wait=False)
    await api.wait_for(lambda call: call.method == "sendMessage" and "things are hard" in call.params["text"])
    assert (await bot.store.checkin_of(session.id, member.id)).feeling == "less_happy"
    assert user.buttons() == [[TALK]]


async def test_other_answers_get_no_help_numbers(bot, api, clock):
    user, _, _ = await checked_in(bot, api, clock, 702, "Bea")
    await user.tap("😐 About the same")
    assert not any("Samaritans" in text for text in user.texts())


async def test_someone_to_talk_to_reaches_the_lead_with_name_hub_button_and_time_but_no_score(bot, api, clock):
    user, member, session = await checked_in(bot, api, clock, 703, "Cleo")
    await user.tap("🙁 Less happy")
    await user.tap(TALK)
    assert "I have told the safeguarding lead at Woking Community Hub." in user.last_text()
    assert "not watched all the time" in user.last_text()

    await bot.dispatch()
    alerts = alert_messages(api, LEAD_ID)
    assert len(alerts) == 1
    alert = alerts[0]
    for fact in ("Name: Cleo", "Hub: Woking Community Hub", "Pressed: \"I'd like someone to talk to\"",
                 "Time: Tuesday 24 November, 11:45"):
        assert fact in alert
    assert "Less happy" not in alert and "less" not in alert.lower(), "never a score or answer"
    lead = api.user(LEAD_ID, "Lena")
    assert lead.buttons() == [["✅ Acknowledge"]]
    stored = await bot.store.unacknowledged_alerts(safeguarding.TALK)
    assert [(a.hub_id, a.member_id, a.session_id, a.trigger, a.repeats) for a in stored] == [
        ("woking", member.id, session.id, "talk_request", 0)]
    assert alert_messages(api, COORDINATOR_ID) == [], "coordinators are told only if nobody acknowledges"
    assert not any("Cleo" in m.get("text", "") for m in api.chat_messages(OTHER_COORDINATOR_ID))


async def test_asking_twice_raises_one_alert(bot, api, clock):
    user, _, _ = await checked_in(bot, api, clock, 704, "Dina")
    await user.tap(TALK)
    await user.tap(TALK)
    assert "I have already told the safeguarding lead" in user.last_text()
    await bot.dispatch()
    assert len(alert_messages(api, LEAD_ID)) == 1
    assert len(await bot.store.unacknowledged_alerts(safeguarding.TALK)) == 1


async def test_an_unacknowledged_alert_is_repeated_and_the_coordinators_are_told(bot, api, clock):
    user, _, _ = await checked_in(bot, api, clock, 705, "Edie")
    await user.tap(TALK)
    await bot.dispatch()

    clock.advance(timedelta(minutes=59))
    await bot.dispatch()
    assert len(alert_messages(api, LEAD_ID)) == 1 and alert_messages(api, COORDINATOR_ID) == []

    clock.advance(timedelta(minutes=1))
    await bot.dispatch()
    lead_messages = alert_messages(api, LEAD_ID)
    assert len(lead_messages) == 2 and "Reminder 1: nobody has acknowledged this yet." in lead_messages[-1]
    told = alert_messages(api, COORDINATOR_ID)
    assert len(told) == 1
    assert "not been acknowledged for 60 minutes" in told[0] and "Name: Edie" in told[0]
    assert api.user(COORDINATOR_ID, "Cora").buttons() == [["✅ Acknowledge"]]
    (alert,) = await bot.store.unacknowledged_alerts(safeguarding.TALK)
    assert alert.repeats == 1 and alert.escalated_at == clock.now()

    await bot.dispatch()  # nothing more until the next period
    assert len(alert_messages(api, LEAD_ID)) == 2

    for _ in range(5):  # max_repeats (3) caps the reminders; coordinators were told once
        clock.advance(timedelta(minutes=60))
        await bot.dispatch()
    assert len(alert_messages(api, LEAD_ID)) == 1 + 3
    assert len(alert_messages(api, COORDINATOR_ID)) == 1


async def test_acknowledging_stops_the_repeats_and_is_stored(bot, api, clock):
    user, _, _ = await checked_in(bot, api, clock, 706, "Fern")
    await user.tap(TALK)
    await bot.dispatch()
    clock.advance(timedelta(minutes=10))
    lead = api.user(LEAD_ID, "Lena")
    calls = await lead.tap("✅ Acknowledge")
    assert any(c.method == "answerCallbackQuery" and "acknowledged" in c.params.get("text", "") for c in calls)
    assert "✓ Acknowledged by Lena on Tuesday 24 November, 11:55." in lead.last_text()
    assert lead.buttons() == []
    alert = await bot.store.alert(1)
    assert (alert.acknowledged_by, alert.acknowledged_at) == (LEAD_ID, clock.now())

    clock.advance(timedelta(hours=5))
    await bot.dispatch()
    assert len(alert_messages(api, LEAD_ID)) == 1 and alert_messages(api, COORDINATOR_ID) == []


async def test_a_repeat_already_queued_is_skipped_once_acknowledged(bot, api, clock):
    user, _, _ = await checked_in(bot, api, clock, 707, "Gia")
    await user.tap(TALK)
    await bot.dispatch()
    clock.advance(timedelta(minutes=60))
    await safeguarding.plan_alert_repeats(clock.now(), bot.services)  # queued, not yet sent
    assert await bot.store.acknowledge_alert(1, COORDINATOR_ID, clock.now())
    await bot.dispatch()
    repeats = [d for d in await bot.store.deliveries_where()
               if d.kind.startswith("safeguarding") and "first" not in d.dedupe_key]
    assert sorted((d.kind, d.chat_id, d.state) for d in repeats) == [
        ("safeguarding_alert", LEAD_ID, "skipped"), ("safeguarding_escalation", COORDINATOR_ID, "skipped")]
    assert len(alert_messages(api, LEAD_ID)) == 1


async def test_repeats_survive_a_restart_and_are_not_doubled(start_bot, settings, api, clock):
    first = await start_bot(settings)
    user, _, _ = await checked_in(first, api, clock, 708, "Hope")
    await user.tap(TALK)
    await first.stop()  # before the alert went out

    second = await start_bot(settings)
    await second.dispatch()
    assert len(alert_messages(api, LEAD_ID)) == 1
    clock.advance(timedelta(hours=1))
    await second.dispatch()
    await second.stop()
    third = await start_bot(settings)
    await third.dispatch()
    await third.dispatch()
    assert len(alert_messages(api, LEAD_ID)) == 2
    assert len(alert_messages(api, COORDINATOR_ID)) == 1


async def test_after_downtime_one_repeat_goes_out_not_every_missed_one(bot, api, clock):
    user, _, _ = await checked_in(bot, api, clock, 709, "Iris")
    await user.tap(TALK)
    await bot.dispatch()
    clock.advance(timedelta(hours=2, minutes=30))
    await bot.dispatch()
    await bot.dispatch()
    lead_messages = alert_messages(api, LEAD_ID)
    assert len(lead_messages) == 2 and "Reminder 2" in lead_messages[-1]


async def test_forged_acknowledgements_change_nothing_and_are_answered(bot, api, clock):
    user, _, _ = await checked_in(bot, api, clock, 710, "Jade")
    await user.tap(TALK)
    await bot.dispatch()
    other_hub = api.user(OTHER_COORDINATOR_ID, "Otto")  # lead and coordinator of Camden, not Woking
    for person, data in ((other_hub, "sg:ack:1"), (user, "sg:ack:1"), (other_hub, "sg:ack:999"),
                         (other_hub, "sg:ack:x"), (other_hub, "sg:ack"), (user, "sg:talk:s999"),
                         (user, "sg:talk:r1"), (user, "sg:talk:q1"), (user, "sg:nothing:1")):
        calls = await person.tap_data(data)
        assert any(c.method == "answerCallbackQuery" for c in calls), data
    (alert,) = await bot.store.unacknowledged_alerts(safeguarding.TALK)
    assert alert.acknowledged_at is None
    # A coordinator of the hub may acknowledge when the lead cannot.
    await api.user(COORDINATOR_ID, "Cora").tap_data("sg:ack:1")
    assert (await bot.store.alert(1)).acknowledged_by == COORDINATOR_ID


async def test_a_talk_request_for_someone_elses_session_is_refused(bot, api, clock):
    _, _, session = await checked_in(bot, api, clock, 711, "Kai")
    stranger = api.user(712, "Lou")
    await join(bot, stranger)
    calls = await stranger.tap_data(f"sg:talk:s{session.id}")
    assert any(c.method == "answerCallbackQuery" for c in calls)
    assert await bot.store.unacknowledged_alerts(safeguarding.TALK) == []
