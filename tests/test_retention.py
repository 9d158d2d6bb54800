"""Retention: after the configured period, individual answers lose their person; the figures stay."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bot.config import RetentionSettings
from bot.jobs.retention import cutoff, due_day
from storage.db import to_db
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


async def counts(bot) -> dict[str, int]:
    db = bot.store.db
    return {
        "drafts": (await db.fetchone("SELECT COUNT(*) FROM join_drafts"))[0],
        "inputs": (await db.fetchone("SELECT COUNT(*) FROM awaiting_input"))[0],
        "linked_alerts": (await db.fetchone("SELECT COUNT(*) FROM alerts WHERE member_id IS NOT NULL"))[0],
        "alerts": (await db.fetchone("SELECT COUNT(*) FROM alerts"))[0],
        # Tuesday 24 November's: the first session after START, the one seed_a_term uses
        "session_deliveries": (await db.fetchone(
            "SELECT COUNT(*) FROM deliveries WHERE session_id = (SELECT id FROM sessions WHERE starts_at > ?"
            " ORDER BY starts_at LIMIT 1)", (to_db(START),)))[0],
    }


async def leave_things_behind(bot, api) -> None:
    """A join abandoned half-way, a question never answered, an alert, and a session's sent reminder."""
    halfway = api.user(860_004_242, "Halima")
    await halfway.send("/start woking")
    await halfway.tap("English")
    _, member = await join_zebedee(bot, api)
    await bot.store.expect_input(ZEB_ID, "test.note", {"about": "Ottoline"}, START)
    await seed_a_term(bot, member)
    await bot.dispatch()  # the reminder goes out: a settled ledger row of Tuesday's session


async def test_each_retention_rule_removes_or_detaches_once_its_period_is_over_across_restarts(
        start_bot, settings, api, clock):
    bot = await start_bot(settings)
    await leave_things_behind(bot, api)
    start = await counts(bot)
    assert start["drafts"] == start["linked_alerts"] == start["alerts"] == 1
    assert start["inputs"] >= 1 and start["session_deliveries"] >= 1  # the joiner's next answer is awaited too

    clock.set(at_local(6, 4))  # six days on: within every period
    await bot.dispatch()
    assert await counts(bot) == start

    await bot.stop()
    clock.set(at_local(8, 4))  # a restart on day 8: the abandoned join and the unanswered question go
    bot = await start_bot(settings)
    await bot.dispatch()
    now = await counts(bot)
    assert (now["drafts"], now["inputs"], now["linked_alerts"]) == (0, 0, 1) and now["session_deliveries"] >= 1
    assert await bot.store.join_draft(860_004_242) is None and await bot.store.awaited_input(ZEB_ID) is None

    # Today's run is done and recorded: a question left (backdated) after it waits for tomorrow's, even across
    # another restart.
    await bot.store.expect_input(ZEB_ID, "test.note", {}, START)
    await bot.stop()
    bot = await start_bot(settings)
    await bot.dispatch()
    assert (await counts(bot))["inputs"] == 1
    clock.set(at_local(9, 3, 31))
    await bot.dispatch()
    assert (await counts(bot))["inputs"] == 0

    clock.set(at_local(32, 4))  # Tuesday's session ended more than 30 days ago: its ledger rows go
    await bot.dispatch()
    assert (await counts(bot))["session_deliveries"] == 0
    assert (await counts(bot))["linked_alerts"] == 1

    clock.set(at_local(91, 4))  # 90 days after it was raised the alert no longer names the person; it stays
    await bot.dispatch()
    assert await counts(bot) == {"drafts": 0, "inputs": 0, "linked_alerts": 0, "alerts": 1, "session_deliveries": 0}
    assert await bot.store.member_by_user(ZEB_ID) is not None
    runs = await bot.store.db.fetchall(
        "SELECT local_date, drafts_removed, inputs_removed, alerts_detached, deliveries_pruned FROM retention_runs"
        " ORDER BY local_date")
    done = [tuple(bool(n) for n in tuple(row)[1:]) for row in runs if any(tuple(row)[1:])]
    assert done == [(True, True, False, False), (False, True, False, False), (False, False, False, True),
                    (False, False, True, True)]  # day 91 also prunes the later sessions' rows
    assert len({row[0] for row in runs}) == len(runs) == 6  # days 0, 6, 8, 9, 32 and 91: each once


async def test_a_bot_down_for_months_catches_up_every_rule_on_its_first_tick(start_bot, settings, api, clock):
    bot = await start_bot(settings)
    await leave_things_behind(bot, api)
    await bot.stop()
    clock.set(at_local(120, 12))
    bot = await start_bot(settings)
    await bot.dispatch()
    assert await counts(bot) == {"drafts": 0, "inputs": 0, "linked_alerts": 0, "alerts": 1, "session_deliveries": 0}
