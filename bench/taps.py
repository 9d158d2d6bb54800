"""RSVP taps end to end: imm-bot beside a bare python-telegram-bot bot, in the same run, on the same machine.

    .venv/bin/python -m bench.taps [--members 300] [--seconds 3] [--output figures.md]

Method (docs/benchmarks.md has the figures):
- Each bot runs as its own OS process, polling its own local Bot API server (bench.load.TapServer). The
  servers and the load generator share this process; the bots get the other core. Bots and generator in one
  process would share one GIL, and the generator's work would be billed to the bot.
- imm-bot is started from a config file on a database seeded with `--members` members of a hub whose
  reminder is due; it sends them their real reminders, and the taps press the real buttons (Yes, No, Maybe in
  turn, so every tap changes the answer: an SQLite commit, answerCallbackQuery and an edit).
- The bare bot (bench.bare_ptb) answers and edits every tap and stores nothing; its messages are planted in
  its server. "bare-default" is ApplicationBuilder's defaults on a default install (no sniffio);
  "bare-sniffio" the same with sniffio installed; "bare-tuned" adds concurrent_updates=24 and a 32-connection
  pool; "bare-aiohttp" is bare-tuned on imm-bot's aiohttp adapter (bot/transport/client.py), so what separates
  it from imm is imm-bot's own work.
- Closed loop: N taps kept in flight for `--seconds` (N = 1 .. 256), throughput = taps completed in the window.
  Open loop: taps offered at fixed rates, p50/p99 latency. Phases of the bots alternate level by level, so a
  change in the machine's load (other processes) hits all bots alike.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.botprocess import BotProcess, event_with_reminder_due, seed_members, write_config
from bench.load import Result, Taps, TapServer, Target

BARE = {
    "bare-default": ["--without-sniffio"],
    "bare-sniffio": [],
    "bare-tuned": ["--concurrent", "24", "--pool", "32"],
    "bare-aiohttp": ["--concurrent", "24", "--pool", "32", "--aiohttp"],  # bare-tuned on imm-bot's HTTP adapter
}
IMM = {
    "imm": {},
    "imm-httpx": {"http_client": "httpx"},  # the same bot on PTB's own HTTP client (httpx)
}
BOT_NAMES = (*IMM, *BARE)
FIRST_USER = 100_000
LABELS = ("yes", "no", "maybe")


@dataclass
class Contender:
    name: str
    server: TapServer
    process: BotProcess
    taps: Taps
    results: list[Result] = field(default_factory=list)


def _buttons(message: dict[str, Any]) -> dict[str, str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return {str(b.get("text", "")).casefold(): str(b["callback_data"]) for row in rows for b in row
            if "callback_data" in b}


def answer_datas(message: dict[str, Any]) -> tuple[str, ...] | None:
    """The callback data of the Yes, No and Maybe buttons of a reminder, in that order."""
    found = []
    for label in LABELS:
        data = next((d for text, d in _buttons(message).items() if text.split()[-1:] == [label]
                     or text.split()[:1] == [label]), None)
        if data is None:
            return None
        found.append(data)
    return tuple(found)


async def start_imm(name: str, workdir: Path, members: int, log: Any,
                    telegram: dict[str, Any] | None = None, *, wrapper: list[str] | None = None,
                    prefix: list[str] | None = None, timeout: float = 20.0) -> Contender:  # noqa: ASYNC109
    """imm-bot on a seeded database; waits until every member has their reminder with its buttons.

    `telegram` overrides settings of the bot's [telegram] table (concurrent_updates, connection_pool_size);
    `wrapper` goes before the interpreter (valgrind), `prefix` before `-m bot` (bench.profiled), for bench.tap_cpu.
    """
    os.makedirs(workdir, exist_ok=True)
    server = TapServer()
    await server.start()
    db = workdir / "imm.sqlite3"
    settings = write_config(workdir / "imm.toml", server, db, [event_with_reminder_due("bench", datetime.now(UTC))],
                            telegram={"messages_per_second": 5000, **IMM[name], **(telegram or {})})
    await seed_members(db, settings, "bench", members, first_user_id=FIRST_USER)
    argv = [*(prefix or []), "-m", "bot", "--config", str(workdir / "imm.toml"), "run"]
    process = BotProcess(workdir / "imm.toml", workdir / "imm.log", argv=argv, wrapper=wrapper or [])
    await process.start(server, timeout=timeout)
    targets = await _reminded(server, members, process, timeout=max(120.0, 10 * timeout))
    log(f"{name}: {members} reminders sent; pid {process.pid}")
    return Contender(name, server, process, Taps(server, targets, process.pid))


async def _reminded(server: TapServer, members: int, process: BotProcess, timeout: float = 120.0) -> list[Target]:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        targets = []
        for chat in range(FIRST_USER, FIRST_USER + members):
            for message in reversed(server.chat_messages(chat)):
                datas = answer_datas(message)
                if datas is not None:
                    targets.append(Target(chat, int(message["message_id"]), datas))
                    break
        if len(targets) == members:
            return targets
        if loop.time() > deadline or not process.running:
            raise RuntimeError(f"only {len(targets)} of {members} reminders arrived; bot log:\n{process.log_tail()}")
        await asyncio.sleep(0.2)


async def start_bare(name: str, workdir: Path, members: int, log: Any, *, wrapper: list[str] | None = None,
                     prefix: list[str] | None = None, timeout: float = 20.0) -> Contender:  # noqa: ASYNC109
    os.makedirs(workdir, exist_ok=True)
    server = TapServer()
    await server.start()
    argv = [*(prefix or []), "-m", "bench.bare_ptb", "--base-url", server.base_url, "--token", server.token,
            *BARE[name]]
    process = BotProcess(None, workdir / f"{name}.log", argv=argv, ready="deleteWebhook", wrapper=wrapper or [])
    await process.start(server, timeout=timeout)
    markup = {"inline_keyboard": [[{"text": label, "callback_data": f"bare:{label}"} for label in
                                   ("Yes", "No", "Maybe")]]}
    targets = []
    for chat in range(FIRST_USER, FIRST_USER + members):
        message_id = server.plant(chat, "Reminder: music session on Tuesday at 10:00.", markup)
        targets.append(Target(chat, message_id, ("bare:Yes", "bare:No", "bare:Maybe")))
    log(f"{name}: ready; pid {process.pid}")
    return Contender(name, server, process, Taps(server, targets, process.pid))


async def measure(contenders: list[Contender], args: argparse.Namespace, log: Any) -> None:
    for contender in contenders:  # warm up: imports, connections, SQLite pages
        await contender.taps.closed_loop("warm-up", min(8, args.members), min(1.0, args.seconds))
    for delay in args.delays:
        for contender in contenders:
            contender.server.reply_delay = delay
        for level in args.levels:
            for contender in contenders:
                result = await contender.taps.closed_loop(f"delay={delay}", level, args.seconds)
                contender.results.append(result)
                log(f"{contender.name:13} delay {delay * 1000:3.0f} ms, {level:3} in flight: {describe(result)}")
        for rate in args.rates:
            for contender in contenders:
                best = max((r.rate for r in contender.results if r.label == f"delay={delay}"), default=0.0)
                if rate > 1.2 * best:
                    continue  # far beyond what it can do: the backlog would only measure the queue
                result = await contender.taps.open_loop(f"rate@{delay}", rate, args.seconds)
                contender.results.append(result)
                log(f"{contender.name:13} delay {delay * 1000:3.0f} ms, offered {rate:5.0f}/s: {describe(result)}")


def describe(result: Result) -> str:
    return (f"{result.rate:7.1f} taps/s  p50 {result.p50_ms:7.1f} ms  p99 {result.p99_ms:7.1f} ms"
            f"  delivery p99 {result.delivery_p99_ms:5.1f} ms  bot's share p99 {result.bot_p99_ms:5.1f} ms"
            f"  cpu {result.cpu_ms_per_tap:5.2f} ms/tap  bot {result.bot_busy:4.0%}  server {result.load_busy:4.0%}"
            f"  errors {result.errors}  late {result.late}  polls {result.polls}")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
    load = os.getloadavg()
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem_kb / 1024 / 1024:.1f} GiB RAM, Python {platform.python_version()},"
            f" load average before the run {load[0]:.2f}")


def report(contenders: list[Contender], args: argparse.Namespace) -> str:
    lines = [f"Machine: {machine()}", f"Members: {args.members}; {args.seconds:g} s per phase.", ""]
    names = [c.name for c in contenders]
    by_name = {c.name: c for c in contenders}
    for delay in args.delays:
        lines += [f"Closed loop, server reply delay {delay * 1000:g} ms: taps/s (p50 / p99 ms)", "",
                  "| in flight | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for level in args.levels:
            cells = []
            for name in names:
                result = next(r for r in by_name[name].results if r.label == f"delay={delay}" and r.offered == level)
                cells.append(f"{result.rate:.0f} ({result.p50_ms:.0f} / {result.p99_ms:.0f})")
            lines.append(f"| {level} | " + " | ".join(cells) + " |")
        lines.append("")
        rated = [(n, r) for n in names for r in by_name[n].results if r.label == f"rate@{delay}"]
        if rated:
            lines += [f"Open loop, delay {delay * 1000:g} ms: offered taps/s -> p50 / p99 ms (late). Delivery: from a"
                      " tap's push to the getUpdates answer that carried it; the bot's share: from there to the"
                      " later of the bot's two requests for it", "",
                      "| bot | offered | done/s | p50 ms | p99 ms | delivery p99 ms | bot's share p99 ms | late |",
                      "|---|---|---|---|---|---|---|---|"]
            lines += [f"| {n} | {r.offered:.0f} | {r.rate:.0f} | {r.p50_ms:.0f} | {r.p99_ms:.0f}"
                      f" | {r.delivery_p99_ms:.0f} | {r.bot_p99_ms:.0f} | {r.late} |" for n, r in rated]
            lines.append("")
    for delay in args.delays:
        best = {n: max(r.rate for r in by_name[n].results if r.label == f"delay={delay}") for n in names}
        listing = ", ".join(f"{n} {v:.0f}" for n, v in best.items())
        lines.append(f"Best closed-loop taps/s at {delay * 1000:g} ms: {listing}")
        for yardstick in ("bare-default", "bare-sniffio", "bare-tuned", "bare-aiohttp"):
            if "imm" in best and best.get(yardstick):
                lines.append(f"Ratio imm / {yardstick}: {best['imm'] / best[yardstick]:.2f}")
        for name in names:
            cpu = [r.cpu_ms_per_tap for r in by_name[name].results if r.label == f"delay={delay}" and r.completed]
            lines.append(f"{name}: bot CPU per tap at {delay * 1000:g} ms {min(cpu):.2f}-{max(cpu):.2f} ms")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each measured phase")
    parser.add_argument("--levels", default="1,2,4,8,16,32,64,128,256", help="taps in flight, comma-separated")
    parser.add_argument("--delays", default="0,0.05", help="server reply delays in seconds")
    parser.add_argument("--rates", default="50,100,200,250", help="offered taps a second (open loop)")
    parser.add_argument("--bots", default=",".join(BOT_NAMES))
    parser.add_argument("--concurrent-updates", type=int, help="imm-bot's telegram.concurrent_updates")
    parser.add_argument("--pool", type=int, help="imm-bot's telegram.connection_pool_size")
    parser.add_argument("--output", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    args.levels = [int(x) for x in args.levels.split(",") if x]
    args.delays = [float(x) for x in args.delays.split(",") if x]
    args.rates = [float(x) for x in args.rates.split(",") if x]
    args.bots = [b for b in args.bots.split(",") if b]
    unknown = set(args.bots) - set(BOT_NAMES)
    if unknown:
        parser.error(f"unknown bot(s): {', '.join(sorted(unknown))}")
    if max(args.levels) > args.members:
        parser.error("--members must be at least the largest in-flight level")
    return args


def imm_telegram(args: argparse.Namespace) -> dict[str, Any]:
    chosen = {"concurrent_updates": args.concurrent_updates, "connection_pool_size": args.pool}
    return {key: value for key, value in chosen.items() if value is not None}


async def run(args: argparse.Namespace, log: Any = print) -> str:
    contenders: list[Contender] = []
    with tempfile.TemporaryDirectory(prefix="imm-taps-") as tmp:
        try:
            for name in args.bots:
                starter = start_imm(name, Path(tmp) / name, args.members, log, imm_telegram(args)) \
                    if name in IMM else start_bare(name, Path(tmp) / name, args.members, log)
                contenders.append(await starter)
            await measure(contenders, args, log)
            text = report(contenders, args)
            for contender in contenders:
                for kind, count in contender.server.error_kinds.most_common():
                    log(f"{contender.name}: {count} x {kind}")
        finally:
            for contender in contenders:
                await contender.process.stop()
                await contender.server.stop()
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(asyncio.run(run(args, log=lambda line: print(line, file=sys.stderr, flush=True))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
