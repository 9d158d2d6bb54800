"""Every tap the bot answered is in the database, even when the bot process is SIGKILLed while people tap.

1,000 members of a hub each have a reminder (an event in two hours) and an after-session check-in (an event
that ended ten minutes ago, to which they said Yes). Each taps an answer on both, 2,000 taps pushed in waves
into the local Bot API server while the real bot runs as its own process; it is SIGKILLed at random moments
and restarted. A tap counts as answered when the server took the bot's answerCallbackQuery for it; each such
tap must be found in the database afterwards: the RSVP, and the check-in feeling.

A kill between answering and committing would need luck to land, so the test also looks in the database the
moment the server takes each answer (a read-only connection in this process): the tap must already be there.
"""

from __future__ import annotations

import asyncio
import random
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bench.botprocess import BotProcess, SeededMember, seed_members, write_config
from bot.domain.calendar import sessions_between
from bot.simulator.localapi import ApiCall, LocalBotApi
from storage import Store

HUB = "durable"
RSVP_DATA = re.compile(r"^r:(\d+):([ynm])$")
CHECKIN_DATA = re.compile(r"^ci:(\d+):f:([a-z_]+)$")
ANSWERS = {"y": "yes", "n": "no", "m": "maybe"}


@dataclass(frozen=True)
class Tap:
    query_id: str
    chat_id: int
    member_id: int
    data: str


class StoredBeforeAnswered:
    """Observer of the server: when an answer to one of our taps arrives, is the tap already committed?"""

    def __init__(self, db: Path) -> None:
        self.db, self.taps, self.checked = db, {}, 0
        self.not_yet: list[Tap] = []
        self._conn: sqlite3.Connection | None = None

    def __call__(self, call: ApiCall) -> None:
        tap = self.taps.get(str(call.params.get("callback_query_id")))
        if call.method != "answerCallbackQuery" or call.error_code is not None or tap is None:
            return
        if self._conn is None:  # read-only and autocommit: each query sees the latest commit
            self._conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, isolation_level=None)
        self.checked += 1
        if not self._stored(self._conn, tap):
            self.not_yet.append(tap)

    @staticmethod
    def _stored(conn: sqlite3.Connection, tap: Tap) -> bool:
        rsvp, checkin = RSVP_DATA.match(tap.data), CHECKIN_DATA.match(tap.data)
        if rsvp:
            row = conn.execute("SELECT answer FROM rsvps WHERE session_id = ? AND member_id = ?",
                               (int(rsvp[1]), tap.member_id)).fetchone()
            return row is not None and row[0] == ANSWERS[rsvp[2]]
        assert checkin is not None
        row = conn.execute("SELECT feeling FROM checkins WHERE session_id = ? AND member_id = ?",
                           (int(checkin[1]), tap.member_id)).fetchone()
        return row is not None and row[0] == checkin[2]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def hub_with_two_events(now: datetime) -> dict[str, Any]:
    """An event in two hours whose reminder is due, and one that ended ten minutes ago (check-ins due)."""
    tz = ZoneInfo("Europe/London")
    coming = (now + timedelta(hours=2)).astimezone(tz).replace(second=0, microsecond=0)
    past = (now - timedelta(minutes=100)).astimezone(tz).replace(second=0, microsecond=0)
    return {
        "id": HUB, "name": "Durable Hub", "venue": "Town Hall", "timezone": "Europe/London",
        "events": [
            {"date": coming.date(), "start": coming.time(), "duration_minutes": 90, "title": "Music session"},
            {"date": past.date(), "start": past.time(), "duration_minutes": 90, "title": "Celebration"},
        ],
        "reminders": [{"minutes_before": 180}],
        "checkin_after_minutes": 0,
    }


async def said_yes_to_the_past_event(db: Path, settings: Any, members: list[SeededMember]) -> None:
    """The sessions as the bot stores them at start-up, and everyone's Yes to the one that has ended."""
    now = datetime.now(UTC)
    hub = settings.hub(HUB)
    today = now.astimezone(hub.tz).date()
    first, last = today - timedelta(days=2), today + timedelta(days=2)
    async with Store(db) as store:
        await store.sync_sessions(HUB, sessions_between(hub, first, last), first, last, now)
        ended = [s for s in await store.sessions_of_hub(HUB, now - timedelta(days=1), now) if s.ends_at < now]
        assert len(ended) == 1
        for member in members:
            await store.record_rsvp(ended[0].id, member.member_id, "yes", now)


def button(api: LocalBotApi, chat_id: int, pattern: re.Pattern[str],
           rng: random.Random) -> tuple[dict[str, Any], str] | None:
    """A message in the chat with buttons matching `pattern`, and the data of one of them chosen at random."""
    for message in api.chat_messages(chat_id):
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        datas = [b["callback_data"] for row in rows for b in row if pattern.match(b.get("callback_data", ""))]
        if datas:
            return message, rng.choice(datas)
    return None


