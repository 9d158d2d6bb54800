"""`imm-bot chat`: talk to the real bot in the terminal, as a member or as the demo hub's coordinator.

The real application (build_application + running) polls a LocalBotApi in this process, with a
temporary database (or --db) and a ManualClock. What the bot sends to you is printed in full with
its buttons numbered: typing a number taps one. `:wait 2d` moves the clock on, running the
dispatcher as it goes, so reminders, check-ins and summaries arrive as they would in real life.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from bot.app import build_application
from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.domain.consent import CONTACT, TEXT_VERSIONS, WELLBEING
from bot.domain.people import NewCompanion
from bot.runtime import dispatch_now, running
from bot.services import services
from bot.simulator import demo_setup
from bot.simulator.localapi import LocalBotApi, SimulatedUser
from bot.simulator.transcript import Transcript

MAX_WAIT = timedelta(days=60)
REPLY_TIMEOUT = 5.0
HELP = """\
Type a message or a /command and press Enter; it is sent as you.
Type the number of a button to tap it.
  :wait 2d      let time pass (also 3h, 45m, 1d6h); reminders, check-ins and summaries arrive
  :advance 3h   the same as :wait
  :buttons      number again every button you can still tap
  :now          the date and time in the chat
  :help         this help
  :quit         leave (the temporary database is deleted)"""
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?$")



def chat(args: argparse.Namespace, settings: Settings) -> int:
    if not getattr(args, "verbose", False):
        logging.getLogger().setLevel(logging.WARNING)  # the bot's log would bury the conversation
    return asyncio.run(run_chat(args.role, args.lang, args.db, sys.stdin, _print))


def _print(line: str) -> None:
    print(line, flush=True)


def parse_duration(text: str) -> timedelta | None:
    """'2d', '3h', '45m', '1d6h' -> a timedelta; None when it is not one (or is zero)."""
    match = _DURATION.match(text.strip().lower().replace(" ", ""))
    if not match or not any(match.groups()):
        return None
    days, hours, minutes = (int(group or 0) for group in match.groups())
    delta = timedelta(days=days, hours=hours, minutes=minutes)
    return delta if delta > timedelta(0) else None


class ChatSession:
    """One person's side of the conversation, plus the clock."""

    def __init__(self, api: LocalBotApi, application: Any, clock: ManualClock, user: SimulatedUser,
                 write: Callable[[str], None]) -> None:
        self.api, self.application, self.clock, self.user, self.write = api, application, clock, user, write
        self.transcript = Transcript(api, write, demo_setup.name_of, focus=user.id)

    async def handle(self, line: str) -> bool:
        """Act on one line typed; False means leave."""
        line = line.strip()
        if not line:
            return True
        if line.startswith(":"):
            return await self._command(line[1:])
        if line.isdigit():
            await self._tap(int(line))
        else:
            await self._say(line)
        return True

    async def _command(self, text: str) -> bool:
        name, _, rest = text.partition(" ")
        name = name.lower()
        if name in ("quit", "q", "exit"):
            return False
        if name in ("wait", "advance"):
            delta = parse_duration(rest)
            if delta is None or delta > MAX_WAIT:
                self.write("Say how long, for example :wait 2d, :wait 3h or :wait 45m (at most 60 days).")
            else:
                await self.wait(delta)
        elif name == "buttons":
            if not self.transcript.show_buttons(self.user.id):
                self.write("There are no buttons to tap just now.")
        elif name == "now":
            self.write(f"It is {demo_setup.local(self.clock.now())}.")
        elif name == "help":
            self.write(HELP)
        else:
            self.write(f"I do not know :{name}. Type :help to see what you can type.")
        return True

    async def _say(self, text: str) -> None:
        try:
            await self.user.send(text, timeout=REPLY_TIMEOUT)
        except TimeoutError:
            self.write("(the bot did not answer)")
        await self._settle()

    async def _tap(self, number: int) -> None:
        button = next((b for b in self.transcript.buttons if b.number == number), None)
        if button is None:
            self.write(f"There is no button {number} just now. Type :buttons to number the ones you can tap.")
            return
        self.write(f"(you tap “{button.label}”)")
        try:
            await self.user.tap(button.label, message_id=button.message_id, timeout=REPLY_TIMEOUT)
        except LookupError:
            self.write("That button has gone. Type :buttons to number the ones you can still tap.")
            return
        except TimeoutError:
            self.write("(the bot did not answer)")
        await self._settle()

    async def _settle(self) -> None:
        """Let anything the handler queued go out (alerts, notices), then show it all."""
        await self.api.wait_quiet(None, 0.1, timeout=10)
        await dispatch_now(self.application)
        self.transcript.flush()

    async def wait(self, delta: timedelta) -> None:
        """Move the clock on in small steps, running the dispatcher at each, and show what arrives when."""
        for moment in demo_setup.steps_until(self.clock.now(), self.clock.now() + delta):
            self.clock.set(moment)
            await dispatch_now(self.application)
            if self.api.calls[self.transcript.mark:]:
                await self.api.wait_quiet(None, 0.05, timeout=10)
                self.write(f"── {demo_setup.local(moment)} ──")
                self.transcript.flush()
        self.write(f"It is now {demo_setup.local(self.clock.now())}.")


