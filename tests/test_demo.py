"""The README's first command with no token plays the demo week to the end and writes the chart and CSVs."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest

from bot import cli

PNG = b"\x89PNG\r\n\x1a\n"


def assert_the_week_was_shown(output: str) -> None:
    # Joining, with the buttons shown and tapped
    assert "Anna: /start demo-hub" in output and "Anna taps [English]" in output
    assert "You have joined Riverside Music Hub!" in output
    # A reminder to everyone, and RSVPs
    assert "Are you coming?" in output and "(8 people)" in output
    assert "✅ You said Yes. Coming: you and Mia." in output
    assert "🤔 You said Maybe." in output and "❌ You said No." in output
    # The register, the check-in and its answers
    assert "Register saved. Came: 11 (walk-ins: 0)." in output
    assert "Compared with when you arrived, how do you feel?" in output
    assert "Grace taps [We answer together]" in output and "Thank you! Your answer is saved." in output
    # The alert, to the lead only, and her acknowledgement
    assert "Bot → Lena (safeguarding lead): ⚠️ Safeguarding: someone asked for help." in output
    assert "Name: Rose" in output and "✓ Acknowledged by Lena on Tuesday 2 February, 12:05." in output
    # Co-design: the coordinator's question, answers changed with a tap, an idea, the results when it closes
    assert "Sending to 8 members of Riverside Music Hub now." in output
    assert "Changed. Your answer is now: Songs from home." in output
    assert "Bot → Cora (coordinator): 💡 An idea from Tom for Riverside Music Hub:" in output
    assert "🗳️ Results from Riverside Music Hub: What shall we play next week?" in output
    assert "• Songs from home: 4" in output  # the exact counts, for the coordinator only
    assert "Co-design\n    What shall we play next week? (7 answered)" in output
    # The coordinator's weekly summary, with the figures of that week
    summary = "Bot → Cora (coordinator): 📊 Riverside Music Hub: the week of Monday 1 February to Sunday 7 February"
    assert summary in output
    assert "Happier leaving: 71% (5 of 7 answers)" in output
    assert "Safeguarding alerts: 1 raised, 1 acknowledged." in output


def assert_files_written(folder) -> None:
    assert (folder / "chart.png").read_bytes().startswith(PNG)
    for name in ("sessions.csv", "attendance.csv", "answers.csv"):
        lines = (folder / name).read_text(encoding="utf-8-sig").splitlines()
        assert len(lines) >= 2, name
    sessions = (folder / "sessions.csv").read_text(encoding="utf-8-sig")
    assert "2027-02-02,10:00,weekly" in sessions
    answers = (folder / "answers.csv").read_text(encoding="utf-8-sig")
    assert "Rose" not in answers and "Anna" not in answers, "people appear as codes"
    assert "Rose taps [Less happy]" in (folder / "conversation.txt").read_text(encoding="utf-8")


@pytest.fixture
def root_log_level():
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


def test_run_without_a_token_plays_the_demo_week(tmp_path, monkeypatch, capsys, root_log_level):
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("IMM_")]:
        monkeypatch.delenv(name)
    began = time.monotonic()
    assert cli.main(["run"]) == 0
    took = time.monotonic() - began
    output = capsys.readouterr().out

    assert output.startswith("No Telegram token is set, so here is the built-in demo instead.")
    assert_the_week_was_shown(output)
    assert f"Written to {tmp_path / 'demo-output'}" in output
    assert_files_written(tmp_path / "demo-output")
    assert took < 60


@pytest.mark.slow
def test_imm_bot_demo_on_its_own_writes_where_it_is_told(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("IMM_")}
    done = subprocess.run([sys.executable, "-m", "bot", "demo", "--out", "week"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert_the_week_was_shown(done.stdout)
    assert_files_written(tmp_path / "week")
    assert done.stderr == "", "nothing but the conversation on the terminal"