async def wait_for_buttons(api: LocalBotApi, process: BotProcess, chats: list[int]) -> None:
    deadline = time.monotonic() + 120
    while not all(button(api, c, p, random.Random()) for c in chats for p in (RSVP_DATA, CHECKIN_DATA)):
        assert time.monotonic() < deadline and process.running, f"messages missing; log:\n{process.log_tail()}"
        await asyncio.sleep(0.2)


def push_tap(api: LocalBotApi, tap: Tap, message: dict[str, Any]) -> None:
    person = api.user(tap.chat_id, f"Member{tap.chat_id}")
    api.push_update({"callback_query": {
        "id": tap.query_id, "from": person.as_dict(), "message": message,
        "chat_instance": str(tap.chat_id), "data": tap.data,
    }})


def answered(api: LocalBotApi) -> set[str]:
    return {str(c.params.get("callback_query_id")) for c in api.sent_ok("answerCallbackQuery")}


async def push_in_waves(api: LocalBotApi, taps: list[Tap], rng: random.Random) -> None:
    """About 250 taps a second, so that the bot is busy across the kills."""
    for wave_start in range(0, len(taps), 25):
        for tap in taps[wave_start:wave_start + 25]:
            found = button(api, tap.chat_id, RSVP_DATA if tap.data.startswith("r:") else CHECKIN_DATA, rng)
            assert found is not None
            push_tap(api, tap, found[0])
        await asyncio.sleep(0.1)


async def tap_while_killing(api: LocalBotApi, process: BotProcess, taps: list[Tap], kills: int,
                            rng: random.Random) -> None:
    """Push the taps in waves; SIGKILL the bot at random moments and restart it; then let it finish."""
    pusher = asyncio.create_task(push_in_waves(api, taps, rng))
    deadline = time.monotonic() + 180
    for _ in range(kills):
        kill_when = len(answered(api)) + rng.randint(len(taps) // 40, len(taps) // 8)
        while len(answered(api)) < kill_when and not pusher.done():
            assert time.monotonic() < deadline and process.running, process.log_tail()
            await asyncio.sleep(0.005)
        await asyncio.sleep(rng.uniform(0, 0.02))
        await process.kill()
        await process.start(api)
    await pusher
    # What a killed process had fetched but not handled is gone (as with Telegram); the rest get answers.
    count = -1
    while count != len(answered(api)):
        count = len(answered(api))
        await api.wait_quiet(quiet=1.0, timeout=60)


async def run_scenario(api: LocalBotApi, tmp_path: Path, members: int, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    db = tmp_path / "bot.sqlite3"
    settings = write_config(tmp_path / "bot.toml", api, db, [hub_with_two_events(datetime.now(UTC))],
                            dispatch_interval_seconds=0.2, telegram={"messages_per_second": 5000})
    seeded = await seed_members(db, settings, HUB, members)
    await said_yes_to_the_past_event(db, settings, seeded)
    process = BotProcess(tmp_path / "bot.toml", tmp_path / "bot.log")
    watcher = StoredBeforeAnswered(db)
    api.observers.append(watcher)
    await process.start(api)
    try:
        chats = [m.telegram_user_id for m in seeded]
        await wait_for_buttons(api, process, chats)
        taps = [Tap(f"q{kind}{m.telegram_user_id}", m.telegram_user_id, m.member_id, data)
                for m in seeded for kind, pattern in (("r", RSVP_DATA), ("c", CHECKIN_DATA))
                for data in [button(api, m.telegram_user_id, pattern, rng)[1]]]  # type: ignore[index]
        rng.shuffle(taps)
        watcher.taps = {tap.query_id: tap for tap in taps}
        await tap_while_killing(api, process, taps, kills, rng)
    finally:
        await process.stop()
        watcher.close()

    done = answered(api)
    answered_taps = [tap for tap in taps if tap.query_id in done]
    assert len(answered_taps) >= len(taps) // 4, f"only {len(answered_taps)} of {len(taps)} taps were answered"
    missing = []
    async with Store(db) as store:
        for tap in answered_taps:
            rsvp, checkin = RSVP_DATA.match(tap.data), CHECKIN_DATA.match(tap.data)
            if rsvp:
                stored = await store.rsvp(int(rsvp[1]), tap.member_id)
                if stored is None or stored.answer != ANSWERS[rsvp[2]]:
                    missing.append(tap)
            elif checkin:
                stored_checkin = await store.checkin_of(int(checkin[1]), tap.member_id)
                if stored_checkin is None or stored_checkin.feeling != checkin[2]:
                    missing.append(tap)
    assert not missing, f"{len(missing)} answered taps are not in the database, e.g. {missing[:3]}"
    assert watcher.checked >= len(answered_taps)
    assert not watcher.not_yet, f"{len(watcher.not_yet)} taps were answered before they were committed"


async def test_every_answered_tap_survives_sigkills_1000_rsvps_and_1000_checkins(api, tmp_path):
    await run_scenario(api, tmp_path, members=1000, kills=3, seed=3)


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_every_answered_tap_survives_ten_sigkills_among_6000_taps(api, tmp_path):
    await run_scenario(api, tmp_path, members=3000, kills=10, seed=33)
