"""Weekly summary and funder report on a big hub: 5,000 members and a year of answers, beside the bare aggregate.

    .venv/bin/python -m bench.summary_bench [--members 5000] [--repeat 7] [--output F]

Method (figures in docs/benchmarks.md, "Weekly summary and report"):
- A fresh database (the real migrations) holds one hub with weekly Tuesday sessions in four terms over a year
  (24 November 2025 to 17 November 2026, 45 sessions). Each of `--members` members (a third bring one or two
  companions) answers each session at random with a fixed seed: Yes 65 %, Maybe 10 %, No 10 %, nothing 15 %;
  Yes and Maybe get a check-in message (a 'checkin' ledger row) and 80 % of them answer it (happier 70 %,
  same 20 %, less happy 10 %; one in twenty says they could not come). Every fourth session has a saved
  register. 1,000 members answer the term measures at the start and end of each term. Rows are written
  with executemany, straight into the tables (the bench is not production code).
- Timed, each the median of `--repeat` runs after one warm-up, through the Store's aiosqlite reader as the bot
  does: (1) the weekly summary's figures and text (bot.reports.weekly_summary.gather + summary_messages) for the week
  of 16 to 22 November 2026: last week, the term so far (Autumn 2026, 12 weeks), follow-ups over 10 weeks,
  next week, alerts, and new/returning (which looks at the whole year); (2) the chart; (3) the funder report's
  figures and Markdown over the whole year; (4) the report with its three CSV files and chart.
- The yardstick: the bare aggregate over the same rows, i.e. the GROUP BYs a summary cannot do without: the
  hub's check-ins by session and answer, and its RSVPs by session and answer, for every session up to the end
  of the week summarised (the year of answers the summary is asked about), on the same connection. Issue 8's
  goal: the summary within three times that. For candour the same GROUP BY over only the 12 weeks of the term
  (the span whose attendance the summary works out in full) is timed too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config import HubSettings
from bot.domain.calendar import sessions_between
from bot.messages.catalog import Catalog
from bot.reports.funder_report import gather_report, render_report, report_files
from bot.reports.summary import summary_messages
from bot.reports.weekly_summary import Period, chart_png, gather, week_before
from storage import Store
from storage.db import to_db
from storage.presence import named_fetchall

HUB = "bench"
FIRST = date(2025, 11, 24)
LAST = date(2026, 11, 22)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TERMS = [("Winter 2025", "2025-11-24", "2025-12-19"), ("Spring 2026", "2026-01-05", "2026-03-27"),
         ("Summer 2026", "2026-04-13", "2026-07-17"), ("Autumn 2026", "2026-09-01", "2026-12-18")]
BARE = [
    """SELECT s.id, c.feeling, COUNT(*) FROM sessions s JOIN checkins c ON c.session_id = s.id
       WHERE s.hub_id = :hub AND s.starts_at >= :start AND s.starts_at < :end GROUP BY s.id, c.feeling""",
    """SELECT s.id, r.answer, COUNT(*) FROM sessions s JOIN rsvps r ON r.session_id = s.id
       WHERE s.hub_id = :hub AND s.starts_at >= :start AND s.starts_at < :end GROUP BY s.id, r.answer""",
]


def hub() -> HubSettings:
    return HubSettings.model_validate({
        "id": HUB, "name": "Bench Hub", "coordinators": [1], "weekly": [{"weekday": "tuesday", "start": "10:00"}],
        "terms": [{"name": n, "start": s, "end": e} for n, s, e in TERMS],
    })


async def seed(store: Store, settings: HubSettings, members: int, rng: random.Random) -> dict[str, int]:
    stamp = to_db(datetime(2025, 11, 1, tzinfo=UTC))
    await store.sync_hubs([settings], NOW)
    planned = sessions_between(settings, FIRST, LAST + timedelta(days=7))
    await store.sync_sessions(HUB, planned, FIRST, LAST + timedelta(days=7), datetime(2025, 11, 1, tzinfo=UTC))
    sessions = [(await store.session_by_key(s.key)) for s in planned]
    people = [(n + 1, 10_000 + n) for n in range(members)]
    counts: dict[str, int] = {"sessions": len(sessions), "members": members}
    async with store.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO members (id, telegram_user_id, chat_id, first_name, role, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 'participant', ?, ?)",
            [(mid, uid, uid, f"Person{mid}", stamp, stamp) for mid, uid in people])
        await conn.executemany("INSERT INTO memberships (member_id, hub_id, joined_at) VALUES (?, ?, ?)",
                               [(mid, HUB, stamp) for mid, _ in people])
        companions = [(mid, f"Child{mid}{k}", rng.choice(["under_5", "age_5_11", "older"]), "child", stamp)
                      for mid, _ in people if rng.random() < 1 / 3 for k in range(rng.choice([1, 2]))]
        await conn.executemany("INSERT INTO companions (member_id, name, age_band, relationship, created_at)"
                               " VALUES (?, ?, ?, ?, ?)", companions)
        counts["companions"] = len(companions)
        rsvps, deliveries, checkins = [], [], []
        for session in sessions:
            if session is None or session.starts_at > NOW + timedelta(days=7):
                continue
            asked_at = to_db(session.ends_at)
            for mid, uid in people:
                roll = rng.random()
                answer = "yes" if roll < 0.65 else "maybe" if roll < 0.75 else "no" if roll < 0.85 else None
                if answer is None:
                    continue
                rsvps.append((session.id, mid, answer, asked_at))
                if answer == "no" or session.starts_at > NOW:
                    continue
                deliveries.append((f"checkin:{session.id}:{mid}", mid, uid, session.id, asked_at))
                if rng.random() < 0.8:
                    absent = rng.random() < 0.05
                    feeling = None if absent else rng.choices(["happier", "same", "less_happy"], [7, 2, 1])[0]
                    connected = None if absent else rng.choice(["yes", "a_little", "not_really"])
                    checkins.append((session.id, mid, feeling, connected, int(absent), asked_at))
        await conn.executemany("INSERT INTO rsvps (session_id, member_id, answer, updated_at) VALUES (?, ?, ?, ?)",
                               rsvps)
        await conn.executemany(
            "INSERT INTO deliveries (kind, dedupe_key, member_id, chat_id, hub_id, session_id, due_at, state,"
            f" created_at) VALUES ('checkin', ?, ?, ?, '{HUB}', ?, ?, 'sent', ?)",
            [(*row, row[-1]) for row in deliveries])
        await conn.executemany(
            "INSERT INTO checkins (session_id, hub_id, member_id, feeling, connected, absent, first_answered_at,"
            f" updated_at) VALUES (?, '{HUB}', ?, ?, ?, ?, ?, ?)", [(*row, row[-1]) for row in checkins])
        counts.update(rsvps=len(rsvps), checkin_messages=len(deliveries), checkins=len(checkins))
    held = [s for s in sessions if s is not None and s.starts_at < NOW]
    for session in held[::4]:
        await store.open_register(session.id, 1, session.starts_at)
        await store.save_register(session.id, 1, session.starts_at)
    counts["registers"] = len(held[::4])
    counts["measure_runs"] = await _measures(store, rng, members)
    return counts


async def _measures(store: Store, rng: random.Random, members: int) -> int:
    items = [("ons_life_satisfaction", "ons_0_10", 10), ("ons_worthwhile", "ons_0_10", 10),
             ("ons_happiness", "ons_0_10", 10), ("ons_anxiety", "ons_anxiety_0_10", 10),
             ("ucla_lack_companionship", "ucla_1_3", 3), ("ucla_left_out", "ucla_1_3", 3),
             ("ucla_isolated", "ucla_1_3", 3)]
    runs = 0
    async with store.db.transaction() as conn:
        for term, start, end in TERMS:
            for point, day in (("start", start), ("end", end)):
                at = to_db(datetime.fromisoformat(day).replace(tzinfo=UTC))
                for member in range(1, min(members, 1000) + 1):  # fewer at toy sizes (tests)
                    cursor = await conn.execute(
                        "INSERT INTO measure_runs (member_id, hub_id, term, point, question_set, answered_as,"
                        " started_at, completed_at) VALUES (?, ?, ?, ?, 'ons4', ?, ?, ?) RETURNING id",
                        (member, HUB, term, point, "on_behalf" if member % 20 == 0 else "self", at, at))
                    run = (await cursor.fetchone())[0]
                    await conn.executemany(
                        "INSERT INTO measure_answers (run_id, item, scale, value, answered_at) VALUES (?, ?, ?, ?, ?)",
                        [(run, item, scale, rng.randint(1 if top == 3 else 0, top), at) for item, scale, top in items])
                    runs += 1
    return runs


async def timed(label: str, repeat: int, job: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    await job()  # warm-up: page cache, statement cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await job()
        samples.append((time.perf_counter() - started) * 1000)
    result = {"median_ms": round(statistics.median(samples), 1), "min_ms": round(min(samples), 1),
              "max_ms": round(max(samples), 1)}
    print(f"{label:<46} {result['median_ms']:>9.1f} ms  (min {result['min_ms']}, max {result['max_ms']})")
    return result


async def run(members: int, repeat: int) -> dict[str, Any]:
    settings, texts = hub(), Catalog.load()
    period = week_before(date(2026, 11, 23))
    year = Period(FIRST, LAST)
    with tempfile.TemporaryDirectory() as folder:
        async with Store(Path(folder) / "bench.sqlite3") as store:
            started = time.perf_counter()
            counts = await seed(store, settings, members, random.Random(5))
            print(f"seeded in {time.perf_counter() - started:.1f}s: {counts}")
            week = period.window(settings, NOW)
            span_start = week_before(date(2026, 9, 7)).window(settings, NOW).start  # the term's first Monday

            def bare_over(params: dict[str, str]) -> Callable[[], Awaitable[None]]:
                async def bare() -> None:
                    for sql in BARE:
                        await named_fetchall(store.db, sql, params)
                return bare

            bare = bare_over({"hub": HUB, "start": "", "end": to_db(week.end)})
            bare_term = bare_over({"hub": HUB, "start": to_db(span_start), "end": to_db(week.end)})

            async def summary() -> list[str]:
                return summary_messages(await gather(store, settings, period, NOW, so_far=False), texts)

            figures = await gather(store, settings, period, NOW, so_far=False)
            results = {
                "bare_aggregate": await timed("bare aggregate, the year (check-ins + RSVPs)", repeat, bare),
                "bare_aggregate_term": await timed("bare aggregate, the 12 weeks of the term", repeat, bare_term),
                "summary": await timed("weekly summary: figures and text", repeat, summary),
                "chart": await timed("chart (matplotlib, PNG, in a child process)", repeat,
                                    lambda: chart_png(figures, texts)),
                "report": await timed("funder report: figures and Markdown (a year)", repeat,
                                      lambda: _report(store, settings, year, texts)),
                "report_files": await timed("funder report with CSV files and chart", max(1, repeat // 2),
                                            lambda: report_files(store, settings, year, NOW, texts)),
            }
            ratio = results["summary"]["median_ms"] / results["bare_aggregate"]["median_ms"]
            term_ratio = results["summary"]["median_ms"] / results["bare_aggregate_term"]["median_ms"]
            print(f"summary / bare aggregate over the year: {ratio:.2f} (goal: at most 3); over the term: "
                  f"{term_ratio:.2f}")
            print("\n".join((await summary())[:1]))
    return {"counts": counts, "results": results, "summary_over_bare": round(ratio, 2),
            "summary_over_bare_term": round(term_ratio, 2),
            "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()}}


async def _report(store: Store, settings: HubSettings, year: Period, texts: Catalog) -> str:
    return render_report(await gather_report(store, settings, year, NOW), texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--output", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    figures = asyncio.run(run(args.members, args.repeat))
    if args.output:
        args.output.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
