"""`imm-bot demo`: a week at a hub in under a minute, with no token and nothing set up.

The real application (build_application + running) polls a LocalBotApi in this process, with a
temporary database and a ManualClock. Simulated people join from the invite link, get reminders,
answer them, come to Tuesday's session and check in afterwards; one asks for someone to talk to and
the safeguarding lead acknowledges; the coordinator takes the register, asks the hub a question that families
answer with a tap (one sends an idea), gets Monday's summary and exports the CSV files. Everything they see
and tap is printed as it happens; the chart, the CSV files and the whole conversation are written to an
output folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.app import build_application
from bot.config import EXIT_CONFIG, Settings
from bot.domain.clock import ManualClock
from bot.messages.catalog import Catalog
from bot.reports.funder_report import report_files, write_files
from bot.reports.weekly_summary import Period
from bot.runtime import dispatch_now, running
from bot.services import services
from bot.simulator import demo_setup
from bot.simulator.demo_setup import COORDINATOR, FAMILIES, LEAD, Person
from bot.simulator.localapi import LocalBotApi, SimulatedUser
from bot.simulator.transcript import Transcript

DEFAULT_OUT = Path("demo-output")
TIMEOUT = 10.0
# How long a chat stays silent before the bot counts as done answering: the local server answers in
# about a millisecond, so a short pause keeps the week under a minute on a slow machine too.
QUIET = 0.03



KEPT_DATABASE = "demo.sqlite3"
KEPT_CONFIG = "config.toml"
REPORT_FOLDER = "funder-report"
DASHBOARD_PORT = 8765


def demo(args: argparse.Namespace, settings: Settings) -> int:
    if not getattr(args, "verbose", False):
        logging.getLogger().setLevel(logging.WARNING)  # the bot's log would bury the conversation
    out = getattr(args, "out", None) or DEFAULT_OUT
    keep = getattr(args, "keep", None)
    if keep is not None and (keep / KEPT_DATABASE).exists():
        print(f"imm-bot demo: {keep / KEPT_DATABASE} already exists: give --keep an empty folder, or delete it first",
              file=sys.stderr)
        return EXIT_CONFIG
    if not getattr(args, "dashboard", False):
        return asyncio.run(run_demo(out, _print, keep=keep))
    port = getattr(args, "port", None) or DASHBOARD_PORT
    return asyncio.run(run_demo(out, _print, keep=keep, dashboard_port=port, serve_until=_until_interrupted))


async def _until_interrupted() -> None:
    """Wait for Ctrl-C or SIGTERM (the dashboard stays open until then)."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _print(line: str) -> None:
    print(line, flush=True)


