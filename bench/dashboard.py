"""The dashboard's pages and the funder report's figures on a big hub: 5,000 members and a year of answers.

    .venv/bin/python -m bench.dashboard [--members 5000] [--requests 40] [--repeat 5] [--output F]

Method (figures in docs/benchmarks.md, "Dashboard"):
- The database of bench/summary_bench.py (the same seed: one hub, 5,000 members, a third with companions,
  weekly sessions over a year, RSVPs, check-ins, registers, term measures), "now" Monday 23 November 2026 09:00.
- The dashboard's aiohttp routes (bot.dashboard.web.add_routes) on a real socket on 127.0.0.1, with a signed-in
  coordinator's session cookie. Each page is fetched `--requests` times in a row by an aiohttp client after one
  warm-up; p50 and p95 are of the whole request (server-side work, HTTP, HTML). The register page is the most
  recent session's (every member of the hub is on it: 5,000 members and their companions, 60 a page).
  Then, for each page, a few requests each right after a write (so the figures cache is stale and the page's
  figures are worked out again): "after a change".
- Beside them, in the same run: the bare aggregate of bench/summary_bench.py (check-ins and RSVPs by session
  and answer over the year), the yardstick every figure is measured against on this noisy 2-core machine.
- The funder report's figures over the year (bot.reports.funder_report.gather_report + render_report) against
  the bare SQLite aggregate over the same rows (the goal: at most 3 times it), each the median of `--repeat`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.summary_bench import BARE, FIRST, HUB, LAST, NOW, hub, seed, timed
from bot.config import Settings
from bot.dashboard.auth import COOKIE
from bot.dashboard.web import add_routes
from bot.delivery.dispatcher import Dispatcher
from bot.domain.clock import ManualClock
from bot.messages.catalog import Catalog
from bot.reports.funder_report import gather_report, render_report
from bot.reports.weekly_summary import Period
from bot.services import Services
from storage import Store
from storage.db import to_db
from storage.presence import named_fetchall

COORDINATOR = 1
PAGES = ("", "term", "follow-ups", "register", "register/{session}", "alerts", "downloads")


async def run(members: int, requests: int, repeat: int) -> dict[str, Any]:
    hub_settings = hub()
    settings = Settings.model_validate({
        "hubs": [hub_settings.model_dump()], "telegram": {"token": "1:bench"},
        "dashboard": {"enabled": True, "port": 8080, "public_url": "http://127.0.0.1:8080"}})
    with tempfile.TemporaryDirectory() as folder:
        async with Store(Path(folder) / "bench.sqlite3") as store:
            started = time.perf_counter()
            counts = await seed(store, hub_settings, members, random.Random(5))
            print(f"seeded in {time.perf_counter() - started:.1f}s: {counts}")
            svc = Services(settings=settings, store=store, texts=Catalog.load(), clock=ManualClock(NOW),
                           dispatcher=Dispatcher())
            await store.create_dashboard_session("bench-session", COORDINATOR, "en", "csrf", NOW,
                                                 NOW + timedelta(days=1))
            recent = await store.sessions_for_register([HUB], NOW - timedelta(days=14), NOW)
            await store.open_register(recent[0].id, COORDINATOR, NOW)
            app = web.Application()
            add_routes(app, svc)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = runner.addresses[0][1]
            results: dict[str, Any] = {}

            async def bare() -> None:
                for sql in BARE:
                    await named_fetchall(store.db, sql, {"hub": HUB, "start": "", "end": to_db(NOW)})

            results["bare_aggregate"] = await timed("bare aggregate, the year (check-ins + RSVPs)", repeat, bare)
            jar = aiohttp.CookieJar(unsafe=True)
            jar.update_cookies({COOKIE: "bench-session"}, aiohttp.client.URL(f"http://127.0.0.1:{port}/"))
            changed = itertools.count()  # a different member each time, so every change is a real one
            async with aiohttp.ClientSession(cookie_jar=jar) as http:
                for page in PAGES:
                    url = f"http://127.0.0.1:{port}/dashboard/h/{HUB}/{page.format(session=recent[0].id)}"
                    samples = []
                    for number in range(requests + 1):
                        began = time.perf_counter()
                        async with http.get(url) as response:
                            body = await response.read()
                            assert response.status == 200, (page, response.status, body[:300])
                        if number:  # the first is the warm-up
                            samples.append((time.perf_counter() - began) * 1000)
                    cold = []
                    for _ in range(max(3, requests // 4)):  # after a change: the figures are worked out again
                        # a member changes their answer to the latest session: who came changes, so the kept
                        # attendance is brought up to date and every figure on the page is counted again
                        member = 1 + next(changed)
                        held = await store.rsvp(recent[0].id, member)
                        await store.record_rsvp(recent[0].id, member, "no" if held and held.answer == "yes" else "yes",
                                                NOW)
                        began = time.perf_counter()
                        async with http.get(url) as response:
                            await response.read()
                        cold.append((time.perf_counter() - began) * 1000)
                    cold.sort()
                    samples.sort()
                    figures = {"p50_ms": round(statistics.median(samples), 1),
                               "p95_ms": round(samples[max(0, int(len(samples) * 0.95 + 0.5) - 1)], 1),
                               "max_ms": round(samples[-1], 1), "bytes": len(body),
                               "cold_p50_ms": round(statistics.median(cold), 1), "cold_max_ms": round(cold[-1], 1)}
                    label = "/" + (page.split("/")[0] + ("/<latest>" if "{" in page else "") if page else "")
                    print(f"page {label:<26} p50 {figures['p50_ms']:>7.1f} ms  p95 {figures['p95_ms']:>7.1f} ms"
                          f"  after a change: p50 {figures['cold_p50_ms']:>7.1f} ms max {figures['cold_max_ms']:>7.1f}"
                          f"  ({figures['bytes']:,} bytes)")
                    results[f"page {label}"] = figures
            await runner.cleanup()

            year = Period(FIRST, LAST)
            texts = svc.texts

            async def report() -> str:
                return render_report(await gather_report(store, hub_settings, year, NOW), texts)

            window = year.window(hub_settings, NOW)

            async def bare_year() -> None:
                for sql in BARE:
                    await named_fetchall(store.db, sql, {"hub": HUB, "start": to_db(window.start),
                                                         "end": to_db(window.end)})

            results["bare_aggregate_year"] = await timed("bare aggregate over the report's year", repeat, bare_year)
            results["report"] = await timed("funder report: figures and Markdown (a year)", repeat, report)
    slowest = max(v["p95_ms"] for k, v in results.items() if k.startswith("page "))
    ratio = results["report"]["median_ms"] / results["bare_aggregate_year"]["median_ms"]
    print(f"slowest page p95: {slowest:.1f} ms (goal: under 200); report / bare aggregate: {ratio:.2f} (goal: 3)")
    return {"counts": counts, "results": results, "slowest_page_p95_ms": slowest, "report_over_bare": round(ratio, 2),
            "python": sys.version.split()[0], "run_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    figures = asyncio.run(run(args.members, args.requests, args.repeat))
    if args.output:
        args.output.write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()


