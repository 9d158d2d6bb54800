"""The log of a real `imm-bot -v run` says what happened to whom by id, and never holds a name or a message."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from handlers.activity import describe
from tests.conftest import COORDINATOR_ID, LEAD_ID

CONFIG = f"""
[[hubs]]
id = "woking"
name = "Woking Community Hub"
coordinators = [{COORDINATOR_ID}]
safeguarding_lead = {LEAD_ID}
open_link = true  # the join below starts at t.me/<bot>?start=woking
# What this test counts is the log of one join: no reminder or weekly summary falls due in the middle of it,
# whatever day it runs (issue 14).
reminders = []
[[hubs.weekly]]
weekday = "tuesday"
start = "10:00"
[hubs.weekly_summary]
enabled = false
"""


async def test_a_verbose_log_of_a_join_holds_ids_and_no_names_or_words(api, tmp_path):
    (tmp_path / "config.toml").write_text(CONFIG, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("IMM_")}
    env.update(IMM_TELEGRAM__TOKEN=api.token, IMM_TELEGRAM__API_BASE_URL=api.base_url,
               IMM_TELEGRAM__API_FILE_URL=api.base_file_url, IMM_STORAGE__PATH=str(tmp_path / "bot.sqlite3"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "-v", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await api.wait_for(lambda c: c.method == "setMyCommands", timeout=20)
        zeb = api.user(7301, "Zebedee", username="zeb_the_drummer")
        await zeb.send("/start woking", timeout=10)
        for label in ("English", "Yes, 16 or older", "Yes, that is fine", "Yes, ask me", "Family member",
                      "Add someone"):
            await zeb.tap(label, timeout=10)
        await zeb.send("Quentin", timeout=10)
        for label in ("5 to 11", "My child", "That is everyone"):
            await zeb.tap(label, timeout=10)
        assert "You have joined Woking Community Hub" in zeb.texts()[-2]
        await zeb.send("my grandmother's secret recipe", timeout=10)
        await zeb.tap_data("ci:99:f:less_happy\nFAKE LOG LINE", timeout=10)
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = (await process.stderr.read()).decode()

    assert "user 7301: command /start" in log
    assert "user 7301: tapped a j button" in log
    assert "user 7301: text (7 characters)" in log and "user 7301: text (30 characters)" in log
    assert "user 7301: tapped a ci button" in log
    for private in ("Zebedee", "zeb_the_drummer", "Quentin", "secret recipe", "less_happy", "FAKE LOG LINE"):
        assert private not in log, f"{private!r} is in the log"


def test_forged_prefixes_and_commands_are_not_written_as_sent():
    from telegram import Update

    user = {"id": 5, "is_bot": False, "first_name": "X"}
    chat = {"id": 5, "type": "private", "first_name": "X"}

    def update(**fields) -> Update:
        return Update.de_json({"update_id": 1, **fields}, None)  # type: ignore[arg-type]

    message = {"message_id": 1, "date": 0, "chat": chat, "from": user}
    assert describe(update(message={**message, "text": "/start@imm_hub_bot woking"})) == "command /start"
    assert describe(update(message={**message, "text": "/st\u202eart"})) == "command /(malformed)"
    query = {"id": "1", "from": user, "chat_instance": "1", "data": "<script>:1"}
    assert describe(update(callback_query=query)) == "tapped a malformed button"
