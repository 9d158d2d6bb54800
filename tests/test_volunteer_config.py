"""Issue 17's settings and retention: bad volunteer settings exit 2 naming the key; old tasks and quiet referrers'
chats go with the daily retention run, while the counts stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.cli import main
from bot.config import load_settings
from tests.test_config import EXAMPLE, write
from tests.test_volunteers import volunteer, volunteering

HUB = '[[hubs]]\nid = "w"\nname = "W"\n[hubs.volunteers]\n'


@pytest.mark.parametrize(
    ("snippet", "key"),
    [
        (HUB + 'tasks = [{ id = "Tea Urn", name = "Tea" }]\n', "hubs[0].volunteers.tasks[0].id"),
        (HUB + 'tasks = [{ id = "tea", name = "" }]\n', "hubs[0].volunteers.tasks[0].name"),
        (HUB + 'tasks = [{ id = "tea", name = "Tea", kinds = ["party"] }]\n', "hubs[0].volunteers.tasks[0].kinds[0]"),
        (HUB + 'tasks = [{ id = "tea", name = "Tea" }, { id = "tea", name = "Urn" }]\n',
         "tasks[1]: id 'tea' is used twice"),
        (HUB + 'steps = [{ id = "x" }]\n', "hubs[0].volunteers.steps[0].name"),
        (HUB + "tasks_per_volunteer = 0\n", "hubs[0].volunteers.tasks_per_volunteer"),
        (HUB + 'reminder_at = "9am"\n', "hubs[0].volunteers.reminder_at"),
        (HUB + "gap_notice_days_before = 30\n", "hubs[0].volunteers.gap_notice_days_before"),
        (HUB + "task = []\n", "hubs[0].volunteers.task"),
        ('[[hubs]]\nid = "ref_surgery"\nname = "W"\n', "hubs[0].id"),
    ],
)
def test_bad_volunteer_settings_exit_2_naming_the_key(tmp_path, capsys, snippet, key):
    assert main(["--config", str(write(tmp_path, snippet)), "check-config"]) == 2
    assert key in capsys.readouterr().err


def test_the_example_configures_tasks_and_steps():
    hub = load_settings(EXAMPLE).hubs[0]
    assert [task.id for task in hub.volunteers.tasks] and [step.id for step in hub.volunteers.steps]


async def test_retention_removes_old_tasks_and_quiet_referrers_chats_and_keeps_counts(start_bot, api, db_path,
                                                                                      clock):
    from tests.conftest import make_settings

    bot = await start_bot(make_settings(api, db_path, hubs=[volunteering()]))
    _, vera = await volunteer(bot, api, 801, "Vera")
    session = (await bot.store.upcoming_sessions("woking", clock.now(), 1))[0]
    await bot.store.take_task(session.id, "tea", vera.id, 1, clock.now())
    await bot.store.toggle_step(vera.id, "woking", "induction", 9001, clock.now())
    link = await bot.store.create_referral_link("woking", "Surgery", 9001, clock.now())
    await bot.store.register_referrer(link.referrer_code, 802, "en", clock.now())

    clock.set(session.ends_at + timedelta(days=700))
    await bot.dispatch()
    assert (await bot.store.tasks_taken([session.id]))[session.id], "inside the 730 days"
    clock.set(datetime.combine((session.ends_at + timedelta(days=732)).date(), datetime.min.time(), UTC)
              + timedelta(hours=4))
    await bot.dispatch()
    assert (await bot.store.tasks_taken([session.id]))[session.id] == {}
    assert (await bot.store.referral_link(link.code)).referrer_chat_id is None
    assert (await bot.store.referral_link(link.code)).organisation == "Surgery"
    assert (await bot.store.steps_of("woking", [vera.id]))[vera.id] == {"induction"}, "steps stay with the volunteer"
