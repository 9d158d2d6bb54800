"""Tap latency while coordinators draw charts: p50/p99 of RSVP taps during ten /summary charts, beside the same
taps without charts, in the same run (issue 14: charts run off the event loop).

    .venv/bin/python -m bench.chart_taps [--members 200] [--rate 40] [--seconds 8] [--rounds 3]

Method (figures in docs/benchmarks.md, "Taps while charts are drawn"):
- imm-bot runs as its own OS process (bench.botprocess), polling its own local Bot API server in this process
  (bench.load.TapServer). Its database holds a hub with a year of history (bench.summary_bench.seed: weekly
  sessions in four terms, RSVPs, check-ins, registers), so /summary has a term of weeks to chart, and
  `--members` more members whose reminder is due: their reminder cards are the buttons the taps press.
- Open loop: taps offered at `--rate` a second for `--seconds`, each on a member's reminder (Yes, No, Maybe in
  turn: an SQLite commit, answerCallbackQuery and an edit). Latency is measured on the server's clock from the
  push to the bot's answer and edit, as a person tapping would see it.
- "quiet" is the yardstick: taps alone. "charts": the same taps while the hub's coordinator sends /summary ten
  times, evenly spread over the phase (each is the week's two messages and the chart, drawn by matplotlib).
  The phases alternate `--rounds` times, so a change in the machine's load hits both alike; the figures are
  each phase's p50 and p99 over all its rounds, and the ratio charts / quiet.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.botprocess import BotProcess, event_with_reminder_due, seed_members, write_config
from bench.load import Result, Taps, TapServer
from bench.summary_bench import TERMS, seed
from bench.taps import FIRST_USER, _reminded, machine
from storage import Store

HUB = "bench"
COORDINATOR = 4242
CHARTS = 10


async def start(workdir: Path, members: int, history: int, log: Any) -> tuple[TapServer, BotProcess, Taps]:
    server = TapServer()
    await server.start()
    db = workdir / "imm.sqlite3"
    hub = event_with_reminder_due(
        HUB, datetime.now(UTC), name="Bench Hub", coordinators=[COORDINATOR],
        weekly=[{"weekday": "tuesday", "start": "10:00"}],
        terms=[{"name": name, "start": first, "end": last} for name, first, last in TERMS])
    settings = write_config(workdir / "imm.toml", server, db, [hub], telegram={"messages_per_second": 5000})
    async with Store(db) as store:
        counts = await seed(store, settings.hubs[0], history, random.Random(5))
    log(f"history: {counts}")
    await seed_members(db, settings, HUB, members, first_user_id=FIRST_USER)
    process = BotProcess(workdir / "imm.toml", workdir / "imm.log")
    await process.start(server)
    targets = await _reminded(server, members, process)
    log(f"{members} reminders sent; pid {process.pid}")
    return server, process, Taps(server, targets, process.pid)


async def summaries(server: TapServer, count: int, seconds: float) -> int:
    """The coordinator sends /summary `count` times over `seconds`; returns how many charts arrived."""
    coordinator = server.user(COORDINATOR, "Cleo")
    mark = len(server.calls)
    for _ in range(count):
        await coordinator.send("/summary", wait=False)
        await asyncio.sleep(seconds / count)
    for _ in range(300):  # up to 30 s for the last charts
        photos = [c for c in server.calls[mark:] if c.method == "sendPhoto" and c.chat_id == COORDINATOR]
        if len(photos) >= count:
            return len(photos)
        await asyncio.sleep(0.1)
    return len([c for c in server.calls[mark:] if c.method == "sendPhoto" and c.chat_id == COORDINATOR])


def merged(label: str, results: list[Result]) -> Result:
    latencies = [x for r in results for x in r.latencies]
    return Result(label, results[0].offered, sum(r.completed for r in results), sum(r.seconds for r in results),
                  latencies, sum(r.bot_cpu for r in results), sum(r.load_cpu for r in results),
                  sum(r.errors for r in results), sum(r.late for r in results))


async def run(args: argparse.Namespace, log: Any = print) -> str:
    with tempfile.TemporaryDirectory(prefix="imm-chart-taps-") as tmp:
        server, process, taps = await start(Path(tmp), args.members, args.history, log)
        try:
            await taps.closed_loop("warm-up", 4, 1.0)
            charts_seen = await summaries(server, 1, 0.5)  # loads matplotlib in the worker thread once
            log(f"warm-up chart: {charts_seen}")
            quiet: list[Result] = []
            busy: list[Result] = []
            drawn = 0
            for round_ in range(args.rounds):
                result = await taps.open_loop("quiet", args.rate, args.seconds)
                quiet.append(result)
                log(f"round {round_ + 1} quiet:  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  "
                    f"late {result.late}")
                charts = asyncio.create_task(summaries(server, CHARTS, args.seconds))
                result = await taps.open_loop("charts", args.rate, args.seconds)
                drawn += await charts
                busy.append(result)
                log(f"round {round_ + 1} charts: p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms  "
                    f"late {result.late}")
        finally:
            await process.stop()
            await server.stop()
    a, b = merged("quiet", quiet), merged("charts", busy)
    lines = [f"Machine: {machine()}",
             f"{args.members} members tapping, {args.rate:g} taps/s offered, {args.seconds:g} s a phase, "
             f"{args.rounds} rounds; {drawn} charts drawn during the chart phases ({CHARTS} a round).", "",
             "| phase | taps | p50 ms | p99 ms | max ms | late |", "|---|---:|---:|---:|---:|---:|"]
    for r in (a, b):
        lines.append(f"| {r.label} | {r.completed} | {r.p50_ms:.0f} | {r.p99_ms:.0f} | "
                     f"{1000 * max(r.latencies, default=float('nan')):.0f} | {r.late} |")
    lines += ["", f"Ratio charts / quiet: p50 {b.p50_ms / a.p50_ms:.2f}, p99 {b.p99_ms / a.p99_ms:.2f}"]
    per_round = ", ".join(f"{q.p99_ms:.0f} / {c.p99_ms:.0f}" for q, c in zip(quiet, busy, strict=True))
    lines.append(f"p99 per round (quiet / charts, ms): {per_round}")
    text = "\n".join(lines) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    return text


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=200, help="members whose reminders the taps press")
    parser.add_argument("--history", type=int, default=300, help="members in the hub's year of history")
    parser.add_argument("--rate", type=float, default=40.0, help="taps offered a second")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(asyncio.run(run(args, log=lambda line: print(line, file=sys.stderr, flush=True))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
