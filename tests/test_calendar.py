"""The timetable: weekly sessions at the right local time across clock changes, terms, skips, holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.domain.calendar import local_instant, sessions_between
from tests.conftest import hub_settings
from tests.test_join import join_as_family


def starts(hub, first, last):
    return [(s.local_date, s.starts_at) for s in sessions_between(hub, first, last)]


def test_a_tuesday_session_stays_at_ten_local_across_the_march_change():
    hub = hub_settings(weekly=[{"weekday": "tuesday", "start": "10:00"}], terms=[])
    sessions = sessions_between(hub, date(2027, 3, 20), date(2027, 4, 3))
    assert [s.local_date for s in sessions] == [date(2027, 3, 23), date(2027, 3, 30)]
    # 23 March is GMT (UTC+0); 30 March is BST (UTC+1): the same 10:00 on the wall.
    assert [s.starts_at for s in sessions] == [
        datetime(2027, 3, 23, 10, 0, tzinfo=UTC),
        datetime(2027, 3, 30, 9, 0, tzinfo=UTC),
    ]
    assert all(s.starts_at.astimezone(hub.tz).time() == time(10, 0) for s in sessions)


def test_and_across_the_october_change():
    hub = hub_settings(weekly=[{"weekday": "thursday", "start": "16:00", "duration_minutes": 60}], terms=[])
    sessions = sessions_between(hub, date(2026, 10, 20), date(2026, 11, 1))
    assert [s.starts_at for s in sessions] == [
        datetime(2026, 10, 22, 15, 0, tzinfo=UTC),  # BST
        datetime(2026, 10, 29, 16, 0, tzinfo=UTC),  # GMT
    ]
    assert sessions[1].ends_at - sessions[1].starts_at == timedelta(minutes=60)


def test_a_time_in_the_spring_gap_moves_forward_and_a_repeated_time_is_the_first():
    hub = hub_settings()
    assert local_instant(date(2026, 3, 29), time(1, 30), hub) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert local_instant(date(2026, 10, 25), time(1, 30), hub) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_another_time_zone_is_respected():
    hub = hub_settings(timezone="America/New_York", weekly=[{"weekday": "monday", "start": "09:00"}], terms=[])
    (session,) = sessions_between(hub, date(2026, 11, 2), date(2026, 11, 2))
    assert session.starts_at == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def test_only_term_dates_hold_sessions_and_skip_dates_are_skipped():
    hub = hub_settings(
        terms=[{"name": "Spring", "start": "2027-01-05", "end": "2027-01-26"}],
        skip_dates=["2027-01-12"],
    )
    got = [s.local_date for s in sessions_between(hub, date(2026, 12, 1), date(2027, 2, 28))]
    assert got == [date(2027, 1, 5), date(2027, 1, 19), date(2027, 1, 26)]
    assert {s.term for s in sessions_between(hub, date(2027, 1, 1), date(2027, 1, 31))} == {"Spring"}


def test_bank_holidays_are_skipped_when_asked_from_the_holidays_package():
    monday = [{"weekday": "monday", "start": "10:00"}]
    keep = hub_settings(weekly=monday, terms=[])
    skip = hub_settings(weekly=monday, terms=[], skip_bank_holidays=True)
    # Easter Monday 2027 is 29 March; the early May bank holiday is 3 May.
    assert date(2027, 3, 29) in [d for d, _ in starts(keep, date(2027, 3, 28), date(2027, 5, 4))]
    assert [d for d, _ in starts(skip, date(2027, 3, 28), date(2027, 5, 4))] == [
        date(2027, 4, 5), date(2027, 4, 12), date(2027, 4, 19), date(2027, 4, 26)
    ]
    # St Andrew's Day is a holiday in Scotland, not England.
    scot = hub_settings(weekly=monday, terms=[], skip_bank_holidays=True, bank_holiday_region="SCT")
    assert date(2026, 11, 30) not in [d for d, _ in starts(scot, date(2026, 11, 29), date(2026, 12, 1))]
    assert date(2026, 11, 30) in [d for d, _ in starts(skip, date(2026, 11, 29), date(2026, 12, 1))]


def test_one_off_events_join_the_calendar_with_stable_keys():
    hub = hub_settings(events=[{"date": "2026-12-12", "start": "14:00", "kind": "celebration", "title": "Winter"}])
    sessions = sessions_between(hub, date(2026, 12, 7), date(2026, 12, 13))
    assert [(s.key, s.kind) for s in sessions] == [
        ("woking-20261208-1000", "weekly"),
        ("woking-20261212-1400-celebration", "celebration"),
    ]
    assert sessions_between(hub, date(2026, 12, 7), date(2026, 12, 13)) == sessions


async def test_sessions_are_stored_ahead_at_start_up_and_a_removed_date_is_cancelled(start_bot, settings, api):
    bot = await start_bot(settings)
    upcoming = await bot.store.upcoming_sessions("woking", bot.services.clock.now(), limit=3)
    assert [s.key for s in upcoming] == ["woking-20261124-1000", "woking-20261201-1000", "woking-20261208-1000"]
    first_ids = [s.id for s in upcoming]
    anna = api.user(520, "Anna")
    await join_as_family(bot, anna, companions=())
    member = await bot.store.member_by_user(520)
    await bot.store.record_rsvp(first_ids[1], member.id, "yes", bot.services.clock.now())
    await bot.stop()

    changed = settings.model_copy(update={"hubs": [
        settings.hubs[0].model_copy(update={"skip_dates": [date(2026, 12, 1)]}), settings.hubs[1]
    ]})
    bot = await start_bot(changed)
    upcoming = await bot.store.upcoming_sessions("woking", bot.services.clock.now(), limit=2)
    assert [s.id for s in upcoming] == [first_ids[0], first_ids[2]]
    removed = await bot.store.session(first_ids[1])
    assert removed.cancelled
    await bot.dispatch()
    assert "cancelled" in anna.last_text() and "1 December" in anna.last_text()
