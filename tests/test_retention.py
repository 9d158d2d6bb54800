"""Retention: after the configured period, individual answers lose their person; the figures stay."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bot.config import RetentionSettings
from bot.jobs.retention import cutoff, due_day
from tests.conftest import START, make_settings
from tests.test_rights import ZEB_ID, join_zebedee, seed_a_term

FIGURES = (
    "SELECT c.hub_id, c.feeling, c.connected, COUNT(*) AS n,"
    " (SELECT COUNT(*) FROM measure_answers) AS items, (SELECT SUM(value) FROM measure_answers) AS total"
    " FROM checkins c GROUP BY c.hub_id, c.feeling, c.connected ORDER BY 1, 2, 3"
)


def at_local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """`day_offset` days after START's date, at this UTC time (= London time in winter)."""
    return datetime.combine(START.date() + timedelta(days=day_offset), time(hour, minute), tzinfo=UTC)


async def linked_answers(bot) -> int:
    export = await bot.store.export_person(ZEB_ID)
    return export.count("checkins") + export.count("measure_runs")


async def test_answers_are_detached_once_older_than_the_period_and_figures_stay(bot, api, clock):
    _, member = await join_zebedee(bot, api)
    await seed_a_term(bot, member)
    figures = [tuple(row) for row in await bot.store.db.fetchall(FIGURES)]

    clock.set(at_local(729, 4))
    await bot.dispatch()
    assert await linked_answers(bot) == 2, "still inside the 730 days"

    clock.set(at_local(731, 3))
    await bot.dispatch()
    assert await linked_answers(bot) == 2, "before run_at (03:30) nothing runs"

    clock.set(at_local(731, 3, 45))
    await bot.dispatch()
    assert await linked_answers(bot) == 0
    rows = await bot.store.db.fetchall("SELECT member_id, anonymised_at FROM checkins UNION ALL"
                                       " SELECT member_id, anonymised_at FROM measure_runs")
    assert all(row[0] is None and row[1] is not None for row in rows)
    assert [tuple(row) for row in await bot.store.db.fetchall(FIGURES)] == figures
    assert await bot.store.member_by_user(ZEB_ID) is not None, "the member stays; only old answers are detached"


async def test_retention_runs_once_a_day_and_a_restart_does_not_repeat_it(start_bot, settings, api, clock):
    bot = await start_bot(settings)
    _, member = await join_zebedee(bot, api)
    clock.set(at_local(800, 9))
    await bot.dispatch()
    assert await bot.store.retention_ran_on(clock.now().date())

    # An answer that is already old enough but arrives after today's run waits for tomorrow's.
    await seed_a_term(bot, member, at=START)
    await bot.stop()
    bot = await start_bot(settings)
    await bot.dispatch()
    assert await linked_answers(bot) == 2

    clock.set(at_local(801, 3, 31))
    await bot.dispatch()
    assert await linked_answers(bot) == 0


async def test_missed_days_are_caught_up_on_the_next_tick(start_bot, api, db_path, clock):
    settings = make_settings(api, db_path, retention={"anonymise_answers_after_days": 30, "run_at": "23:00"})
    bot = await start_bot(settings)
    _, member = await join_zebedee(bot, api)
    await seed_a_term(bot, member)
    await bot.stop()
    clock.set(at_local(45, 23, 30))  # the bot was down for 45 days; it comes back after run_at
    bot = await start_bot(settings)
    await bot.dispatch()
    assert await linked_answers(bot) == 0


def test_the_daily_run_is_due_from_run_at_in_london_time() -> None:
    rules = RetentionSettings(anonymise_answers_after_days=730, run_at=time(3, 30))
    summer = datetime(2027, 7, 1, 2, 31, tzinfo=UTC)  # 03:31 in London (BST)
    assert due_day(summer, rules) == summer.date()
    assert due_day(summer - timedelta(minutes=2), rules) is None
    assert cutoff(summer, rules) == summer - timedelta(days=730)
