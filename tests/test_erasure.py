"""Erasure follows links, never words: a hostile member's /forget, in a populated hub, touches only them.

The member's first name is "Sam" (a companion in another family is called Sam, and so is a walk-in) and
their companions are called "family" and "the" (a role, and the commonest English word). After their
/forget every row that is not linked to them is byte-for-byte what it was, in every table; repeated three
times with the same Telegram account.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from storage.presence import refresh_presence, session_counts
from tests.conftest import COORDINATOR_ID, OTHER_COORDINATOR_ID, hub_settings, make_settings
from tests.seed_term import seed_term, term_hub
from tests.test_checkin_counts import counted
from tests.test_checkin_counts import kept as kept_counts
from tests.test_coordinator_commands import WEDNESDAY
from tests.test_join import join_as_family
from tests.test_rights import seed_a_term

SAM_ID = 860_007_531  # distinctive: a scan for it cannot hit a timestamp by chance
HALFWAY_ID = 860_004_242

Dump = dict[str, set[tuple[tuple[str, Any], ...]]]


async def dump(store) -> Dump:
    """Every row of every table (with its rowid), as comparable tuples of (column, value).

    Attendance as the bot counts it (`presence`, and each person's `first_visits` kept from it) is derived from
    the other tables: it is worked out first, and compared by what its rows say (a session worked out again gets
    new rowids for the same rows).
    """
    await refresh_presence(store.db)
    # Each session's counts are numbers (nobody is in them) that go down when someone's answers go: rather than
    # compared, they must be exactly what the answers left behind say.
    counts = "session_id, yes, maybe, no, no_shows, brought, attended, walk_ins, known"
    kept = await store.db.fetchall(f"SELECT {counts} FROM session_counts ORDER BY session_id")
    defined = await store.db.fetchall(f"SELECT {counts} FROM ({session_counts('1')}) ORDER BY session_id")
    assert [tuple(row) for row in kept] == [tuple(row) for row in defined]
    assert await kept_counts(store.db.reader) == await counted(store.db.reader)  # the check-in counts (017) too
    tables = [row[0] for row in await store.db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    result: Dump = {}
    for name in tables:
        if name in ("session_counts", "session_counts_stale", "checkin_counts"):
            continue
        derived = name in ("presence", "presence_stale", "first_visits")
        rows = await store.db.fetchall(f'SELECT * FROM "{name}"' if derived
                                       else f'SELECT rowid AS "_rowid_", * FROM "{name}"')
        result[name] = {tuple((key, row[key]) for key in row.keys()) for row in rows}
    return result


def linked(row: tuple[tuple[str, Any], ...], ids: dict[str, set[int]]) -> bool:
    """Whether a row points at the person, by any of their ids (the test's own reading, not the map's)."""
    values = dict(row)
    if values.get("member_id") in ids["member"] or values.get("companion_id") in ids["companion"]:
        return True
    if values.get("member") in ids["member"] or values.get("companion") in ids["companion"]:  # presence
        return True
    if values.get("telegram_user_id") in ids["user"] or values.get("chat_id") in ids["user"]:
        return True
    if values.get("run_id") in ids["run"]:
        return True
    payload = values.get("payload")
    if isinstance(payload, str) and payload.startswith("{"):
        document = json.loads(payload)
        return document.get("member_id") in ids["member"] or document.get("user_id") in ids["user"]
    return False


@pytest.fixture
async def hub(start_bot, api, db_path, clock):
    clock.set(WEDNESDAY)
    camden = hub_settings(id="camden", name="Camden Hub", coordinators=[OTHER_COORDINATOR_ID],
                          safeguarding_lead=OTHER_COORDINATOR_ID, weekly=[{"weekday": "thursday", "start": "16:00"}])
    settings = make_settings(api, db_path, hubs=[term_hub(), camden])
    bot = await start_bot(settings)
    seeded = await seed_term(bot.store, settings.hubs[0])
    # What the words-based erasure used to rewrite: a walk-in called Sam, a coordinator's announcement full of
    # "the" and "family", a cancel reason, and another family's half-finished join (its role is "family").
    await bot.store.add_walk_in(seeded.weeks[8], "Sam", COORDINATOR_ID, WEDNESDAY)
    await bot.store.create_announcement("woking", "Bring the children: family day!", COORDINATOR_ID, WEDNESDAY,
                                        kind="announcement", expires_at=WEDNESDAY + timedelta(days=1))
    await bot.store.cancel_session(seeded.next_week, "the family room is flooded", WEDNESDAY)
    halfway = api.user(HALFWAY_ID, "Halima")
    await halfway.send("/start woking")
    for tap in ("English", "Yes, 16 or older", "Yes, that is fine", "Yes, ask me", "Family member", "Add someone"):
        await halfway.tap(tap)
    await halfway.send("Sam")
    bot.seeded = seeded
    return bot


async def sam_joins(bot, api) -> dict[str, set[int]]:
    sam = api.user(SAM_ID, "Sam")
    await join_as_family(bot, sam, companions=(("family", "5 to 11", "My child"), ("the", "Under 5", "My child")))
    member = await bot.store.member_by_user(SAM_ID)
    assert member is not None and member.first_name == "Sam"
    companions = await bot.store.companions_of(member.id)
    assert sorted(c.name for c in companions) == ["family", "the"]
    await seed_a_term(bot, member)
    runs = await bot.store.db.fetchall("SELECT id FROM measure_runs WHERE member_id = ?", (member.id,))
    return {"member": {member.id}, "user": {SAM_ID}, "companion": {c.id for c in companions},
            "run": {row[0] for row in runs}}


async def test_a_hostile_members_forget_changes_nobody_elses_rows_three_times_over(hub, api):
    sam = api.user(SAM_ID, "Sam")
    original = await dump(hub.store)
    for attempt in range(3):
        ids = await sam_joins(hub, api)
        before = await dump(hub.store)
        await sam.send("/forget")
        await sam.tap("Yes, delete everything")
        assert "deleted everything about you" in sam.last_text(), attempt
        after = await dump(hub.store)

        for table in before:
            gone = before[table] - after[table]
            new = after[table] - before[table]
            assert all(linked(row, ids) for row in gone), (attempt, table, [r for r in gone if not linked(r, ids)])
            if table == "erasures":
                assert len(new) == 1
                (record,) = new
                assert SAM_ID not in dict(record).values() and str(SAM_ID) not in dict(record)["subject"]
                continue
            # What is new is the person's kept rows, detached: the same answers, no longer anyone's.
            assert len(new) <= len(gone), (attempt, table)
            for row in new:
                values = dict(row)
                assert values.get("member_id") is None and values.get("anonymised_at", "x") is not None, table
                assert not linked(row, ids) and not {"Sam", "family", "the"} & set(values.values()), table
        # Nothing anywhere still holds their Telegram id or points at their member or companion ids (their
        # questionnaire's answers stay with its run, which now belongs to nobody).
        assert await hub.store.where_values_appear([SAM_ID]) == []
        for table, rows in after.items():
            assert not any(linked(row, {**ids, "run": set()}) for row in rows), (attempt, table)

    # Every row the hub had before Sam first joined is still there, unchanged (seeding Sam's term also added
    # rows that are not Sam's, such as a walk-in on their session's register: those stay too).
    final = await dump(hub.store)
    for table, rows in original.items():
        assert rows <= final[table], table
    # The other family's join still finishes; their companion Sam is still Sam.
    halfway = api.user(HALFWAY_ID, "Halima")
    await halfway.tap("5 to 11")
    await halfway.tap("My child")
    await halfway.tap("That is everyone")
    assert "You have joined Woking Community Hub" in halfway.texts()[-2]
    member = await hub.store.member_by_user(HALFWAY_ID)
    assert (member.role, [c.name for c in await hub.store.companions_of(member.id)]) == ("family", ["Sam"])
    assert (await hub.store.announcement(1)).text == "Bring the children: family day!"


async def test_after_forget_the_names_leave_the_database_files_too(bot, api, db_path):
    from tests.test_rights import ZEB_ID, join_zebedee

    zeb, member = await join_zebedee(bot, api)
    await seed_a_term(bot, member)
    await zeb.send("/language")  # more writes: the name's pages are copied around the WAL
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    assert any(b"Zebedee" in path.read_bytes() for path in files if path.exists())

    await zeb.send("/forget")
    await zeb.tap("Yes, delete everything")

    for path in files:
        if path.exists():
            data = path.read_bytes()
            for needle in (b"Zebedee", b"Ottoline", str(ZEB_ID).encode()):
                assert needle not in data, (path.name, needle)
    assert db_path.with_name(db_path.name + "-wal").stat().st_size == 0, "checkpointed and truncated"
    record = await bot.store.erasures()
    assert len(record) == 1 and str(ZEB_ID) not in record[0][0]
    assert db_path.with_name(db_path.name + ".erasure-key").stat().st_mode & 0o077 == 0


async def test_restoring_a_backup_forgets_again_whoever_was_forgotten_since(start_bot, settings, api, db_path,
                                                                           tmp_path, monkeypatch, capsys):
    import asyncio

    from bot import cli
    from storage import Store
    from tests.test_rights import BART_ID, ZEB_ID, join_zebedee

    bot = await start_bot(settings)
    zeb, member = await join_zebedee(bot, api)
    await seed_a_term(bot, member)
    bart = api.user(BART_ID, "Bartholomew")
    await join_as_family(bot, bart, companions=(("Primrose", "Under 5", "My grandchild"),))
    await seed_a_term(bot, await bot.store.member_by_user(BART_ID))
    ids = {"member": {member.id}, "user": {ZEB_ID}, "run": set(),
           "companion": {c.id for c in await bot.store.companions_of(member.id)}}
    backup = tmp_path / "nightly.sqlite3"
    await bot.store.backup_to(backup)
    await zeb.send("/forget")
    await zeb.tap("Yes, delete everything")
    await bot.stop()

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IMM_STORAGE__PATH", str(db_path))
    monkeypatch.delenv("IMM_CONFIG", raising=False)
    assert await asyncio.to_thread(cli.main, ["restore", str(backup)]) == 0
    said = capsys.readouterr().out
    assert "integrity ok" in said and "1 erasure(s) re-applied" in said, said

    async with Store(backup) as held, Store(db_path) as restored:
        assert await restored.member_by_user(ZEB_ID) is None
        assert await restored.where_values_appear([ZEB_ID, "Zebedee", "Ottoline"]) == []
        assert len(await restored.erasures()) == 1
        before, after = await dump(held), await dump(restored)
    for table in before:
        gone, new = before[table] - after[table], after[table] - before[table]
        assert all(linked(row, ids) for row in gone), table  # only Zebedee's rows went (or were detached)
        assert all(dict(row).get("member_id") is None for row in new), table
    assert before["members"] - after["members"] and after["members"] <= before["members"]

    # Restoring again from the same backup re-applies the same erasure (it is still recorded) and says so.
    assert await asyncio.to_thread(cli.main, ["restore", str(backup)]) == 0
    assert "1 erasure(s) re-applied" in capsys.readouterr().out
    bot = await start_bot(settings)
    assert await bot.store.member_by_user(ZEB_ID) is None
    assert await bot.store.member_by_user(BART_ID) is not None


def test_restore_refuses_a_damaged_backup_and_changes_nothing(tmp_path, monkeypatch, capsys):
    from bot import cli

    live = tmp_path / "live.sqlite3"
    live.write_bytes(b"")
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"not a database at all" * 100)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IMM_STORAGE__PATH", str(live))
    monkeypatch.delenv("IMM_CONFIG", raising=False)
    assert cli.main(["restore", str(damaged)]) == 1
    assert "not a readable SQLite database" in capsys.readouterr().err
    assert live.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["damaged.sqlite3", "live.sqlite3"]
