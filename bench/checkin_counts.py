"""Check-in counts kept as answers arrive (migration 017): the reads before and after, and what each tap pays.

    .venv/bin/python -m bench.checkin_counts [--members 5000] [--rounds 5] [--repeat 5] [--taps 2000]

Method (figures in docs/benchmarks.md, "Check-in counts kept as answers arrive (migration 017)"):
- The hub of bench/summary_bench.py, seeded the same way (5,000 members, a year of weekly sessions and answers).
- Reads, in one process on one database, alternated round by round: the check-in totals as main counted them
  (the GROUP BY over every check-in and sent check-in message of the window, word for word: `old_tallies` of
  tests/test_checkin_counts.py), as
  `Store.checkin_tallies` reads them now (the kept `checkin_counts`), and the yardstick, the bare aggregate of
  bench/summary_bench.py (`BARE`), each over the year and over the term (Autumn 2026 to the week summarised).
  Each figure is the median of `--repeat` runs after a warm-up; every round checks old and new agree.
  Also the funder report's figures (`gather_report`, a year) with main's query patched in, against as it is.
- Taps: a copy of the database without the six triggers of migration 017 (the attendance triggers of 016 stay
  in both). Each round, on both copies in turn, `--taps` check-in answers through `Store.record_checkin_answer`
  as the bot records a tap (each its own transaction): half first answers (the round's session, whose answers
  are deleted beforehand, untimed), half changes to them. Rounds alternate which copy goes first. Then the same
  statements on plain sqlite3 connections (the database's share of a tap, without the event loop), on other
  sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.summary_bench import BARE, FIRST, HUB, LAST, NOW, hub, seed
from bot.config import HubSettings
from bot.reports.funder_report import gather_report
from bot.reports.weekly_summary import Period, week_before
from storage import Store
from storage.db import to_db
from storage.presence import Window, named_fetchall
from storage.reports import ReportQueries
from tests.test_checkin_counts import old_tallies

TRIGGERS = ("checkin_counts_checkin_insert", "checkin_counts_checkin_update", "checkin_counts_checkin_delete",
            "checkin_counts_delivery_insert", "checkin_counts_delivery_update", "checkin_counts_delivery_delete")


# What checkin_tallies returned before migration 017 (the old GROUP BY, word for word), as a method of the Store:
# the same oracle tests/test_checkin_counts.py checks the kept counts against.
old_checkin_tallies = old_tallies


async def median_ms(repeat: int, job: Callable[[], Awaitable[Any]]) -> float:
    await job()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await job()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def reads(store: Store, settings: HubSettings, rounds: int, repeat: int) -> dict[str, list[float]]:
    year = Period(FIRST, LAST).window(settings, NOW)
    week = week_before(date(2026, 11, 23)).window(settings, NOW)
    term = Window(HUB, week_before(date(2026, 9, 7)).window(settings, NOW).start, week.end, NOW, week.anchor)
    original = ReportQueries.checkin_tallies
    figures: dict[str, list[float]] = {}

    def bare(window: Window) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            for sql in BARE:
                await named_fetchall(store.db, sql, {"hub": HUB, "start": window.params()["start"],
                                                     "end": window.params()["end"]})
        return run

    async def report() -> None:
        await gather_report(store, settings, Period(FIRST, LAST), NOW)

    for number in range(rounds):
        for span, window in (("year", year), ("term", term)):
            old = await old_checkin_tallies(store, window)
            assert old == await store.checkin_tallies(window) and old, span
            jobs = [(f"old {span}", lambda w=window: old_checkin_tallies(store, w)),
                    (f"new {span}", lambda w=window: store.checkin_tallies(w)),
                    (f"bare {span}", bare(window))]
            for label, job in jobs if number % 2 == 0 else jobs[::-1]:
                figures.setdefault(label, []).append(await median_ms(repeat, job))
        for label, patched in (("report old", True), ("report new", False)):
            ReportQueries.checkin_tallies = old_checkin_tallies if patched else original  # type: ignore[method-assign]
            try:
                figures.setdefault(label, []).append(await median_ms(max(1, repeat // 2), report))
            finally:
                ReportQueries.checkin_tallies = original  # type: ignore[method-assign]
        print(f"round {number + 1}: " + ", ".join(f"{k} {v[-1]:.1f}" for k, v in figures.items()), flush=True)
    return figures


async def taps(paths: dict[str, Path], settings: HubSettings, rounds: int, count: int) -> dict[str, list[float]]:
    stores = {label: Store(path) for label, path in paths.items()}
    for store in stores.values():
        await store.open()
    try:
        held = [row[0] for row in await stores["with"].db.fetchall(
            "SELECT id FROM sessions WHERE hub_id = ? AND starts_at < ? ORDER BY starts_at", (HUB, to_db(NOW)))]
        members = list(range(1, count // 2 + 1))
        figures: dict[str, list[float]] = {}
        for number in range(rounds):
            session = held[-(number + 1)]
            order = ["with", "without"] if number % 2 == 0 else ["without", "with"]
            for label in order:
                store = stores[label]
                async with store.db.transaction() as conn:  # untimed: the round's session has no answers yet
                    await conn.execute("DELETE FROM checkins WHERE session_id = ?", (session,))
                rng = random.Random(number)
                started = time.perf_counter()
                for step in range(count):
                    feeling = rng.choice(["happier", "same", "less_happy"])
                    await store.record_checkin_answer(
                        session_id=session, hub_id=HUB, member_id=members[step % len(members)],
                        changes={"feeling": feeling} if step < len(members) else {"connected": "yes"},
                        answered_as="self", changeable_after=NOW - timedelta(days=400), now=NOW)
                figures.setdefault(label, []).append((time.perf_counter() - started) * 1e6 / count)
            print(f"taps round {number + 1}: " + ", ".join(f"{k} {v[-1]:.0f} µs" for k, v in figures.items()),
                  flush=True)
        assert await stores["with"].checkin_tallies(Period(FIRST, LAST).window(settings, NOW))
        return figures
    finally:
        for store in stores.values():
            await store.close()


def sql_taps(paths: dict[str, Path], rounds: int, count: int) -> dict[str, list[float]]:
    """The database's share of a tap alone: the statements `record_checkin_answer` runs (look up, insert or
    update, look up again), each tap its own BEGIN IMMEDIATE ... COMMIT, on plain sqlite3 connections set up as
    storage.db sets up the writer, without the event loop and aiosqlite's thread hand-overs."""
    conns = {}
    for label, path in paths.items():
        conn = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "secure_delete=ON"):
            conn.execute(f"PRAGMA {pragma}")
        conns[label] = conn
    held = [row[0] for row in conns["with"].execute(
        "SELECT id FROM sessions WHERE hub_id = ? AND starts_at < ? ORDER BY starts_at", (HUB, to_db(NOW)))]
    members = list(range(1, count // 2 + 1))
    stamp = to_db(NOW)
    figures: dict[str, list[float]] = {}
    select = "SELECT id, feeling FROM checkins WHERE session_id = ? AND member_id = ?"
    for number in range(rounds):
        session = held[-(number + 1 + rounds)]  # not the sessions the Store's taps used
        for label in (["with", "without"] if number % 2 == 0 else ["without", "with"]):
            conn = conns[label]
            conn.execute("DELETE FROM checkins WHERE session_id = ?", (session,))
            started = time.perf_counter()
            for step in range(count):
                member = members[step % len(members)]
                conn.execute("BEGIN IMMEDIATE")
                row = conn.execute(select, (session, member)).fetchone()
                if row is None:
                    conn.execute("INSERT INTO checkins (session_id, hub_id, member_id, answered_as, first_answered_at,"
                                 " updated_at, feeling) VALUES (?, ?, ?, 'self', ?, ?, 'happier')",
                                 (session, HUB, member, stamp, stamp))
                else:
                    conn.execute("UPDATE checkins SET connected = 'yes', answered_as = 'self', updated_at = ?"
                                 " WHERE id = ?", (stamp, row[0]))
                conn.execute(select, (session, member)).fetchone()
                conn.execute("COMMIT")
            figures.setdefault(label, []).append((time.perf_counter() - started) * 1e6 / count)
        print(f"sql taps round {number + 1}: " + ", ".join(f"{k} {v[-1]:.0f} µs" for k, v in figures.items()),
              flush=True)
    for conn in conns.values():
        conn.close()
    return figures


async def run(members: int, rounds: int, repeat: int, count: int) -> dict[str, dict[str, list[float]]]:
    settings = hub()
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as folder:
        path, bare_path = Path(folder) / "with.sqlite3", Path(folder) / "without.sqlite3"
        async with Store(path) as store:
            started = time.perf_counter()
            counts = await seed(store, settings, members, random.Random(5))
            print(f"seeded in {time.perf_counter() - started:.0f}s: {counts}", flush=True)
            figures = await reads(store, settings, rounds, repeat)
        with sqlite3.connect(path) as source, sqlite3.connect(bare_path) as target:
            source.backup(target)
            for name in TRIGGERS:
                target.execute(f'DROP TRIGGER "{name}"')
        tap_figures = await taps({"with": path, "without": bare_path}, settings, rounds, count)
        sql_figures = sql_taps({"with": path, "without": bare_path}, rounds, count)
    print(f"load average at end: {os.getloadavg()}")
    print("\nmedian over rounds (each round's figure a median of its runs), and each round / bare of that round:")
    for span in ("year", "term"):
        bare = figures[f"bare {span}"]
        for kind in ("old", "new"):
            values = figures[f"{kind} {span}"]
            ratios = [v / b for v, b in zip(values, bare, strict=True)]
            print(f"  {kind} {span:<5} {statistics.median(values):8.1f} ms  × bare {statistics.median(ratios):.2f}"
                  f"  ({', '.join(f'{r:.2f}' for r in ratios)})")
        print(f"  bare {span:<4} {statistics.median(bare):8.1f} ms  ({', '.join(f'{b:.0f}' for b in bare)})")
    for kind in ("old", "new"):
        values = figures[f"report {kind}"]
        print(f"  report {kind}: {statistics.median(values):.0f} ms ({', '.join(f'{v:.0f}' for v in values)})")
    for label in ("without", "with"):
        values = tap_figures[label]
        each = ", ".join(f"{v:.0f}" for v in values)
        print(f"  tap {label} the triggers: {statistics.median(values):.0f} µs ({each})")
    for label in ("without", "with"):
        values = sql_figures[label]
        each = ", ".join(f"{v:.0f}" for v in values)
        print(f"  the tap's SQL alone, {label} the triggers: {statistics.median(values):.0f} µs ({each})")
    return {"reads": figures, "taps": tap_figures, "sql_taps": sql_figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--taps", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(run(args.members, args.rounds, args.repeat, args.taps))


if __name__ == "__main__":
    main()
