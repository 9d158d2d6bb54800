"""Co-design's storage paths beside the features they copy, in the same run (ratios: the machine is shared).

    .venv/bin/python -m bench.codesign_bench [--members 1000] [--repeat 5]

Method (figures in docs/benchmarks.md, "Co-design"):
- A fresh database (the real migrations) with one hub and `--members` members who joined with contact consent,
  and the hub's next session.
- (1) Asking: `create_question` (the question and one ledger row per member who wants messages, one
  transaction) beside its yardstick `create_announcement` (the message and one ledger row per member).
- (2) Answering: every member taps an answer, then taps another (a change): `answer_question` per tap, beside
  the yardstick `answer_rsvp` (every member says Yes, then Maybe), one at a time as taps commit.
- (3) Counting: the weekly summary's co-design figures for the week (`closed_question_tallies` over one closed
  question with every member's answer, `idea_count`, `open_question_count`), beside the check-in GROUP BY
  (`checkin_tallies`) of the same week.
Each is the median of `--repeat` runs on a fresh database.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.config import HubSettings
from bot.domain.calendar import sessions_between
from bot.domain.people import NewCompanion
from storage import Store
from storage.presence import Window

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
HUB = HubSettings.model_validate({
    "id": "bench", "name": "Bench Hub", "coordinators": [1],
    "weekly": [{"weekday": "tuesday", "start": "10:00"}],
    "terms": [{"name": "Autumn 2026", "start": "2026-09-01", "end": "2026-12-18"}],
})


async def _store(folder: Path, members: int) -> tuple[Store, list[int], int]:
    store = Store(folder / "bench.sqlite3")
    await store.open()
    await store.sync_hubs([HUB], NOW)
    planned = sessions_between(HUB, date(2026, 11, 1), date(2026, 12, 1))
    await store.sync_sessions(HUB.id, planned, date(2026, 11, 1), date(2026, 12, 1), NOW)
    session = (await store.upcoming_sessions(HUB.id, NOW, 1))[0]
    ids = []
    for n in range(members):
        member = await store.complete_join(
            telegram_user_id=10_000 + n, chat_id=10_000 + n, first_name=f"M{n}", language="en", role="participant",
            hub_id=HUB.id, consents={"contact": "v1"}, companions=list[NewCompanion](), now=NOW)
        ids.append(member.id)
    return store, ids, session.id


async def one_run(members: int) -> dict[str, float]:
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store, ids, session_id = await _store(Path(tmp), members)
        try:
            start = time.perf_counter()
            await store.create_announcement(HUB.id, "Hello", 1, NOW, kind="announcement",
                                            expires_at=NOW + timedelta(days=2))
            times["ask: announcement (yardstick)"] = time.perf_counter() - start
            start = time.perf_counter()
            question = await store.create_question(HUB.id, "What next?", ["A", "B", "C"], 1, NOW,
                                                   NOW + timedelta(days=3), kind="codesign_question")
            times["ask: create_question"] = time.perf_counter() - start

            start = time.perf_counter()
            for answer in ("yes", "maybe"):
                for member_id in ids:
                    await store.answer_rsvp(session_id, member_id, answer, NOW, capacity=None)
            times["taps: answer_rsvp (yardstick)"] = time.perf_counter() - start
            start = time.perf_counter()
            for choice in (0, 1):
                for index, member_id in enumerate(ids):
                    await store.answer_question(question.id, member_id, (choice + index) % 3, NOW)
            times["taps: answer_question"] = time.perf_counter() - start

            await store.close_question(question.id, NOW + timedelta(hours=1), None, [])
            week = Window(HUB.id, NOW - timedelta(days=1), NOW + timedelta(days=7), NOW + timedelta(days=7),
                          date(2026, 11, 23))
            start = time.perf_counter()
            await store.checkin_tallies(week)
            times["count: checkin_tallies (yardstick)"] = time.perf_counter() - start
            start = time.perf_counter()
            await store.closed_question_tallies(HUB.id, week.start, week.end)
            await store.idea_count(HUB.id, week.start, week.end)
            await store.open_question_count(HUB.id, week.end)
            times["count: co-design figures"] = time.perf_counter() - start
        finally:
            await store.close()
    return times


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    runs = [await one_run(args.members) for _ in range(args.repeat)]
    medians = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    print(f"{args.members} members, median of {args.repeat} runs")
    for name, seconds in medians.items():
        print(f"  {name:40s} {seconds * 1000:9.2f} ms")
    for what, ours, yardstick in (("ask", "ask: create_question", "ask: announcement (yardstick)"),
                                  ("taps", "taps: answer_question", "taps: answer_rsvp (yardstick)"),
                                  ("count", "count: co-design figures", "count: checkin_tallies (yardstick)")):
        print(f"  ratio {what}: {medians[ours] / medians[yardstick]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
