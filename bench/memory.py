"""Memory of the running bot process with a large hub: start, reminder fan-out, then RSVP taps.

    .venv/bin/python -m bench.memory [--members 50000] [--fanout-seconds 60] [--taps 3000]

The bot runs as its own process (`python -m bot --config ... run`) on a database seeded with `--members`
members of one hub whose reminder is due, against the local Bot API server in this process. Its resident
memory (VmRSS, and the peak VmHWM) is read from /proc while it plans and sends the reminders for
`--fanout-seconds` (or until all are sent), answers `--taps` RSVP taps (64 in flight), and then builds the
weekly summary a coordinator asks for with /summary (figures over the whole hub, and the chart, which a child
process draws: matplotlib never loads into the bot).
Goal (issue 8): at most 120 MB with 50,000 members.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.botprocess import BotProcess, event_with_reminder_due, seed_members, write_config
from bench.load import Taps, TapServer, Target
from bench.taps import FIRST_USER, answer_datas, machine
from bot.config import WEEKDAYS

GOAL_MB = 120
COORDINATOR = 9001


@dataclass
class MemoryReport:
    members: int
    seed_seconds: float = 0.0
    after_start_mb: float = 0.0
    sent: int = 0
    fanout_seconds: float = 0.0
    taps: int = 0
    samples: list[tuple[str, float]] = field(default_factory=list)  # (moment, VmRSS MB)
    peak_mb: float = 0.0  # VmHWM at the end
    summary_mb: float = 0.0  # after a coordinator's /summary (figures over the hub, and the chart)
    summary_seconds: float = 0.0

    def markdown(self) -> str:
        met = "met" if self.peak_mb <= GOAL_MB else "NOT met"
        lines = [
            f"Machine: {machine()}",
            f"Members: {self.members:,} (seeded in {self.seed_seconds:.0f} s)",
            f"Resident memory after start-up: {self.after_start_mb:.1f} MB",
            f"Reminders sent while measured: {self.sent:,} in {self.fanout_seconds:.0f} s; then {self.taps:,} taps",
            f"Peak resident memory (VmHWM): {self.peak_mb:.1f} MB, goal {GOAL_MB} MB: {met}",
            f"A coordinator's /summary (figures, and the chart drawn in a child process) took"
            f" {self.summary_seconds:.1f} s; resident memory after it: {self.summary_mb:.1f} MB",
            "",
            "| moment | VmRSS MB |",
            "|---|---|",
            *(f"| {moment} | {mb:.1f} |" for moment, mb in self.samples),
        ]
        return "\n".join(lines) + "\n"


def reminded_targets(server: TapServer, members: int, limit: int) -> list[Target]:
    targets = []
    for chat in range(FIRST_USER, FIRST_USER + members):
        for message in server.chat_messages(chat):
            datas = answer_datas(message)
            if datas is not None:
                targets.append(Target(chat, int(message["message_id"]), datas))
                break
        if len(targets) >= limit:
            break
    return targets


async def measure(members: int, fanout_seconds: float, taps: int, workdir: Path, log: object = print) -> MemoryReport:
    report = MemoryReport(members)
    server = TapServer()
    await server.start()
    db = workdir / "memory.sqlite3"
    today = datetime.now(UTC).date()
    term = {"name": "This term", "start": today - timedelta(days=40), "end": today + timedelta(days=40)}
    # A weekly slot two days ago makes last week's session a held one: the summary then has a week to chart.
    weekday = WEEKDAYS[(today - timedelta(days=2)).weekday()]
    hub = event_with_reminder_due("big", datetime.now(UTC), coordinators=[COORDINATOR], terms=[term],
                                  weekly=[{"weekday": weekday, "start": "10:00"}])
    settings = write_config(workdir / "memory.toml", server, db, [hub], telegram={"messages_per_second": 10_000})
    began = time.monotonic()
    await seed_members(db, settings, "big", members, first_user_id=FIRST_USER)
    report.seed_seconds = time.monotonic() - began
    process = BotProcess(workdir / "memory.toml", workdir / "memory.log")
    try:
        await process.start(server)
        report.after_start_mb = process.memory_kb()["VmRSS"] / 1024
        report.samples.append(("started", report.after_start_mb))
        began = time.monotonic()

        def reminders_sent() -> int:
            # Only the members' reminders: on a Monday the coordinator also gets the weekly summary, which is
            # not part of the fan-out being measured (and must not make the count depend on the day).
            return sum(1 for call in server.sent_ok("sendMessage") if call.chat_id != COORDINATOR)

        while time.monotonic() - began < fanout_seconds and reminders_sent() < members:
            await asyncio.sleep(1.0)
            sent = reminders_sent()
            moment = f"{time.monotonic() - began:.0f} s, {sent:,} sent"
            report.samples.append((moment, process.memory_kb()["VmRSS"] / 1024))
            log(f"{report.samples[-1][0]}: {report.samples[-1][1]:.1f} MB")  # type: ignore[operator]
        report.sent, report.fanout_seconds = reminders_sent(), time.monotonic() - began
        targets = reminded_targets(server, members, 512)
        if taps and targets:
            runner = Taps(server, targets, process.pid)
            done = 0
            while done < taps:
                result = await runner.closed_loop("memory", min(64, len(targets)), 2.0)
                done += result.completed
            report.taps = done
            report.samples.append((f"after {done:,} taps", process.memory_kb()["VmRSS"] / 1024))
        began, mark = time.monotonic(), len(server.calls)
        await server.user(COORDINATOR, "Coordinator").send("/summary", timeout=120)
        # after=mark: the chart of /summary, not a weekly summary's chart sent earlier on a Monday.
        await server.wait_for(lambda call: call.method == "sendPhoto" and call.chat_id == COORDINATOR, 120,
                              after=mark)
        report.summary_seconds = time.monotonic() - began
        report.summary_mb = process.memory_kb()["VmRSS"] / 1024
        report.samples.append(("after /summary", report.summary_mb))
        report.peak_mb = process.memory_kb()["VmHWM"] / 1024
    finally:
        await process.stop()
        await server.stop()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--fanout-seconds", type=float, default=60.0, help="how long to measure the fan-out")
    parser.add_argument("--taps", type=int, default=3000)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="imm-memory-") as tmp:
        report = asyncio.run(measure(args.members, args.fanout_seconds, args.taps, Path(tmp), log))
    text = report.markdown()
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    print(text)
    return 0 if report.peak_mb <= GOAL_MB or os.environ.get("IMM_BENCH_NO_FAIL") else 1


if __name__ == "__main__":
    raise SystemExit(main())
