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
- Three bots, each its own process, server and database: "process" is imm-bot as it is (charts drawn in a
  worker process at a lower CPU priority); "thread" is the same bot drawing in a worker thread (issue 14's
  first step: bot.reports.charts.off_process replaced by off_loop before the bot starts); "loop" draws on the
  event loop itself, as before issue 14. The variants are made only here, by the command that starts the
  bot process; the bot has no such setting.
- Phases alternate bot by bot, `--rounds` times, so a change in the machine's load hits all alike; the figures
  are each phase's p50 and p99 over all its rounds, and the ratio charts / quiet per bot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
# How each variant's bot process starts: the real command, or the same after swapping how charts are drawn.
_SWAP = ("import sys, bot.reports.charts as charts\n{swap}\n"
         "from bot.cli import main\nraise SystemExit(main(['--config', sys.argv[1], 'run']))")
_ON_LOOP = "async def on_loop(draw, *args, **kwargs):\n    return draw(*args, **kwargs)\ncharts.off_process = on_loop"
VARIANTS = {
    "process": None,
    "thread": _SWAP.format(swap="charts.off_process = charts.off_loop"),
    "loop": _SWAP.format(swap=_ON_LOOP),
}


async def start(name: str, workdir: Path, members: int, history: int,
                log: Any) -> tuple[TapServer, BotProcess, Taps]:
    os.makedirs(workdir, exist_ok=True)
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
    log(f"{name}: history {counts}")
    await seed_members(db, settings, HUB, members, first_user_id=FIRST_USER)
    swap = VARIANTS[name]
    argv = None if swap is None else ["-c", swap, str(workdir / "imm.toml")]
    process = BotProcess(workdir / "imm.toml", workdir / "imm.log", argv=argv)
    await process.start(server)
    targets = await _reminded(server, members, process)
    log(f"{name}: {members} reminders sent; pid {process.pid}")
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
    started: dict[str, tuple[TapServer, BotProcess, Taps]] = {}
    quiet: dict[str, list[Result]] = {name: [] for name in args.bots}
    busy: dict[str, list[Result]] = {name: [] for name in args.bots}
    drawn = dict.fromkeys(args.bots, 0)
    with tempfile.TemporaryDirectory(prefix="imm-chart-taps-") as tmp:
        try:
            for name in args.bots:
                started[name] = await start(name, Path(tmp) / name, args.members, args.history, log)
                server, _, taps = started[name]
                await taps.closed_loop("warm-up", 4, 1.0)
                log(f"{name}: warm-up chart {await summaries(server, 1, 0.5)}")  # loads matplotlib once
            for round_ in range(args.rounds):
                for name in args.bots:
                    server, _, taps = started[name]
                    result = await taps.open_loop("quiet", args.rate, args.seconds)
                    quiet[name].append(result)
                    log(f"round {round_ + 1} {name:8} quiet:  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms")
                    charts = asyncio.create_task(summaries(server, args.charts, args.seconds))
                    result = await taps.open_loop("charts", args.rate, args.seconds)
                    drawn[name] += await charts
                    busy[name].append(result)
                    log(f"round {round_ + 1} {name:8} charts: p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms")
        finally:
            for server, process, _ in started.values():
                await process.stop()
                await server.stop()
    text = report(args, quiet, busy, drawn)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    return text


def report(args: argparse.Namespace, quiet: dict[str, list[Result]], busy: dict[str, list[Result]],
           drawn: dict[str, int]) -> str:
    lines = [f"Machine: {machine()}",
             f"{args.members} members tapping, {args.rate:g} taps/s offered, {args.seconds:g} s a phase, "
             f"{args.rounds} rounds; charts drawn during the chart phases: "
             + ", ".join(f"{name} {count}" for name, count in drawn.items()) + f" ({args.charts} a round).", "",
             "| bot | phase | taps | p50 ms | p99 ms | max ms | late | p99 charts / quiet |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name in quiet:
        a, b = merged("quiet", quiet[name]), merged("charts", busy[name])
        for r in (a, b):
            ratio = f"**{b.p99_ms / a.p99_ms:.2f}**" if r is b else ""
            lines.append(f"| {name} | {r.label} | {r.completed} | {r.p50_ms:.0f} | {r.p99_ms:.0f} | "
                         f"{1000 * max(r.latencies, default=float('nan')):.0f} | {r.late} | {ratio} |")
    lines.append("")
    for name in quiet:
        rounds = ", ".join(f"{q.p99_ms:.0f} / {c.p99_ms:.0f}" for q, c in zip(quiet[name], busy[name], strict=True))
        lines.append(f"{name}: p99 per round (quiet / charts, ms): {rounds}")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=200, help="members whose reminders the taps press")
    parser.add_argument("--history", type=int, default=300, help="members in the hub's year of history")
    parser.add_argument("--rate", type=float, default=40.0, help="taps offered a second")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--charts", type=int, default=CHARTS, help="/summary requests in each charts phase")
    parser.add_argument("--bots", default=",".join(VARIANTS), help="variants, comma-separated")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    args.bots = [name for name in args.bots.split(",") if name]
    unknown = set(args.bots) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown bot(s): {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(asyncio.run(run(args, log=lambda line: print(line, file=sys.stderr, flush=True))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
