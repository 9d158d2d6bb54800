"""Reminders: once each, at the right local time across clock changes, through restarts, downtime and blocks."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import ReminderRule
from bot.domain.reminders import fires_at, schedule
from bot.jobs.reminders import due, plan_reminders
from tests.conftest import hub_settings, make_settings
from tests.reminder_helpers import add_member, next_session, reminders_to

LONDON = ZoneInfo("Europe/London")
TWO_DAYS = ReminderRule(minutes_before=2880)
MORNING = ReminderRule(days_before=0, at=time(9, 0))


def london(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LONDON).astimezone(UTC)


# ---------------------------------------------------------------- the pure rules


def test_two_days_before_keeps_the_wall_clock_time_across_the_march_change():
    hub = hub_settings(terms=[])
    monday = london(date(2027, 3, 29), 10)  # BST, the day after the change
    assert monday == datetime(2027, 3, 29, 9, 0, tzinfo=UTC)
    # 10:00 on Saturday (GMT), not 48 hours earlier (which would be 09:00 on the wall)
    assert fires_at(TWO_DAYS, monday, hub) == datetime(2027, 3, 27, 10, 0, tzinfo=UTC)
    assert fires_at(MORNING, monday, hub) == datetime(2027, 3, 29, 8, 0, tzinfo=UTC)


def test_and_across_the_october_change():
    hub = hub_settings(terms=[])
    monday = london(date(2026, 10, 26), 10)  # GMT, the day after the change
    assert fires_at(TWO_DAYS, monday, hub) == datetime(2026, 10, 24, 9, 0, tzinfo=UTC)  # 10:00 BST
    assert fires_at(MORNING, monday, hub) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_offsets_under_a_day_are_real_minutes():
    hub = hub_settings(terms=[])
    start = london(date(2026, 11, 24), 10)
    assert fires_at(ReminderRule(minutes_before=90), start, hub) == start - timedelta(minutes=90)
    assert fires_at(ReminderRule(minutes_before=1), start, hub) == start - timedelta(minutes=1)
    # a day and a half: 10:00 the day before, then 12 hours earlier
    assert fires_at(ReminderRule(minutes_before=36 * 60), start, hub) == london(date(2026, 11, 22), 22)


def test_a_rule_at_or_after_the_start_is_never_used():
    hub = hub_settings(terms=[])
    early = london(date(2026, 11, 24), 8)  # an 08:00 session: "09:00 on the day" would be too late
    rules = [TWO_DAYS, MORNING, ReminderRule(days_before=0, at=time(8, 0))]
    assert [r.rule_key for r in schedule(rules, early, hub)] == ["m2880"]


def test_only_rules_whose_time_has_come_are_due_and_none_once_started():
    hub = hub_settings(terms=[])
    start = london(date(2026, 11, 24), 10)
    rules = [MORNING, TWO_DAYS]
    assert due(rules, start, hub, start - timedelta(days=3)) == []
    assert [r.rule_key for r in due(rules, start, hub, start - timedelta(days=2))] == ["m2880"]
    assert [r.rule_key for r in due(rules, start, hub, start - timedelta(minutes=30))] == ["m2880", "d0@0900"]
    assert due(rules, start, hub, start) == []


# ---------------------------------------------------------------- the running bot

CLOCK_CHANGES = {
    # first moment, then the sessions (Monday and Tuesday at 10:00) on both sides of the change
    "march": (datetime(2027, 3, 20, 8, 0, tzinfo=UTC), [date(2027, 3, d) for d in (22, 23, 29, 30)]),
    "october": (datetime(2026, 10, 17, 7, 0, tzinfo=UTC), [date(2026, 10, d) for d in (19, 20, 26, 27)]),
}


@pytest.mark.parametrize("change", CLOCK_CHANGES)
async def test_each_reminder_goes_out_once_at_its_local_time_on_both_sides_of_the_clock_change(
    change, start_bot, api, clock, db_path
):
    first, days = CLOCK_CHANGES[change]
    hub = hub_settings(weekly=[{"weekday": "monday", "start": "10:00"}, {"weekday": "tuesday", "start": "10:00"}],
                       terms=[])
    clock.set(first)
    bot = await start_bot(make_settings(api, db_path, hubs=[hub]))
    await add_member(bot, 601, "Ada")
    expected = sorted([(london(day - timedelta(days=2), 10), day) for day in days]
                      + [(london(day, 9), day) for day in days])
    seen = 0
    for instant, day in expected:
        clock.set(instant - timedelta(minutes=1))
        await bot.dispatch()
        assert len(reminders_to(api, 601)) == seen, f"early before {instant}"
        clock.set(instant)
        await bot.dispatch()
        await bot.dispatch()
        sent = reminders_to(api, 601)
        assert len(sent) == seen + 1, f"nothing (or twice) at {instant}"
        assert f"{day:%A} {day.day} {day:%B}, 10:00" in sent[-1]
        seen += 1
    clock.set(london(days[-1], 12))
    await bot.dispatch()
    assert len(reminders_to(api, 601)) == len(days) * 2


async def test_a_reminder_names_hub_venue_day_and_time_in_the_members_language(bot, api, clock):
    await add_member(bot, 602, "Olena", language="uk")
    await bot.dispatch()  # Monday 08:00: the two-day reminder of Tuesday's session is due (caught up)
    [text] = reminders_to(api, 602)
    assert "Woking Community Hub" in text and "Methodist Church Hall" in text
    assert "вівторок 24 листопада" in text and "10:00" in text
    olena = api.user(602, "Olena", language_code="uk")
    assert len(olena.buttons()) == 1 and len(olena.buttons()[0]) == 3


async def test_a_restart_in_the_middle_of_a_fan_out_sends_none_twice_and_skips_none(start_bot, settings, api):
    first = await start_bot(settings)
    people = range(700, 740)
    for user_id in people:
        await add_member(first, user_id, f"P{user_id}")
    fan_out = asyncio.create_task(first.dispatch())
    await api.wait_for(lambda call: len(api.sent_ok()) >= 12, timeout=10)
    await first.stop()  # SIGTERM: the message in flight finishes, then no more
    await fan_out
    part = sum(1 for user_id in people if reminders_to(api, user_id))
    assert 12 <= part < len(people)
    second = await start_bot(settings)
    await second.dispatch()
    assert [len(reminders_to(api, user_id)) for user_id in people] == [1] * len(people)


async def test_a_crash_mid_fan_out_repeats_at_most_the_one_message_in_flight(start_bot, settings, api):
    first = await start_bot(settings)
    people = range(750, 770)
    for user_id in people:
        await add_member(first, user_id, f"P{user_id}")
    api.reply_delay = 0.05  # each send takes a while, so the crash lands during one
    fan_out = asyncio.create_task(first.dispatch())
    await api.wait_for(lambda call: len(api.sent_ok()) >= 5, timeout=10)
    fan_out.cancel()  # the process dies mid-request: that row stays 'sending'
    with pytest.raises(asyncio.CancelledError):
        await fan_out
    await first.stop()
    api.reply_delay = 0.0
    second = await start_bot(settings)
    await second.dispatch()
    counts = [len(reminders_to(api, user_id)) for user_id in people]
    assert min(counts) == 1, "someone was skipped"
    assert sum(counts) - len(people) <= 1, "more than the message in flight was repeated"


async def test_downtime_is_caught_up_while_the_reminder_is_still_useful(start_bot, settings, api, clock):
    clock.set(datetime(2026, 11, 21, 12, 0, tzinfo=UTC))  # Saturday; Tuesday's two-day reminder is Sunday 10:00
    first = await start_bot(settings)
    await add_member(first, 801, "Bea")
    await first.dispatch()
    assert reminders_to(api, 801) == []
    await first.stop()
    clock.set(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))  # back on Monday morning
    second = await start_bot(settings)
    await second.dispatch()
    assert len(reminders_to(api, 801)) == 1


async def test_after_long_downtime_only_the_latest_reminder_goes(start_bot, settings, api, clock):
    clock.set(datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    first = await start_bot(settings)
    await add_member(first, 802, "Cai")
    await first.stop()
    clock.set(datetime(2026, 11, 24, 9, 30, tzinfo=UTC))  # Tuesday 09:30: both rules have passed
    second = await start_bot(settings)
    await second.dispatch()
    await second.dispatch()
    assert len(reminders_to(api, 802)) == 1
    session = await next_session(second)
    assert await second.store.reminder_batch(session.id, "m2880") == (0, True)
    assert await second.store.reminder_batch(session.id, "d0@0900") == (1, False)


async def test_a_reminder_still_owed_when_the_session_starts_is_dropped(start_bot, settings, api, clock):
    first = await start_bot(settings)
    await add_member(first, 803, "Dev")
    planned = await plan_reminders(clock.now(), first.services)  # owed, but the bot stops before sending
    assert planned == 1
    await first.stop()
    clock.set(datetime(2026, 11, 24, 10, 5, tzinfo=UTC))  # the session has started
    second = await start_bot(settings)
    report = await second.dispatch()
    assert report.dropped == 1 and report.sent == 0
    assert reminders_to(api, 803) == []


async def test_no_one_is_reminded_who_said_no_paused_left_consent_or_of_a_cancelled_session(bot, api, clock):
    said_no = await add_member(bot, 811, "Nia")
    paused = await add_member(bot, 812, "Pat")
    withdrawn = await add_member(bot, 813, "Wyn")
    said_yes = await add_member(bot, 814, "Yas")
    await add_member(bot, 815, "Zed")
    session = await next_session(bot)
    now = clock.now()
    await bot.store.answer_rsvp(session.id, said_no.id, "no", now, capacity=None)
    await bot.store.answer_rsvp(session.id, said_yes.id, "yes", now, capacity=None)
    await bot.store.set_paused(paused.id, True, now)
    await bot.store.withdraw_consent(withdrawn.id, "contact", now)
    await bot.dispatch()
    assert [len(reminders_to(api, u)) for u in (811, 812, 813, 814, 815)] == [0, 0, 0, 1, 1]
    assert "You said Yes" in reminders_to(api, 814)[0]
    assert "Are you coming?" in reminders_to(api, 815)[0]
    await bot.store.cancel_session_telling(session.id, "", now, notice_kind="session_cancelled",
                                           expires_at=session.ends_at)
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))  # the morning reminder would be due now
    await bot.dispatch()
    assert [len(reminders_to(api, u)) for u in (814, 815)] == [1, 1]


async def test_a_blocked_member_does_not_stop_the_others_and_is_reachable_once_they_write(bot, api, clock):
    for user_id, name in ((821, "Ann"), (822, "Bob"), (823, "Cat")):
        await add_member(bot, user_id, name)
    api.faults.blocked_chats.add(822)
    report = await bot.dispatch()
    assert report.sent == 2 and report.failed == 1
    assert [len(reminders_to(api, u)) for u in (821, 822, 823)] == [1, 0, 1]
    assert not (await bot.store.member_by_user(822)).reachable
    api.faults.blocked_chats.discard(822)
    bob = api.user(822, "Bob")
    await bob.send("Hello, I am back")  # writing again makes Bob reachable
    assert (await bot.store.member_by_user(822)).reachable
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    await bot.dispatch()
    assert [len(reminders_to(api, u)) for u in (821, 822, 823)] == [2, 1, 2]


async def test_a_member_who_joins_after_a_reminder_was_sent_gets_the_next_one(bot, api, clock):
    await add_member(bot, 831, "Eli")
    await bot.dispatch()
    await add_member(bot, 832, "Fox")
    await bot.dispatch()
    assert (len(reminders_to(api, 831)), len(reminders_to(api, 832))) == (1, 0)
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    await bot.dispatch()
    assert (len(reminders_to(api, 831)), len(reminders_to(api, 832))) == (2, 1)
