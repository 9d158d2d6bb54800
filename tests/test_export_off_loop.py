"""A year's CSV export of a big hub keeps the bot answering taps: the files are written off the event loop.

Before issue 14's fix the rows of a year (about 40,000 here) were turned into CSV on the event loop: every tap
waited for it, about a second and a half. Now the queries run on SQLite's thread and the CSV in the worker
thread that draws charts: the event loop's own share of the export's CPU falls from about 37 % to 5 %, and
taps made during the export are answered and stored.
"""

from __future__ import annotations

import asyncio
import random
import time

from bench.summary_bench import NOW, seed
from bench.summary_bench import hub as bench_hub
from storage import Store
from tests.conftest import COORDINATOR_ID, make_settings

MEMBERS = 600  # a year of a 600-member hub: 22,000 RSVPs, 15,000 check-ins, 28,000 attendance rows


async def tap_latency(user, label: str) -> float:
    started = time.perf_counter()
    await user.tap(label, timeout=30)
    return time.perf_counter() - started


async def test_taps_are_answered_while_a_year_is_exported(start_bot, api, db_path, clock):
    hub = bench_hub().model_copy(update={"coordinators": [COORDINATOR_ID], "open_link": True})
    clock.set(NOW)
    async with Store(db_path) as store:
        await seed(store, hub, MEMBERS, random.Random(5))
    bot = await start_bot(make_settings(api, db_path, hubs=[hub]))
    member = api.user(10_000, "Person1")
    await member.send("/next")
    cleo = api.user(COORDINATOR_ID, "Cleo")
    await cleo.send("/export")

    # 1. The event loop's own CPU during a year's export, against the whole process's (SQLite's thread and the
    # worker's included): CPU time, unlike a tap's latency, does not depend on what else the machine runs.
    start = len(api.calls)
    loop_cpu, all_cpu = time.thread_time(), time.process_time()  # this test runs on the event loop's thread
    await cleo.tap("Last 12 months", wait=False)
    await api.wait_for(lambda c: c.method == "sendDocument" and c.chat_id == COORDINATOR_ID
                       and c.params["document"].get("filename") == "answers.csv", timeout=90, after=start)
    loop_cpu, all_cpu = time.thread_time() - loop_cpu, time.process_time() - all_cpu
    print(f"export: event loop {loop_cpu:.2f} s of {all_cpu:.2f} s CPU")
    # Measured: 0.04 of 0.78 s off the loop; 0.36 of 0.96 s when the CSV was written on it.
    assert loop_cpu < 0.15 * all_cpu, "the export's heavy work runs off the event loop"
    await cleo.send("/export")

    labels = ["Yes", "No", "Maybe"]
    before = [await tap_latency(member, labels[n % 3]) for n in range(9)]

    start = len(api.calls)
    await cleo.tap("Last 12 months", wait=False)
    exported = asyncio.create_task(api.wait_for(
        lambda c: c.method == "sendDocument" and c.chat_id == COORDINATOR_ID
        and c.params["document"].get("filename") == "answers.csv", timeout=90, after=start))
    during: list[float] = []
    began = time.perf_counter()
    while not exported.done():
        during.append(await tap_latency(member, labels[len(during) % 3]))
    took = time.perf_counter() - began
    answers = (await exported).params["document"]["content"]
    assert answers.count(b"\r\n") > 10_000, "a year of check-ins was exported"
    assert len(during) >= 3, f"taps kept being answered during the {took:.1f} s export ({len(during)} taps)"
    # Wall-clock latency is reported, not asserted: on this shared 2-core machine an idle event loop alone
    # sometimes waits 0.3 s for a core. The CPU figures above are the proof; docs/benchmarks.md has latencies.
    print(f"export {took:.2f} s; {len(during)} taps, slowest {max(during) * 1000:.0f} ms; before: slowest "
          f"{max(before) * 1000:.0f} ms")
    # /next showed the next session's card, then the later dates: the taps went to that card
    card = next(m for m in reversed(member.messages())
                if any("yes" in str(button.get("text", "")).lower()
                       for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for button in row))
    session_id = int(card["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1])
    member_row = await bot.store.member_by_user(10_000)
    expected = {0: "yes", 1: "no", 2: "maybe"}[(len(during) - 1) % 3]
    assert (await bot.store.rsvp(session_id, member_row.id)).answer == expected, "every tap was stored"