class Stage:
    """The running bot, the people, the clock, and the transcript the audience reads."""

    def __init__(self, api: LocalBotApi, application: Any, clock: ManualClock, write: Callable[[str], None]) -> None:
        self.api, self.application, self.clock, self.write = api, application, clock, write
        self.transcript = Transcript(api, write, demo_setup.name_of)
        self.people: dict[int, SimulatedUser] = {}
        self._quiet = False

    def user(self, person: Person) -> SimulatedUser:
        if person.user_id not in self.people:
            user = self.api.user(person.user_id, person.name, person.language_code)
            user.quiet = QUIET
            self.people[person.user_id] = user
        return self.people[person.user_id]

    def scene(self, title: str) -> None:
        self.write(f"\n── {demo_setup.local(self.clock.now())} · {title} ──")

    async def says(self, person: Person, text: str) -> None:
        if not self._quiet:
            self.write(f"{person.name}: {text}")
        await self.user(person).send(text, timeout=TIMEOUT)
        await self._settle()

    async def taps(self, person: Person, *labels: str, replies: bool = True) -> None:
        """Tap buttons in turn; with replies=False only the taps are written (the replies were shown before)."""
        if not self._quiet and not replies:
            self.write(f"{person.name} taps " + ", then ".join(f"[{label}]" for label in labels))
        for label in labels:
            if not self._quiet and replies:
                self.write(f"{person.name} taps [{label}]")
            await self.user(person).tap(label, timeout=TIMEOUT)
            await self._settle(show=replies)

    async def receives(self, person: Person, method: str, count: int, *, since: int) -> None:
        """Wait until `person` has been sent `count` successful `method` calls since call `since`, then show
        them: a reply that takes a while to prepare (files) can come after the short pause that ends a tap."""
        def sent() -> int:
            return sum(1 for call in self.api.calls[since:]
                       if call.method == method and call.chat_id == person.user_id and call.error_code is None)

        while sent() < count:
            await self.api.wait_for(lambda call: call.method == method and call.chat_id == person.user_id,
                                    TIMEOUT, after=len(self.api.calls))
        await self._settle()

    @asynccontextmanager
    async def quietly(self) -> AsyncIterator[None]:
        """The same real conversation, not printed (the audience has seen it once)."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    async def _settle(self, *, show: bool = True) -> None:
        await self.api.wait_quiet(None, QUIET, timeout=TIMEOUT)  # replies to others' chats, too
        await dispatch_now(self.application)  # and what the tap queued (an alert): sent before we go on
        if self._quiet or not show:
            self.transcript.skip()
        else:
            self.transcript.flush()

    async def until(self, moment: datetime, *, in_brief: tuple[Person, ...] = (COORDINATOR,)) -> None:
        """Let time pass to `moment` in ten-minute steps, the dispatcher running at each, printing what goes out.

        Messages to `in_brief` people show as one-line notes (the coordinator's summaries until the last one).
        """
        self.transcript.brief = {person.user_id for person in in_brief}
        try:
            for step in demo_setup.steps_until(self.clock.now(), moment):
                self.clock.set(step)
                await dispatch_now(self.application)
                if self.api.calls[self.transcript.mark:]:
                    await self.api.wait_quiet(None, QUIET, timeout=TIMEOUT)
                    self.write(f"   [{demo_setup.local(step)}]")
                    self.transcript.flush()
        finally:
            self.transcript.brief = set()


def at(day: Any, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=demo_setup.LONDON)


async def join(stage: Stage, person: Person) -> None:
    """The whole joining conversation, from the invite link."""
    await stage.says(person, f"/start {demo_setup.HUB_ID}")
    for label in ("English", "Yes, 16 or older", "Yes, that is fine", "Yes, ask me",
                  demo_setup.JOIN_ROLE_BUTTONS[person.role]):
        await stage.taps(person, label)
    for name, band, relationship in person.companions:
        await stage.taps(person, "Add someone")
        await stage.says(person, name)
        await stage.taps(person, band)
        await stage.taps(person, relationship)
    await stage.taps(person, "That is everyone" if person.companions else "Just me")


async def play_week(stage: Stage) -> int:
    """The week, scene by scene; returns where in the API's calls Monday's summary begins."""
    anna, grace, ben, olena, rose, kofi, priya, tom = FAMILIES
    session_day, summary_day = demo_setup.SESSION_DAY, demo_setup.SUMMARY_DAY

    stage.scene(f"Families tap the invite link t.me/imm_hub_bot?start={demo_setup.HUB_ID}")
    await join(stage, anna)
    await join(stage, grace)
    async with stage.quietly():
        for person in (ben, olena, rose, kofi, priya, tom):
            await join(stage, person)
    stage.write(f"(Ben, Olena, Rose, Kofi, Priya and Tom join the same way: {len(FAMILIES)} families in all.)")

    stage.scene("Time passes: the reminder two days before")
    await stage.until(at(session_day - timedelta(days=2), 10))
    stage.scene("Families answer the reminder")
    await stage.taps(anna, "Yes", "Who is coming?", "Leo", "Confirm")
    await stage.taps(grace, "Yes")
    await stage.taps(ben, "Maybe")
    await stage.taps(kofi, "No")
    for person in (olena, rose, priya, tom):
        await stage.taps(person, "Yes", replies=False)

    stage.scene("Time passes: the reminder on the morning of the session, to everyone who did not say No")
    await stage.until(at(session_day, 9))
    await stage.taps(ben, "Yes")

    stage.scene("10:00 to 11:30: the session at St Mary's Church Hall")
    await stage.until(at(session_day, 11, 35))
    stage.write(f"(The session happens. {COORDINATOR.name}, the coordinator, takes the register.)")
    await stage.says(COORDINATOR, "/register")
    await stage.taps(COORDINATOR, "Tuesday 2 February", "Save")

    stage.scene("Time passes: 15 minutes after the session, the check-in")
    await stage.until(at(session_day, 11, 45))
    stage.scene("Everyone who came answers with a tap or two")
    await stage.taps(anna, "Happier", "A little")
    await stage.taps(grace, "We answer together", "Happier", "Yes")
    await stage.taps(ben, "About the same", "Yes", replies=False)
    for person, connected in ((olena, "Yes"), (priya, "Yes"), (tom, "A little")):
        await stage.taps(person, "Happier", connected, replies=False)
    await stage.taps(rose, "Less happy", "I'd like someone to talk to")

    stage.scene(f"{LEAD.name}, the safeguarding lead, calls Rose, then acknowledges the alert")
    await stage.until(at(session_day, 12, 5))
    await stage.taps(LEAD, "Acknowledge")

    await codesign_scenes(stage)

    stage.scene("Time passes: Monday morning, the coordinator's weekly summary")
    await stage.until(at(summary_day, 8, 55))
    summary_starts = len(stage.api.calls)
    await stage.until(at(summary_day, 9), in_brief=())
    stage.scene(f"{COORDINATOR.name} downloads the CSV files")
    await stage.says(COORDINATOR, "/export")
    asked = len(stage.api.calls)
    await stage.taps(COORDINATOR, "Last 4 weeks")
    await stage.receives(COORDINATOR, "sendDocument", 3, since=asked)  # sessions, attendance and answers
    return summary_starts


async def codesign_scenes(stage: Stage) -> None:
    """Co-design: the coordinator asks the hub a question, families answer with a tap (one changes her mind),
    one sends an idea in his own words; on Friday the question closes and the results reach the coordinator."""
    anna, grace, ben, olena, _rose, kofi, priya, tom = FAMILIES
    session_day = demo_setup.SESSION_DAY
    stage.scene(f"{COORDINATOR.name} asks the hub what to play next")
    await stage.says(COORDINATOR, "/ask")
    await stage.says(COORDINATOR, "What shall we play next week?")
    await stage.says(COORDINATOR, "Beatles songs\nSea shanties\nSongs from home")
    await stage.taps(COORDINATOR, "In 3 days", "Send it")
    await stage.until(at(session_day, 12, 20))
    stage.scene("Families answer with one tap; Anna changes her mind")
    await stage.taps(anna, "Sea shanties", "Songs from home")
    await stage.taps(grace, "Songs from home")
    for person, label in ((ben, "Beatles songs"), (olena, "Songs from home"), (kofi, "Sea shanties"),
                          (priya, "Songs from home"), (tom, "Beatles songs")):
        await stage.taps(person, label, replies=False)
    stage.scene(f"{tom.name} has an idea")
    await stage.says(tom, "/help")
    await stage.taps(tom, "💡 I have an idea")
    await stage.says(tom, "Could we learn a song in the park when it is warmer?")
    await stage.until(at(session_day, 12, 30))
    stage.scene("Time passes: on Friday the question closes, and the results go to the coordinator")
    await stage.until(at(session_day + timedelta(days=3), 12, 10), in_brief=())


def save_attachments(api: LocalBotApi, chat_id: int, since: int, out: Path) -> list[Path]:
    """The chart and the files the coordinator received since call `since`, as she would save them."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for call in api.calls[since:]:
        if call.chat_id != chat_id or call.error_code is not None:
            continue
        media = call.params.get("photo", call.params.get("document"))
        if isinstance(media, dict) and media.get("content"):
            path = out / Path(str(media.get("filename") or "file")).name
            path.write_bytes(media["content"])
            written.append(path)
    return sorted(set(written))


def kept_config(database: Path) -> str:
    """A configuration for the kept database: the demo hub, no token (`report`, `check-config`, `chat --db`)."""
    hub = demo_setup.demo_hub()
    [slot] = hub.weekly
    [term] = hub.terms
    return f"""# Written by `imm-bot demo --keep`: the demo hub and its database, to try the funder report on.
# The demo's week is in {term.start.year}: give `report` a day after it with --as-of.

[storage]
path = {json.dumps(str(database.resolve()))}

[[hubs]]
id = {json.dumps(hub.id)}
name = {json.dumps(hub.name)}
venue = {json.dumps(hub.venue)}
timezone = {json.dumps(hub.timezone)}
coordinators = {list(hub.coordinators)}
safeguarding_lead = {hub.safeguarding_lead}
skip_bank_holidays = {str(hub.skip_bank_holidays).lower()}
checkin_after_minutes = {hub.checkin_after_minutes}

[[hubs.weekly]]
weekday = "{slot.weekday}"
start = "{slot.start:%H:%M}"
duration_minutes = {slot.duration_minutes}

[[hubs.terms]]
name = {json.dumps(term.name)}
start = {term.start.isoformat()}
end = {term.end.isoformat()}
"""


async def funder_report(application: Any, now: datetime) -> dict[str, bytes]:
    """The funder report of the demo hub from the term's first day to today, as `imm-bot report` writes it."""
    hub = demo_setup.demo_hub()
    period = Period(hub.terms[0].start, now.astimezone(hub.tz).date())
    return await report_files(services(application).store, hub, period, now, Catalog.load())


async def run_demo(out: Path, write: Callable[[str], None], *, keep: Path | None = None,
                   dashboard_port: int | None = None, serve_until: Callable[[], Awaitable[None]] | None = None) -> int:
    """The week; with `dashboard_port`, then the demo hub's dashboard on 127.0.0.1 until `serve_until` returns."""
    began = time.monotonic()
    lines: list[str] = []

    def record(line: str) -> None:
        lines.append(line)
        write(line)

    record(f"imm-bot demo: a week at {demo_setup.HUB_NAME}, on a pretend Telegram running on this computer.")
    record("Everything below is the real bot and its database; the people and the clock are simulated.")
    async with AsyncExitStack() as stack:
        api = await stack.enter_async_context(LocalBotApi())
        if keep is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="imm-demo-")))
        else:
            folder = keep
            folder.mkdir(parents=True, exist_ok=True)
        clock = ManualClock(demo_setup.START)
        extra: dict[str, Any] = {}
        if dashboard_port is not None:
            extra["dashboard"] = {"enabled": True, "listen": "127.0.0.1", "port": dashboard_port,
                                  "public_url": f"http://127.0.0.1:{dashboard_port}"}
        application = build_application(demo_setup.demo_settings(api, folder / KEPT_DATABASE, **extra), clock=clock)
        await stack.enter_async_context(running(application, dispatcher=False, poll_timeout=1))
        stage = Stage(api, application, clock, record)
        stage.transcript.skip()
        summary_starts = await play_week(stage)
        files = save_attachments(api, COORDINATOR.user_id, summary_starts, out)
        report = write_files(out / REPORT_FOLDER, await funder_report(application, clock.now()))
        if dashboard_port is not None:
            await show_dashboard(stage, dashboard_port, serve_until)
    record(f"\nThe demo took {time.monotonic() - began:.0f} seconds. Written to {_shown(out)}:")
    for path in [*files, out / "conversation.txt"]:
        record(f"  {path.name}")
    record(f"  {REPORT_FOLDER}/: the funder report for the term so far ({', '.join(p.name for p in report)})")
    if keep is not None:
        config = keep / KEPT_CONFIG
        _write_text(config, kept_config(keep / KEPT_DATABASE))
        day = clock.now().astimezone(demo_setup.LONDON).date()
        record(f"\nThe demo's database is kept in {_shown(keep)}, with {KEPT_CONFIG} for it. Try the report:")
        first = demo_setup.demo_hub().terms[0].start
        record(f"  imm-bot --config {config} report --hub {demo_setup.HUB_ID} --from {first} --to {day}"
               f" --as-of {day} --out report")
    _write_text(out / "conversation.txt", "\n".join(lines) + "\n")
    write("Next: `imm-bot chat` to talk to the bot yourself; README.md says how to run it for real.")
    return 0


async def show_dashboard(stage: Stage, port: int, serve_until: Callable[[], Awaitable[None]] | None) -> None:
    """The coordinator asks for the dashboard; the link is printed and the dashboard served until told to stop."""
    stage.scene(f"{COORDINATOR.name} opens the hub dashboard")
    await stage.says(COORDINATOR, "/dashboard")
    link = next((word for word in reversed(stage.user(COORDINATOR).last_text().split())
                 if "/dashboard/signin/" in word), "")
    stage.write(f"\nThe demo hub's dashboard is at http://127.0.0.1:{port}/dashboard/ (this computer only).")
    stage.write(f"Open this sign-in link in your browser (it works once, for 10 minutes):\n  {link}")
    stage.write("The dashboard stays open until you press Ctrl-C.")
    if serve_until is not None:
        await serve_until()


def _shown(folder: Path) -> str:
    return str(folder.resolve())


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
