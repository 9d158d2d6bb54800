"""SIGKILL the real bot process at random moments while it sends reminders; restart it; count what arrived.

The bot runs as its own process (`python -m bot --config ... run`) against the local Bot API server in this
test's process, on a database seeded before it starts, with a session whose reminder is due now. Kills come
at seeded random moments: while it starts and plans, and at any point of a send. At the end every reachable
member has exactly one reminder, except that a kill may repeat the one message that was in flight (the server
took it, the bot never heard back): at most one such repeat per kill.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.botprocess import BotProcess, event_with_reminder_due, seed_members, write_config
from bot.simulator.localapi import LocalBotApi
from storage import Store

HUB = "crash"


@dataclass(frozen=True)
class Scenario:
    members: int
    kills: int
    per_second: float
    blocked: int
    seed: int
    server_error_rate: float = 0.0
    rate_limit_every: int = 0


def reminders_by_chat(api: LocalBotApi) -> Counter[int]:
    """Reminders the server accepted (delivered), per chat."""
    return Counter(call.chat_id for call in api.sent_ok("sendMessage") if call.chat_id is not None)


async def wait_for_sends(api: LocalBotApi, count: int, process: BotProcess, timeout: float) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while len(api.sent_ok("sendMessage")) < count:
        if time.monotonic() > deadline or not process.running:
            raise AssertionError(f"only {len(api.sent_ok('sendMessage'))} of {count} sends; log:\n{process.log_tail()}")
        await asyncio.sleep(0.005)


async def kill_at_random_moments(api: LocalBotApi, process: BotProcess, scenario: Scenario,
                                 rng: random.Random) -> list[float]:
    """Start and SIGKILL the bot `kills` times; returns the server-clock moments of the kills."""
    kills: list[float] = []
    interval = 1 / scenario.per_second
    for life in range(scenario.kills):
        await process.start(api)
        if life % 3 == 0:
            # Soon after start: while it syncs the timetable, plans the reminders or sends the first ones.
            await asyncio.sleep(rng.uniform(0.05, 0.6))
        else:
            await wait_for_sends(api, len(api.sent_ok("sendMessage")) + rng.randint(5, 40), process, 30)
            if life % 3 == 1:
                # At any point of the next send: rendering, claiming the row, on the wire, marking it sent.
                await asyncio.sleep(rng.uniform(0, interval))
            else:
                # The moment the server has taken a message, before the bot can hear back: it is sent again.
                await api.wait_for(lambda c: c.method == "sendMessage" and c.error_code is None, 30,
                                   after=len(api.calls))
        await process.kill()
        kills.append(time.monotonic())
    return kills


async def run_scenario(api: LocalBotApi, tmp_path: Path, scenario: Scenario) -> None:
    rng = random.Random(scenario.seed)
    api.faults.server_error_rate = scenario.server_error_rate
    api.faults.rate_limit_every = scenario.rate_limit_every
    api.faults.seed = scenario.seed
    db = tmp_path / "bot.sqlite3"
    settings = write_config(
        tmp_path / "bot.toml", api, db, [event_with_reminder_due(HUB, datetime.now(UTC))],
        dispatch_interval_seconds=0.2, telegram={"messages_per_second": scenario.per_second},
    )
    seeded = await seed_members(db, settings, HUB, scenario.members)
    chats = [member.telegram_user_id for member in seeded]
    blocked = set(rng.sample(chats, scenario.blocked))
    api.faults.blocked_chats |= blocked
    reachable = [chat for chat in chats if chat not in blocked]

    process = BotProcess(tmp_path / "bot.toml", tmp_path / "bot.log")
    kills = await kill_at_random_moments(api, process, scenario, rng)
    await process.start(api)
    try:
        deadline = time.monotonic() + 120
        while any(reminders_by_chat(api)[chat] == 0 for chat in reachable):
            assert time.monotonic() < deadline and process.running, process.log_tail()
            await asyncio.sleep(0.1)
        await api.wait_quiet(quiet=0.5, timeout=30)
    finally:
        await process.stop()

    received = reminders_by_chat(api)
    assert all(received[chat] >= 1 for chat in reachable), "a reachable member got no reminder"
    assert not any(received[chat] for chat in blocked), "a blocked chat was sent a reminder"
    repeated = [chat for chat in reachable if received[chat] > 1]
    assert all(received[chat] == 2 for chat in repeated), f"a reminder went three times: {received.most_common(3)}"
    assert len(repeated) <= len(kills), f"{len(repeated)} repeats after {len(kills)} kills"
    for chat in repeated:  # each repeat straddles a kill: the first copy was in flight when the bot died
        first, second = (call.at for call in api.sent_ok("sendMessage", chat))
        assert any(first <= kill <= second for kill in kills), f"chat {chat} got a repeat with no kill between"

    async with Store(db) as store:
        ledger = {delivery.chat_id: delivery.state for delivery in await store.deliveries_where(kind="reminder")}
        unreachable = [m for m in await store.members_of_hub(HUB) if not m.reachable]
    assert len(ledger) == scenario.members, "one ledger row per member, however often it was planned"
    assert all(ledger[chat] == "sent" for chat in reachable)
    # Refused by Telegram; or, if the kill came between noting the block and closing the row, skipped after it.
    assert all(ledger[chat] in ("failed", "skipped") for chat in blocked)
    assert {member.chat_id for member in unreachable} == blocked


async def test_ten_sigkills_during_a_fan_out_to_1000_members_repeat_at_most_one_message_each(api, tmp_path):
    await run_scenario(api, tmp_path, Scenario(members=1000, kills=10, per_second=60, blocked=7, seed=8))


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_thirty_sigkills_with_429s_and_502s_during_a_fan_out_to_3000_members(api, tmp_path):
    await run_scenario(api, tmp_path, Scenario(members=3000, kills=30, per_second=80, blocked=25, seed=21,
                                               server_error_rate=0.01, rate_limit_every=211))
