"""Many people tapping at once are answered together, not queued behind a bulk-sending limit."""

from __future__ import annotations

import asyncio
import time

from tests.conftest import make_settings
from tests.reminder_helpers import add_member

PEOPLE = 120


async def test_taps_from_many_people_are_not_held_to_30_a_second(start_bot, api, db_path):
    # AIORateLimiter's overall cap of 30 a second would also hold every edit that answers a tap: 120 taps
    # would take at least 4 seconds. Bulk sends are paced by the dispatcher instead.
    bot = await start_bot(make_settings(api, db_path, telegram={
        "token": api.token, "api_base_url": api.base_url, "api_file_url": api.base_file_url,
        "messages_per_second": 10_000,
    }))
    for n in range(PEOPLE):
        await add_member(bot, 5000 + n, f"Member{n}")
    report = await bot.dispatch()
    assert report.sent == PEOPLE
    people = [api.user(5000 + n, f"Member{n}") for n in range(PEOPLE)]

    began = time.monotonic()
    await asyncio.gather(*(person.tap("Yes", timeout=20) for person in people))
    took = time.monotonic() - began

    edited = [c for c in api.sent_ok("editMessageText") if c.chat_id in {p.id for p in people}]
    assert len(edited) == PEOPLE
    assert took < 3.0, f"{PEOPLE} taps took {took:.1f}s"
