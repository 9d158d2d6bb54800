"""The assembled application: commands registered at start-up, errors survived, unknown input answered."""

from __future__ import annotations

import asyncio

from telegram.ext import ApplicationHandlerStop, CommandHandler

from bot.app import HOLD_WHEN_SLOTS
from bot.transport.client import UpdateQueue
from tests.conftest import COORDINATOR_ID


async def _until(condition, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_the_command_list_is_registered_in_each_language_at_start_up(bot, api):
    calls = api.calls_to("setMyCommands")
    default = next(c for c in calls if not c.params.get("language_code") and not c.params.get("scope"))
    names = [command["command"] for command in default.params["commands"]]
    assert {"start", "help", "language", "privacy"} <= set(names)
    assert {c.params.get("language_code") for c in calls} >= {None, "uk"}
    coordinator = [c for c in calls if (c.params.get("scope") or {}).get("chat_id") == COORDINATOR_ID]
    assert coordinator, "coordinators get their own command list"


async def test_an_error_in_a_handler_is_logged_answered_and_the_bot_goes_on(bot, api, caplog):
    async def broken(update, context):
        raise RuntimeError("boom")

    bot.application.add_handler(CommandHandler("boom", broken), group=-5)
    kim = api.user(601, "Kim")
    await kim.send("/boom")
    assert any("something went wrong" in text for text in kim.texts())
    assert "boom" in caplog.text
    await kim.send("/help")
    assert "invite link" in kim.last_text()


async def test_unknown_commands_and_stray_text_get_a_kind_reply(bot, api):
    lou = api.user(602, "Lou")
    await lou.send("/frobnicate")
    assert "do not know that command" in lou.last_text()
    await lou.send("hello there")
    assert "I only understand buttons and commands" in lou.last_text()


async def test_help_and_privacy_work_for_anyone_at_any_time(bot, api):
    max_ = api.user(603, "Max")
    await max_.send("/privacy")
    text = max_.last_text()
    assert "Intergenerational Music Making" in text and "ico.org.uk" in text and "2 years" in text
    await max_.send("/help")
    assert "not watched all the time" in max_.last_text()


async def test_polling_leaves_updates_with_telegram_while_the_bot_holds_more_than_it_can_work_on(bot, api):
    updates = bot.application.update_queue
    assert isinstance(updates, UpdateQueue)
    assert updates.hold_at == HOLD_WHEN_SLOTS * bot.services.settings.telegram.concurrent_updates
    updates.hold_at = 2  # small, to see it
    release, handled = asyncio.Event(), []

    async def slow(update, context):
        await release.wait()
        handled.append(update.effective_user.id)
        raise ApplicationHandlerStop

    bot.application.add_handler(CommandHandler("slow", slow), group=-5)
    people = [api.user(610 + n, f"P{n}") for n in range(4)]
    for person in people[:2]:
        await person.send("/slow", wait=False)
    await _until(lambda: updates.in_hand == 2)
    for person in people[2:]:
        await person.send("/slow", wait=False)
    await asyncio.sleep(0.3)
    assert updates.in_hand == 2 and handled == []  # the other two wait with Telegram, not in the bot
    release.set()
    await _until(lambda: len(handled) == 4 and updates.in_hand == 0)
    assert sorted(handled) == [610, 611, 612, 613]  # nothing lost: fetched once there was room


def test_start_up_objects_are_left_out_of_later_full_collections():
    import gc

    from bot.runtime import settle_garbage_collector

    assert gc.get_freeze_count() == 0
    try:
        settle_garbage_collector()
        assert gc.get_freeze_count() > 10_000  # modules, classes, functions: what start-up made
        assert gc.get_count()[0] < 50  # collected first: no garbage of start-up's frozen with them
    finally:
        gc.unfreeze()  # the rest of the test session collects as before
