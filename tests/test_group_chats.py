"""Commands that show people's data answer only in private chats; in a group the bot asks to be written to."""

from __future__ import annotations

import time

from bot.messages.catalog import Catalog
from tests.conftest import COORDINATOR_ID
from tests.test_rights import ZEB_ID, join_zebedee

GROUP = -100_777


async def say_in_group(api, person, text: str) -> list:
    before = len(api.calls_to(chat_id=GROUP))
    command = text.split()[0]
    api.push_update({"message": {
        "message_id": int(time.monotonic() * 1000) % 1_000_000, "from": person.as_dict(), "chat": api._chat(GROUP),
        "date": int(time.time()), "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
    }})
    await api.wait_quiet(quiet=0.3)
    return api.calls_to(chat_id=GROUP)[before:]


async def test_personal_commands_in_a_group_ask_for_a_private_chat_in_the_readers_language(bot, api):
    texts = Catalog.load()
    zeb, _ = await join_zebedee(bot, api)
    coordinator = api.user(COORDINATOR_ID, "Cleo")
    olena = api.user(860_003_300, "Olena", language_code="uk")
    for person, command, lang in ((zeb, "/next", "en"), (zeb, "/mydata", "en"), (zeb, "/forget", "en"),
                                  (coordinator, "/sessions", "en"), (coordinator, "/summary", "en"),
                                  (coordinator, "/register", "en"), (olena, "/next", "uk"),
                                  (olena, "/start woking", "uk"),
                                  (zeb, f"/next@{bot.application.bot.username}", "en")):
        calls = await say_in_group(api, person, command)
        assert [c.method for c in calls] == ["sendMessage"], (command, calls)
        assert calls[0].params["text"] == texts.get("common.private_only", lang), command
    assert api.sent_ok("sendDocument") == []
    assert await bot.store.member_by_user(860_003_300) is None and await bot.store.join_draft(860_003_300) is None
    assert await bot.store.member_by_user(ZEB_ID) is not None  # /forget in a group asked nothing, did nothing

    calls = await say_in_group(api, zeb, "/privacy")  # shows nobody's data: answers anywhere
    assert [c.method for c in calls] == ["sendMessage"] and "private_only" not in calls[0].params["text"]
    assert calls[0].params["text"] != texts.get("common.private_only", "en")

    await zeb.send("/next")  # in private, as ever
    assert zeb.last_text() != texts.get("common.private_only", "en")
