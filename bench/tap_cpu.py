"""CPU per RSVP tap, counted rather than timed: imm-bot beside the bare PTB bot on the same aiohttp adapter.

    .venv/bin/python -m bench.tap_cpu [--taps 2000] [--in-flight 8] [--bots imm,bare-aiohttp]
    .venv/bin/python -m bench.tap_cpu --callgrind --taps 300        # instructions per tap (valgrind)
    .venv/bin/python -m bench.tap_cpu --profile /tmp/imm.prof        # where the main thread's time goes

bench.taps measures taps a second, which on a shared 2-core machine moves with everyone else's load. This
measures the work itself, for a fixed number of taps at a fixed number in flight (after a warm-up):
- CPU seconds per tap of the bot process, split by thread (the event loop's thread, and the others: aiosqlite's
  SQLite thread, PTB's job queue), from /proc. CPU time still grows a little on a loaded machine (shared
  caches), but far less than wall-clock rates do.
- With --callgrind, the bot runs under `valgrind --tool=callgrind` with instrumentation switched on only for
  the measured taps: instructions per tap, which do not depend on the machine's load at all (valgrind runs the bot
  about 50 times slower, so use a few hundred taps).
- With --profile, the bot runs under cProfile (bench.profiled), switched on only for the measured taps.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import Taps, process_cpu_seconds
from bench.taps import IMM, Contender, machine, start_bare, start_imm

BOTS = ("imm", "imm-httpx", "bare-aiohttp", "bare-tuned")
# Instrumentation off until the measured taps begin (`callgrind_control -i on`): start-up and the reminders'
# fan-out run at near full speed and are not counted.
CALLGRIND = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--dump-instr=no"]


@dataclass
class Measured:
    name: str
    taps: int
    seconds: float
    cpu: float
    threads: dict[str, float]
    polls: int
    instructions: int | None = None

    def line(self) -> str:
        split = ", ".join(f"{k} {1000 * v / self.taps:.2f}" for k, v in self.threads.items())
        instr = f"; {self.instructions / self.taps / 1e6:.2f} M instructions/tap" if self.instructions else ""
        return (f"{self.name}: {self.taps} taps, CPU {1000 * self.cpu / self.taps:.2f} ms/tap ({split}),"
                f" {self.polls / self.taps:.2f} getUpdates/tap, {self.taps / self.seconds:.0f} taps/s{instr}")


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds so far of each thread of a process: 'loop' (the main thread) and 'other'."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {"loop": 0.0, "other": 0.0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        out["loop" if int(task.name) == pid else "other"] += (int(fields[11]) + int(fields[12])) / ticks
    return out


async def fixed_taps(taps: Taps, count: int, in_flight: int, timeout: float = 600.0) -> int:  # noqa: ASYNC109
    """`count` taps, `in_flight` at a time; returns how many completed."""
    done = 0
    left = count
    give_up = time.perf_counter() + timeout

    async def worker() -> None:
        nonlocal done, left
        while left > 0:
            left -= 1
            if await taps._one([], give_up):
                done += 1

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return done


def callgrind_control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True, timeout=600)


def callgrind_total(out_dir: Path, pid: int) -> int:
    """Instructions (Ir) in the dumps valgrind wrote for `pid` (instrumented only during the taps)."""
    total = 0
    for path in out_dir.glob(f"callgrind.out.{pid}.*"):
        for line in path.read_text(errors="replace").splitlines():
            match = re.match(r"^totals:\s+(\d+)", line)
            if match:
                total += int(match.group(1))
                break
    return total


async def one(name: str, args: argparse.Namespace, workdir: Path, log: Any) -> Measured:
    wrapper = [*CALLGRIND, f"--callgrind-out-file={workdir}/callgrind.out.%p"] if args.callgrind else None
    prefix = ["-m", "bench.profiled", str(args.profile.with_suffix(f".{name}.prof"))] if args.profile else None
    timeout = 300.0 if args.callgrind else 20.0
    if name in IMM:
        contender: Contender = await start_imm(name, workdir / name, args.members, log, wrapper=wrapper,
                                               prefix=prefix, timeout=timeout)
    else:
        contender = await start_bare(name, workdir / name, args.members, log, wrapper=wrapper, prefix=prefix,
                                     timeout=timeout)
    try:
        pid = contender.process.pid
        await fixed_taps(contender.taps, args.warmup, args.in_flight)
        if args.callgrind:
            callgrind_control(pid, "-z")
            callgrind_control(pid, "-i", "on")
        if args.profile:
            os.kill(pid, signal.SIGUSR1)
        before, threads_before = process_cpu_seconds(pid), thread_cpu(pid)
        polls, began = contender.server.polls, time.perf_counter()
        done = await fixed_taps(contender.taps, args.taps, args.in_flight)
        seconds = time.perf_counter() - began
        cpu, threads_after = process_cpu_seconds(pid) - before, thread_cpu(pid)
        if args.profile:
            os.kill(pid, signal.SIGUSR2)
            await asyncio.sleep(1.0)
        instructions = None
        if args.callgrind:
            callgrind_control(pid, "-i", "off")
            callgrind_control(pid, "-d")
            instructions = callgrind_total(workdir, pid)
        threads = {k: threads_after[k] - threads_before.get(k, 0.0) for k in threads_after}
        return Measured(name, done, seconds, cpu, threads, contender.server.polls - polls, instructions)
    finally:
        await contender.process.stop(timeout=120.0 if args.callgrind else 15.0)
        await contender.server.stop()


async def run(args: argparse.Namespace, log: Any) -> list[Measured]:
    results = []
    with tempfile.TemporaryDirectory(prefix="imm-tapcpu-") as tmp:
        for name in args.bots:
            result = await one(name, args, Path(tmp), log)
            log(result.line())
            results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--taps", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--bots", default="imm,bare-aiohttp")
    parser.add_argument("--callgrind", action="store_true", help="count instructions under valgrind")
    parser.add_argument("--profile", type=Path, help="cProfile the bots' event-loop thread to <this>.<bot>.prof")
    args = parser.parse_args(argv)
    args.bots = [b for b in args.bots.split(",") if b]
    if set(args.bots) - set(BOTS):
        parser.error(f"bots: {', '.join(BOTS)}")
    if args.in_flight > args.members:
        parser.error("--members must be at least --in-flight")

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    log(f"Machine: {machine()}")
    results = asyncio.run(run(args, log))
    imm = next((r for r in results if r.name == "imm"), None)
    for other in results:
        if imm is not None and other is not imm:
            ratio = (imm.cpu / imm.taps) / (other.cpu / other.taps)
            line = f"imm / {other.name}: CPU per tap {ratio:.2f} x"
            if imm.instructions and other.instructions:
                per_tap = (imm.instructions / imm.taps) / (other.instructions / other.taps)
                line += f", instructions per tap {per_tap:.2f} x"
            print(line)
    for result in results:
        print(result.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
