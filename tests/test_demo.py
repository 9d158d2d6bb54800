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


def test_demo_keep_keeps_the_database_and_the_report_command_runs_on_it(tmp_path, monkeypatch, capsys,
                                                                        root_log_level):
    """Issue 15 item 10: the funder report can be tried: it is in the demo's output, and `--keep DIR` leaves a
    database and a config.toml that `imm-bot report` reads."""
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("IMM_")]:
        monkeypatch.delenv(name)
    assert cli.main(["demo", "--out", "week", "--keep", "kept"]) == 0
    output = capsys.readouterr().out
    report = (tmp_path / "week" / "funder-report" / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# Riverside Music Hub: report for 5 January 2027 to 8 February 2027")
    assert "No sessions were held" not in report and "- People reached: 11" in report
    assert (tmp_path / "week" / "funder-report" / "chart.png").read_bytes().startswith(PNG)
    assert "funder-report/: the funder report for the term so far" in output
    config = tmp_path / "kept" / "config.toml"
    assert (tmp_path / "kept" / "demo.sqlite3").exists() and "token" not in config.read_text(encoding="utf-8")
    assert "imm-bot --config kept/config.toml report --hub demo-hub --from 2027-01-05" in output

    assert cli.main(["--config", str(config), "check-config"]) == 0
    assert cli.main(["--config", str(config), "report", "--hub", "demo-hub", "--from", "2027-01-05", "--to",
                     "2027-02-08", "--as-of", "2027-02-08", "--out", "again"]) == 0
    assert (tmp_path / "again" / "report.md").read_text(encoding="utf-8") == report

    capsys.readouterr()
    assert cli.main(["demo", "--out", "week2", "--keep", "kept"]) == 2  # never over a kept database
    assert "already exists" in capsys.readouterr().err
async def test_the_demo_serves_its_dashboard_and_prints_a_sign_in_link(tmp_path):
    """`imm-bot demo --dashboard`: after the week, the demo hub's dashboard on 127.0.0.1 and a link that works."""
    import asyncio
    import re

    import aiohttp

    from bot.simulator.demo import run_demo
    from tests.dashboard_support import free_port

    lines: list[str] = []
    printed, stop = asyncio.Event(), asyncio.Event()

    def write(line: str) -> None:
        lines.append(line)
        if "/dashboard/signin/" in line:
            printed.set()

    port = free_port()
    demo = asyncio.create_task(run_demo(tmp_path, write, dashboard_port=port, serve_until=stop.wait))
    try:
        await asyncio.wait_for(printed.wait(), 100)
        link = re.search(r"http://127\.0\.0\.1:\d+/dashboard/signin/\S+", "\n".join(lines)).group(0)
        assert link.startswith(f"http://127.0.0.1:{port}/")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.post(link) as response:
                page = await response.text()
                assert response.status == 200 and "Riverside Music Hub" in page
            async with http.get(f"http://127.0.0.1:{port}/dashboard/h/demo-hub/term") as response:
                assert response.status == 200 and 'role="img"' in await response.text()
    finally:
        stop.set()
        assert await asyncio.wait_for(demo, 30) == 0