async def seed_hub(application: Any) -> int:
    """The demo's families, already members, most of them coming on Tuesday: something for a coordinator to see."""
    svc = services(application)
    now = svc.clock.now()
    session = (await svc.store.upcoming_sessions(demo_setup.HUB_ID, now, 1))[0]
    relationships = {"My child": "child", "My grandchild": "grandchild", "Someone I support": "supported"}
    bands = {"Under 5": "under_5", "5 to 11": "age_5_11", "12 to 15": "age_12_15", "65 or older": "older"}
    for number, person in enumerate(demo_setup.FAMILIES):
        member = await svc.store.complete_join(
            telegram_user_id=person.user_id, chat_id=person.user_id, first_name=person.name, language="en",
            role=person.role, hub_id=demo_setup.HUB_ID,
            consents={CONTACT: TEXT_VERSIONS[CONTACT], WELLBEING: TEXT_VERSIONS[WELLBEING]},
            companions=[NewCompanion(name, bands[band], relationships[rel]) for name, band, rel in person.companions],
            now=now,
        )
        await svc.store.record_rsvp(session.id, member.id, ("yes", "yes", "maybe", "no")[number % 4], now)
    return len(demo_setup.FAMILIES)


def _introduce(role: str, members: int, write: Callable[[str], None], now_text: str) -> None:
    hub = demo_setup.HUB_NAME
    write("imm-bot chat: the real bot, with its database and a pretend Telegram, running on this computer.")
    if role == "coordinator":
        write(f"You are {demo_setup.COORDINATOR.name}, coordinator of {hub}. It has {members} members.")
        write("Try /sessions, /next, /summary or /announce, then :wait 3d to let the days pass.")
    else:
        write(f"You are {demo_setup.CHAT_MEMBER.name}, about to join {hub} from its invite link.")
        write(f"Start with:  /start {demo_setup.HUB_ID}")
    write(f"It is {now_text}. A number taps a button; :help lists the rest.\n")


async def run_chat(role: str, lang: str, db: Path | None, stdin: TextIO,
                   write: Callable[[str], None]) -> int:
    async with AsyncExitStack() as stack:
        api = await stack.enter_async_context(LocalBotApi())
        if db is None:
            db = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="imm-chat-"))) / "chat.sqlite3"
        clock = ManualClock(demo_setup.START)
        application = build_application(demo_setup.demo_settings(api, db), clock=clock)
        await stack.enter_async_context(running(application, dispatcher=False, poll_timeout=1))
        person = demo_setup.COORDINATOR if role == "coordinator" else demo_setup.CHAT_MEMBER
        user = api.user(person.user_id, person.name, language_code=lang)
        members = await seed_hub(application) if role == "coordinator" else 0
        session = ChatSession(api, application, clock, user, write)
        session.transcript.skip()
        _introduce(role, members, write, demo_setup.local(clock.now()))
        read = _line_reader(stdin, write)
        while (line := await read()) is not None:
            if not stdin.isatty():
                write(f"> {line.rstrip()}")
            if not await session.handle(line):
                break
        write("Bye.")
    return 0


def _line_reader(stdin: TextIO, write: Callable[[str], None]) -> Callable[[], Awaitable[str | None]]:
    async def read() -> str | None:
        if stdin.isatty():
            sys.stdout.write("> ")
            sys.stdout.flush()
        line = await asyncio.to_thread(stdin.readline)
        return line if line else None

    return read
