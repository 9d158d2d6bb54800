"""`imm-bot chat` driven through its standard input, as someone trying the bot in a terminal would."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.simulator.chat import parse_duration, run_chat
from bot.simulator.demo_setup import steps_until


def chat(lines: list[str], *args: str, cwd: Path) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("IMM_")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat", *args], input="\n".join(lines) + "\n", capture_output=True,
        text=True, cwd=cwd, env=env, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def chat_in_process(lines: list[str], role: str = "member", db: Path | None = None) -> str:
    """The same chat, in this process: faster, for everything past the first journey."""
    printed: list[str] = []
    await run_chat(role, "en", db, io.StringIO("\n".join(lines) + "\n"), printed.append)
    return "\n".join(printed) + "\n"


def after(output: str, typed: str) -> str:
    """What the chat printed after a line was typed, up to the next one."""
    marker = f"> {typed}\n"
    assert marker in output, f"{typed!r} was never read"
    return output.split(marker, 1)[1].split("\n> ", 1)[0]


def test_a_new_member_joins_gets_the_reminder_and_answers_it_by_number(tmp_path):
    typed = ["/start demo-hub", "1", "1", "1", "1", "1", "2", ":wait 2d", "1", "9", ":wait soon", ":now", ":quit"]
    output = chat(typed, cwd=tmp_path)

    assert "Start with:  /start demo-hub" in output
    welcome = after(output, "/start demo-hub")
    assert "Welcome to Riverside Music Hub! Which language would you like?" in welcome
    assert "1) ✓ English   2) Українська" in welcome

    journey = output.split("> /start demo-hub\n", 1)[1]
    assert "(you tap “✓ English”)" in journey and "Are you 16 or older?" in journey
    assert "1) Yes, 16 or older   2) No, under 16" in journey
    assert "(you tap “Just me”)" in journey
    assert "You have joined Riverside Music Hub!" in journey

    two_days = after(output, ":wait 2d")
    assert "── Sunday 31 January, 10:00 ──" in two_days
    assert "📅 Tuesday 2 February, 10:00" in two_days and "Are you coming?" in two_days
    assert "1) Yes   2) No   3) Maybe" in two_days
    assert "It is now Monday 1 February, 09:00." in two_days

    tapped = after(output.split("> :wait 2d\n", 1)[1], "1")
    assert "(you tap “Yes”)" in tapped and "You said Yes. See you there!" in tapped
    assert "1) ✓ Yes   2) No   3) Maybe" in tapped

    assert "There is no button 9 just now." in after(output, "9")
    assert "Say how long, for example :wait 2d" in after(output, ":wait soon")
    assert "It is Monday 1 February, 09:00." in after(output, ":now")
    assert output.rstrip().endswith("Bye.")


async def test_the_coordinator_sees_the_hubs_answers_and_the_session_coming_up():
    output = await chat_in_process(["/sessions", ":buttons", ":help", ":quit"], role="coordinator")
    assert "You are Cora, coordinator of Riverside Music Hub. It has 8 members." in output
    sessions = after(output, "/sessions")
    assert "Riverside Music Hub: next sessions" in sessions and "Tue 2 Feb, 10:00" in sessions
    assert "Yes: 4 households, 8 people (5 adults, 3 children)" in sessions
    assert "There are no buttons to tap just now." in after(output, ":buttons")
    assert ":wait 2d" in after(output, ":help")


async def test_the_chat_keeps_its_database_when_asked(tmp_path):
    db = tmp_path / "kept.sqlite3"
    await chat_in_process(["/start demo-hub", "1", "1", "1", "1", "1", "2", ":quit"], db=db)
    output = await chat_in_process(["/start demo-hub", ":quit"], db=db)
    assert "You are already a member of Riverside Music Hub." in after(output, "/start demo-hub")


@pytest.mark.parametrize(("text", "minutes"), [("2d", 2880), ("3h", 180), ("45m", 45), ("1d6h", 1800),
                                               ("1d 6h 5m", 1805), ("0m", None), ("soon", None), ("", None)])
def test_durations_people_type(text, minutes):
    delta = parse_duration(text)
    assert (None if delta is None else delta.total_seconds() / 60) == minutes


def test_waiting_visits_every_ten_minutes_and_ends_exactly():
    start = datetime(2027, 1, 30, 9, 0, tzinfo=UTC)
    moments = steps_until(start, start + timedelta(minutes=35))
    assert [m.minute for m in moments] == [10, 20, 30, 35]
