"""Online backups of a running bot's database: consistent, checked, and never half-written."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from bot import cli
from bot.domain.people import NewCompanion
from storage.backup import BackupError, inspect_database
from tests.conftest import START

FAMILIES = 240


async def join_and_answer(store, first_id: int, count: int, session_id: int, joined: asyncio.Event) -> None:
    """Families join (member, membership, two consents, a child: one transaction each) and say Yes."""
    for n in range(count):
        user = first_id + n
        member = await store.complete_join(
            telegram_user_id=user, chat_id=user, first_name=f"P{user}", language="en", role="family",
            hub_id="woking", consents={"contact": "v1", "wellbeing": "v1"},
            companions=[NewCompanion("Mia", "age_5_11", "child")], now=START,
        )
        await store.record_rsvp(session_id, member.id, "yes", START)
        if n == count // 4:
            joined.set()


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def assert_whole_joins_only(report, most: int, writers: int = 1) -> None:
    """Every member in the copy has their whole join: nothing from a transaction in progress."""
    counts = report.row_counts
    members = counts["members"]
    assert 0 < members <= most
    assert counts["memberships"] == members
    assert counts["consents"] == 2 * members
    assert counts["companions"] == members
    assert members - writers <= counts["rsvps"] <= members  # each writer may be between join and answer


async def first_session_id(store) -> int:
    return (await store.upcoming_sessions("woking", START))[0].id


async def test_a_backup_taken_while_families_join_is_whole_and_passes_integrity_check(bot, tmp_path):
    store = bot.store
    session_id = await first_session_id(store)
    joined = asyncio.Event()
    writers = [
        asyncio.create_task(join_and_answer(store, 10_000 * (w + 1), FAMILIES // 4, session_id, joined))
        for w in range(4)
    ]
    await joined.wait()
    report = await store.backup_to(tmp_path / "backups" / "during.sqlite3")
    await asyncio.gather(*writers)

    assert report.ok and integrity(report.path) == "ok"
    assert_whole_joins_only(report, FAMILIES - 1, writers=4)
    assert report.schema_version >= 3
    assert not (tmp_path / "backups" / ".during.sqlite3.partial").exists()
    after = await store.backup_to(tmp_path / "backups" / "after.sqlite3")
    assert after.row_counts["members"] == FAMILIES


async def test_a_backup_never_waits_for_or_copies_an_open_transaction(bot, tmp_path):
    store = bot.store
    async with store.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO members (telegram_user_id, chat_id, first_name, language, role, reachable, paused,"
            " created_at, updated_at) VALUES (1, 1, 'Half', 'en', 'family', 1, 0, 'x', 'x')"
        )
        report = await asyncio.wait_for(store.backup_to(tmp_path / "mid.sqlite3"), timeout=5)
    assert report.ok
    assert report.row_counts["members"] == 0
    assert (await store.backup_to(tmp_path / "after.sqlite3")).row_counts["members"] == 1


async def test_imm_bot_backup_copies_a_running_bots_database_from_another_process(bot, settings, tmp_path):
    session_id = await first_session_id(bot.store)
    stop = asyncio.Event()

    async def keep_joining() -> int:
        joined = 0
        while not stop.is_set():
            await join_and_answer(bot.store, 50_000 + joined, 10, session_id, asyncio.Event())
            joined += 10
        return joined

    writer = asyncio.create_task(keep_joining())
    target = tmp_path / "nightly.sqlite3"
    env = {**os.environ, "IMM_STORAGE__PATH": str(settings.storage.path)}
    env.pop("IMM_CONFIG", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "backup", str(target), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    stop.set()
    total = await writer

    assert process.returncode == 0, err.decode()
    assert f"backup written: {target}" in out.decode() and "integrity ok" in out.decode()
    assert integrity(target) == "ok"
    copied = inspect_database(target)
    assert_whole_joins_only(copied, total - 1)  # taken while families were still joining


def test_backup_into_a_folder_writes_a_time_stamped_file(tmp_path, monkeypatch, capsys, live_db):
    folder = tmp_path / "backups"
    folder.mkdir()
    assert cli.main(["backup", str(folder)]) == 0
    written = list(folder.glob("imm-bot-*.sqlite3"))
    assert len(written) == 1 and integrity(written[0]) == "ok"
    assert cli.main(["backup", "--verify", str(written[0])]) == 0
    assert "backup checked" in capsys.readouterr().out


def test_backup_refuses_the_live_database_a_missing_one_and_a_damaged_copy(tmp_path, monkeypatch, capsys, live_db):
    assert cli.main(["backup", str(live_db)]) == 1
    assert "is the live database itself" in capsys.readouterr().err

    damaged = tmp_path / "damaged.sqlite3"
    data = bytearray(live_db.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # overwrite the second page
    damaged.write_bytes(bytes(data))
    assert cli.main(["backup", "--verify", str(damaged)]) == 1
    said = capsys.readouterr()
    assert "INTEGRITY PROBLEMS" in said.out or "not a readable SQLite database" in said.err

    monkeypatch.setenv("IMM_STORAGE__PATH", str(tmp_path / "nowhere.sqlite3"))
    assert cli.main(["backup", str(tmp_path / "copy.sqlite3")]) == 1
    assert "there is no database at" in capsys.readouterr().err
    assert not (tmp_path / "nowhere.sqlite3").exists()
    with pytest.raises(BackupError):
        inspect_database(tmp_path / "nowhere.sqlite3")


@pytest.fixture
def live_db(tmp_path, monkeypatch) -> Path:
    """A migrated database, as the bot leaves it, named by IMM_STORAGE__PATH."""
    from storage import Store

    path = tmp_path / "live.sqlite3"

    async def create() -> None:
        async with Store(path):
            pass

    asyncio.run(create())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IMM_STORAGE__PATH", str(path))
    monkeypatch.delenv("IMM_CONFIG", raising=False)
    return path
