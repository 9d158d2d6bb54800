"""The weekly summary reaches each of a hub's coordinators once a week, across restarts and downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.reports.charts import PNG_SIGNATURE
from tests.conftest import COORDINATOR_ID, OTHER_COORDINATOR_ID, hub_settings, make_settings
from tests.seed_term import SUMMARY_DUE, seed_term, term_hub
from tests.test_summary_figures import PRIVATE, WEEK10

SECOND_COORDINATOR = 9003
TITLE = "📊 Woking Community Hub: the week of"
CAMDEN_TITLE = "📊 Camden Hub: the week of"


@pytest.fixture
def summary_settings(api, db_path):
    woking = term_hub(coordinators=[COORDINATOR_ID, SECOND_COORDINATOR], weekly_summary={"enabled": True})
    camden = hub_settings(id="camden", name="Camden Hub", coordinators=[OTHER_COORDINATOR_ID],
                          safeguarding_lead=OTHER_COORDINATOR_ID, weekly=[{"weekday": "thursday", "start": "16:00"}],
                          weekly_summary={"enabled": True})
    return make_settings(api, db_path, hubs=[woking, camden])


def summaries(api, chat_id: int, title: str = TITLE) -> list[str]:
    return [c.text for c in api.sent_ok("sendMessage", chat_id) if c.text and c.text.startswith(title)]


def charts(api, chat_id: int) -> list[bytes]:
    return [c.params["photo"]["content"] for c in api.sent_ok("sendPhoto", chat_id)]


async def test_each_coordinator_gets_the_summary_and_chart_at_monday_nine_once(start_bot, summary_settings, api,
                                                                               clock):
    bot = await start_bot(summary_settings)
    await seed_term(bot.store, summary_settings.hubs[0])
    await bot.dispatch()
    assert summaries(api, COORDINATOR_ID) == []  # Monday 08:00: last week's is not due yet

    clock.set(SUMMARY_DUE)
    await bot.dispatch()
    for coordinator in (COORDINATOR_ID, SECOND_COORDINATOR):
        assert summaries(api, coordinator) == ["\n".join(WEEK10)]
        private = [c.text for c in api.sent_ok("sendMessage", coordinator) if c.text == "\n".join(PRIVATE)]
        assert len(private) == 1
        [png] = charts(api, coordinator)
        assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000
    assert len(summaries(api, OTHER_COORDINATOR_ID, CAMDEN_TITLE)) == 1
    assert summaries(api, OTHER_COORDINATOR_ID) == []  # nobody sees another hub's summary

    await bot.dispatch()
    clock.advance(timedelta(hours=5))
    await bot.dispatch()
    assert len(summaries(api, COORDINATOR_ID)) == 1 and len(charts(api, COORDINATOR_ID)) == 1


async def test_a_restart_after_sending_sends_nothing_twice_and_next_week_comes_once(start_bot, summary_settings,
                                                                                    api, clock):
    clock.set(SUMMARY_DUE)
    bot = await start_bot(summary_settings)
    await seed_term(bot.store, summary_settings.hubs[0])
    await bot.dispatch()
    await bot.stop()
    clock.advance(timedelta(hours=2))
    bot = await start_bot(summary_settings)
    await bot.dispatch()
    assert len(summaries(api, COORDINATOR_ID)) == 1 and len(charts(api, COORDINATOR_ID)) == 1

    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await bot.dispatch()
    await bot.dispatch()
    sent = summaries(api, COORDINATOR_ID)
    assert len(sent) == 2
    assert sent[1].startswith(f"{TITLE} Monday 23 November to Sunday 29 November")
    rows = await bot.store.deliveries_where(kind="weekly_summary", chat_id=COORDINATOR_ID)
    assert sorted({row.dedupe_key.split(":")[3] for row in rows}) == ["2026-W48", "2026-W49"]


async def test_a_summary_missed_while_the_bot_was_down_goes_out_when_it_is_back(start_bot, summary_settings, api,
                                                                                clock):
    bot = await start_bot(summary_settings)
    await seed_term(bot.store, summary_settings.hubs[0])
    await bot.stop()
    clock.set(datetime(2026, 11, 24, 18, 0, tzinfo=UTC))  # down over Monday morning, back on Tuesday
    bot = await start_bot(summary_settings)
    await bot.dispatch()
    assert summaries(api, COORDINATOR_ID) == ["\n".join(WEEK10)]
    assert len(summaries(api, SECOND_COORDINATOR)) == 1


async def test_a_summary_more_than_three_days_late_is_not_sent(start_bot, summary_settings, api, clock):
    clock.set(datetime(2026, 11, 26, 9, 1, tzinfo=UTC))
    bot = await start_bot(summary_settings)
    await bot.dispatch()
    assert summaries(api, COORDINATOR_ID) == []
    assert await bot.store.deliveries_where(kind="weekly_summary") == []


async def test_someone_no_longer_a_coordinator_when_it_is_sent_does_not_get_it(start_bot, summary_settings, api,
                                                                               clock, db_path):
    clock.set(SUMMARY_DUE)
    bot = await start_bot(summary_settings)
    [planner] = [plan for name, plan in bot.services.dispatcher.planners if name == "weekly_summary"]
    assert await planner(SUMMARY_DUE, bot.services) == 3 * 5  # three coordinators, five pieces each
    await bot.stop()
    woking = summary_settings.hubs[0].model_copy(update={"coordinators": [COORDINATOR_ID]})
    bot = await start_bot(make_settings(api, db_path, hubs=[woking, summary_settings.hubs[1]]))
    await bot.dispatch()
    assert len(summaries(api, COORDINATOR_ID)) == 1
    assert summaries(api, SECOND_COORDINATOR) == [] and charts(api, SECOND_COORDINATOR) == []
    rows = await bot.store.deliveries_where(kind="weekly_summary", chat_id=SECOND_COORDINATOR)
    assert len(rows) == 5 and {row.state for row in rows} == {"skipped"}


async def test_a_hub_can_turn_the_weekly_summary_off(start_bot, api, db_path, clock):
    settings = make_settings(api, db_path)  # the shared fixture's hubs have it off
    clock.set(SUMMARY_DUE)
    bot = await start_bot(settings)
    await bot.dispatch()
    assert await bot.store.deliveries_where(kind="weekly_summary") == []
