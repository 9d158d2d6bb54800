"""The real bot as a separate OS process (`python -m bot --config <file> run`), for crash tests and benchmarks.

The test or benchmark keeps the local Bot API server (bot.simulator.localapi.LocalBotApi) in its own process and points
the bot at it through a generated config file. A separate process is what makes SIGKILL meaningful (nothing
gets to clean up) and keeps the load generator's CPU off the bot's core.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Settings, load_settings
from bot.domain.consent import TEXT_VERSIONS
from bot.domain.people import Member
from bot.simulator.localapi import LocalBotApi
from storage import Store

ROOT = Path(__file__).resolve().parent.parent


def toml_value(value: Any) -> str:
    """A value as TOML (inline tables and arrays: enough for a whole config on few lines)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))  # JSON's string escapes are valid TOML basic strings
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def write_config(path: Path, api: LocalBotApi, db_path: Path, hubs: Sequence[Mapping[str, Any]],
                 **overrides: Any) -> Settings:
    """Write a config file pointing at `api` and return the settings the bot will read from it."""
    telegram = {
        "token": api.token,
        "api_base_url": api.base_url,
        "api_file_url": api.base_file_url,
        **overrides.pop("telegram", {}),
    }
    data: dict[str, Any] = {
        **overrides,
        "telegram": telegram,
        "storage": {"path": str(db_path)},
        "hubs": list(hubs),
    }
    path.write_text("".join(f"{key} = {toml_value(value)}\n" for key, value in data.items()), encoding="utf-8")
    return load_settings(path)


def event_with_reminder_due(hub_id: str, now: datetime, *, starts_in: timedelta = timedelta(hours=2),
                            due_ago: timedelta = timedelta(minutes=1), zone: str = "Europe/London",
                            **hub: Any) -> dict[str, Any]:
    """A hub whose one-off event starts in `starts_in`, with one reminder rule already due by `due_ago`."""
    tz = ZoneInfo(zone)
    starts = (now + starts_in).astimezone(tz).replace(second=0, microsecond=0) + timedelta(minutes=1)
    minutes_before = int((starts - now + due_ago).total_seconds() // 60)
    return {
        "id": hub_id,
        "name": hub.pop("name", f"Hub {hub_id}"),
        "venue": hub.pop("venue", "Community Hall"),
        "timezone": zone,
        "events": [{"date": starts.date(), "start": starts.time(), "duration_minutes": 90, "kind": "event",
                    "title": "Music session"}],
        "reminders": [{"minutes_before": minutes_before}],
        **hub,
    }


@dataclass(frozen=True)
class SeededMember:
    member_id: int
    telegram_user_id: int


async def seed_members(db_path: Path, settings: Settings, hub_id: str, count: int, *, first_user_id: int = 100_000,
                       wellbeing: bool = True, language: str = "en") -> list[SeededMember]:
    """Members of `hub_id` written through the Store (as joining would), before the bot starts."""
    now = datetime.now(UTC)
    consents = dict(TEXT_VERSIONS) if wellbeing else {"contact": TEXT_VERSIONS["contact"]}
    seeded: list[SeededMember] = []
    async with Store(db_path) as store:
        await store.sync_hubs(settings.hubs, now)
        for n in range(count):
            user_id = first_user_id + n
            member: Member = await store.complete_join(
                telegram_user_id=user_id, chat_id=user_id, first_name=f"Member{n}", language=language,
                role="family", hub_id=hub_id, consents=consents, companions=(), now=now,
            )
            seeded.append(SeededMember(member.id, user_id))
    return seeded


class BotProcess:
    """`python -m bot --config <file> run` in a child process, its output in a log file."""

    def __init__(self, config_path: Path | None, log_path: Path, *, env: Mapping[str, str] | None = None,
                 argv: Sequence[str] | None = None, ready: str = "setMyCommands",
                 wrapper: Sequence[str] = ()) -> None:
        """`argv` runs another program instead (the bare PTB yardstick); `ready` is the call that says it started;
        `wrapper` goes before the interpreter (`valgrind --tool=callgrind ...`, bench.tap_cpu)."""
        self.config_path, self.log_path, self.ready = config_path, log_path, ready
        self.argv = list(argv) if argv is not None else ["-m", "bot", "--config", str(config_path), "run"]
        self.wrapper = list(wrapper)
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.env.pop("IMM_CONFIG", None)
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self, api: LocalBotApi | None = None, *, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """Start the bot; with `api`, wait for its `ready` call (registering commands: it polls next)."""
        mark = len(api.calls) if api is not None else 0
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.wrapper, sys.executable, *self.argv, cwd=ROOT, env=self.env,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )
        self.starts += 1
        if api is not None:
            try:
                await api.wait_for(lambda call: call.method == self.ready, timeout, after=mark)
            except TimeoutError as exc:
                raise RuntimeError(f"the bot did not start; its log:\n{self.log_tail()}") from exc

    async def kill(self) -> None:
        """SIGKILL: no clean-up, no drain, as in a power cut or the OOM killer."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()

    async def stop(self, timeout: float = 15.0) -> int:  # noqa: ASYNC109
        """SIGTERM (a clean stop); returns the exit code."""
        assert self.process is not None
        if self.running:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                await self.kill()
        assert self.process.returncode is not None
        return self.process.returncode

    def memory_kb(self) -> dict[str, int]:
        """VmRSS (now) and VmHWM (peak) of the bot process, in kB, from /proc."""
        fields: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
        return fields

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
