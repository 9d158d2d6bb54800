"""Check-in counts kept as answers arrive (the `checkin_counts` table, migration 017) are always what the old GROUP BY
over every check-in and check-in message counts, whatever happens to them in between.

The oracle is the query `Store.checkin_tallies` ran before the table existed, kept here verbatim. A fixed-seed
random walk changes answers and messages through the Store's own methods where they exist (check-in taps that
answer, change and clear; messages queued, claimed, sent, failed, retried, released after a crash; sessions
cancelled; /forget; withdrawing wellbeing consent; retention) and plain SQL where the bot has no method (an answer
moved to another session, a message's kind changed, a session deleted with its rows); every few steps the kept
table must equal the oracle over every session, and `checkin_tallies` the old query's tallies over the term and
the year. Migration 017 counts a database that already had answers; dropping any one trigger is caught.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiosqlite
import pytest

from bot.domain.ledger import NewDelivery
from bot.domain.retention import RetentionCutoffs
from storage import Store
from storage.db import from_db, to_db
from storage.presence import Window, named_fetchall
from storage.reports import CheckinTally
from tests.seed_term import HUB, JOINED, SUMMARY_DUE, seed_term, term_hub

COUNTS = ("asked", "responses", "happier", "same", "less_happy", "absent", "connected_yes", "connected_little",
          "connected_not", "on_behalf")

# Storage.checkin_tallies before migration 017, word for word but for which sessions are `held`.
OLD_QUERY = """WITH held AS ({held}),
asked AS (
    SELECT h.id, COUNT(*) AS n FROM held h  -- CROSS JOIN: by session, not every sent message
    CROSS JOIN deliveries d ON d.session_id = h.id AND d.kind = 'checkin' WHERE d.state = 'sent'
    GROUP BY h.id
),
answers AS (
    SELECT h.id,
           COUNT(*) FILTER (WHERE c.feeling IS NOT NULL OR c.absent = 1 OR c.connected IS NOT NULL)
               AS responses,
           SUM(c.feeling = 'happier') AS happier, SUM(c.feeling = 'same') AS same,
           SUM(c.feeling = 'less_happy') AS less_happy, SUM(c.absent = 1) AS absent,
           SUM(c.connected = 'yes') AS c_yes, SUM(c.connected = 'a_little') AS c_little,
           SUM(c.connected = 'not_really') AS c_not,
           SUM(c.answered_as = 'on_behalf' AND c.feeling IS NOT NULL) AS on_behalf
    FROM held h CROSS JOIN checkins c ON c.session_id = h.id GROUP BY h.id
)
SELECT h.id, h.starts_at, asked.n AS asked, answers.*
FROM held h LEFT JOIN asked ON asked.id = h.id LEFT JOIN answers ON answers.id = h.id
ORDER BY h.id"""
HELD_IN_WINDOW = ("SELECT id, starts_at FROM sessions WHERE hub_id = :hub AND cancelled_at IS NULL"
                  " AND starts_at <= :now AND starts_at >= :start AND starts_at < :end")
EVERY_SESSION = "SELECT id, starts_at FROM sessions"
OLD_COLUMNS = ("asked", "responses", "happier", "same", "less_happy", "absent", "c_yes", "c_little", "c_not",
               "on_behalf")


def _n(value: Any) -> int:
    return int(value or 0)


async def counted(conn: aiosqlite.Connection) -> dict[int, tuple[int, ...]]:
    """The oracle over every session (cancelled or not): session id -> the ten counts, sessions counting nothing
    left out."""
    async with conn.execute(OLD_QUERY.format(held=EVERY_SESSION)) as cursor:
        names = [column[0] for column in cursor.description]
        rows = [(row[0], dict(zip(names, row, strict=True))) for row in await cursor.fetchall()]  # h.id first
    found = {session: tuple(_n(row[c]) for c in OLD_COLUMNS) for session, row in rows}
    return {session: values for session, values in found.items() if any(values)}


async def kept(conn: aiosqlite.Connection) -> dict[int, tuple[int, ...]]:
    """The kept table, rows counting nothing left out (a session whose answers all went keeps a row of zeros)."""
    rows = await conn.execute_fetchall(f"SELECT session_id, {', '.join(COUNTS)} FROM checkin_counts")
    found = {row[0]: tuple(row)[1:] for row in rows}
    assert all(value >= 0 for values in found.values() for value in values), found
    return {session: values for session, values in found.items() if any(values)}


async def old_tallies(store: Store, window: Window) -> list[CheckinTally]:
    """What checkin_tallies returned before migration 017, built as it built them."""
    rows = await named_fetchall(store.db, OLD_QUERY.format(held=HELD_IN_WINDOW), window.params())
    tallies = []
    for row in rows:
        responses = _n(row["responses"])
        tallies.append(CheckinTally(
            session_id=row["id"], starts_at=from_db(row["starts_at"]),  # type: ignore[arg-type]
            asked=max(_n(row["asked"]), responses), responses=responses,
            happier=_n(row["happier"]), same=_n(row["same"]), less_happy=_n(row["less_happy"]),
            absent=_n(row["absent"]), connected_yes=_n(row["c_yes"]), connected_little=_n(row["c_little"]),
            connected_not=_n(row["c_not"]), on_behalf=_n(row["on_behalf"]),
        ))
    return tallies


TERM_WINDOW = Window(HUB, datetime(2026, 9, 14, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC), SUMMARY_DUE,
                     date(2026, 9, 14))
YEAR_WINDOW = Window(HUB, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC),
                     datetime(2026, 12, 31, tzinfo=UTC), date(2025, 12, 29))


async def assert_exact(store: Store, note: object = None) -> None:
    assert await kept(store.db.reader) == await counted(store.db.reader), note
    for window in (TERM_WINDOW, YEAR_WINDOW):
        assert await store.checkin_tallies(window) == await old_tallies(store, window), note


@pytest.fixture
async def term(tmp_path):
    hub = term_hub()
    async with Store(tmp_path / "term.sqlite3") as store:
        await store.sync_hubs([hub], JOINED)
        seeded = await seed_term(store, hub)
        yield store, hub, seeded


async def test_the_seeded_term_is_counted_exactly(term):
    store, _, seeded = term
    await assert_exact(store)
    # and it is the term's answers, not nothing: every week was asked and answered
    rows = await kept(store.db.reader)
    assert set(seeded.weeks) <= set(rows)
    assert rows[seeded.weeks[9]][:6] == (11, 10, 7, 1, 1, 1)  # tests/test_summary_figures.py's hand count
    assert sum(values[COUNTS.index("on_behalf")] for values in rows.values()) > 0


async def test_a_random_walk_of_changes_keeps_the_counts_equal_to_the_group_by(term):
    store, hub, seeded = term
    rng = random.Random(17)
    members = dict(seeded.members)  # name -> member id, while they are members
    sessions = [*seeded.weeks, seeded.sharing, seeded.summer, seeded.next_week, seeded.cancelled]
    now = SUMMARY_DUE
    keys = iter(range(1, 10_000))
    retention_day = date(2027, 1, 1)
    checked = 0

    def member() -> int:
        return rng.choice(sorted(members.values()))

    async def answer() -> None:  # a tap: first answer, a change, or clearing one
        fields = rng.sample(["feeling", "connected", "absent"], rng.randint(1, 3))
        values = {"feeling": [None, "happier", "same", "less_happy"], "connected": [None, "yes", "a_little",
                  "not_really"], "absent": [False, True]}
        changes = {field: rng.choice(values[field]) for field in fields}
        session, who = rng.choice(sessions), member()
        if rng.random() < 0.6:  # most taps change an answer someone already gave
            answered = await store.db.fetchall("SELECT session_id, member_id FROM checkins WHERE member_id IS NOT NULL")
            session, who = rng.choice(answered) if answered else (session, who)
        await store.record_checkin_answer(session_id=session, hub_id=hub.id, member_id=who,
                                          changes=changes, answered_as=rng.choice(["self", "with_support",
                                                                                   "on_behalf"]),
                                          changeable_after=now - timedelta(days=800), now=now)

    async def queue() -> None:
        who = member()
        session = rng.choice([*sessions, None])
        kind = rng.choice(["checkin", "checkin", "checkin", "reminder"])
        await store.enqueue_deliveries([NewDelivery(kind=kind, dedupe_key=f"walk:{next(keys)}", chat_id=5000 + who,
                                                    due_at=now, member_id=who, hub_id=hub.id, session_id=session)],
                                       now)

    async def dispatch() -> None:  # the dispatcher's moves on one row, in whatever state it is
        rows = await store.deliveries_where(kind=rng.choice(["checkin", "reminder", None]))
        if not rows:
            return
        row = rng.choice(rows)
        move = rng.choice(["sending", "sent", "sent", "close", "close", "retry", "release"])
        if move == "sending":
            await store.mark_delivery_sending(row.id)
        elif move == "sent":
            await store.mark_delivery_sent(row.id, rng.randint(1, 9999), now)
        elif move == "close":
            await store.close_delivery(row.id, rng.choice(["failed", "dropped", "skipped"]), "walk")
        elif move == "retry":
            await store.retry_delivery_later(row.id, now + timedelta(minutes=5), "flood control")
        else:
            await store.release_interrupted_deliveries()

    async def cancel() -> None:
        await store.cancel_session(rng.choice(sessions), "roof", now)

    async def withdraw() -> None:  # withdrawing wellbeing consent deletes the member's answers
        await store.delete_wellbeing_answers(member())

    async def forget() -> None:
        if len(members) <= 8:
            return
        name = rng.choice(sorted(members))
        user = (await store.member_by_id(members.pop(name))).telegram_user_id
        await store.forget_person(user, now)

    async def retention() -> None:  # detaches the old answers, deletes settled messages of long-past sessions
        nonlocal retention_day
        retention_day += timedelta(days=1)
        cutoff = datetime(2026, rng.choice([8, 9, 10]), 1, tzinfo=UTC)  # the summer, then weeks of the term
        await store.retention_once(retention_day, RetentionCutoffs(cutoff, cutoff, cutoff, cutoff, cutoff), now)

    async def by_hand() -> None:  # what the bot has no method for, as a later feature might write it
        move = rng.randrange(3)
        try:
            if move == 0:
                await store.db.write("UPDATE checkins SET session_id = ? WHERE id = (SELECT id FROM checkins"
                                     " ORDER BY random() LIMIT 1)", (rng.choice(sessions),))
            elif move == 1:
                await store.db.write("UPDATE deliveries SET kind = ?, session_id = ? WHERE id = (SELECT id FROM"
                                     " deliveries ORDER BY random() LIMIT 1)",
                                     (rng.choice(["checkin", "reminder"]), rng.choice(sessions)))
            else:
                await store.db.write("DELETE FROM checkins WHERE id = (SELECT id FROM checkins ORDER BY random()"
                                     " LIMIT 1)")
        except sqlite3.IntegrityError:  # that member already answered for the other session
            pass

    steps = ([answer] * 8 + [queue] * 4 + [dispatch] * 6 + [cancel, withdraw, forget, retention]
             + [by_hand] * 2)
    for step in range(240):
        await rng.choice(steps)()
        if step % 6 == 5:
            await assert_exact(store, step)
            checked += 1
    assert checked == 40
    # The walk really went everywhere: answers of every kind and sent check-in messages are still counted.
    totals = [sum(column) for column in zip(*(await kept(store.db.reader)).values(), strict=True)]
    assert all(totals), dict(zip(COUNTS, totals, strict=True))
    assert await store.db.fetchone("SELECT 1 FROM retention_runs") is not None


async def test_a_session_deleted_takes_its_counts_with_it(term):
    store, _, seeded = term
    session = seeded.weeks[3]
    assert session in await kept(store.db.reader)
    # Every table that points at a session without ON DELETE CASCADE lets go of it first.
    async with store.db.transaction() as conn:
        await conn.execute("PRAGMA defer_foreign_keys = ON")
        for (table,) in await conn.execute_fetchall(
                "SELECT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f"
                " WHERE m.type = 'table' AND f.\"table\" = 'sessions' AND f.on_delete NOT IN ('CASCADE', 'SET NULL')"):
            columns = await conn.execute_fetchall(
                "SELECT \"from\" FROM pragma_foreign_key_list(?) WHERE \"table\" = 'sessions'", (table,))
            for (column,) in columns:
                await conn.execute(f'DELETE FROM "{table}" WHERE "{column}" = ?', (session,))
        await conn.execute("DELETE FROM sessions WHERE id = ?", (session,))
    assert session not in await kept(store.db.reader)
    assert await store.db.fetchone("SELECT 1 FROM checkin_counts WHERE session_id = ?", (session,)) is None
    await assert_exact(store)


async def test_an_outer_insert_or_replace_does_not_reset_the_counts(term):
    """Inside a trigger the outer statement's conflict clause wins: the missing row is made with WHERE NOT EXISTS,
    so an outer INSERT OR REPLACE cannot turn it into a REPLACE that zeroes the session's counts."""
    store, _, seeded = term
    session = seeded.weeks[9]
    before = (await kept(store.db.reader))[session]
    await store.db.write(
        "INSERT OR REPLACE INTO deliveries (kind, dedupe_key, member_id, chat_id, hub_id, session_id, due_at, state,"
        " created_at) VALUES ('checkin', 'replace:1', NULL, 1, ?, ?, ?, 'sent', ?)",
        (HUB, session, to_db(SUMMARY_DUE), to_db(SUMMARY_DUE)))
    await store.db.write(
        "INSERT OR REPLACE INTO checkins (session_id, hub_id, member_id, feeling, first_answered_at, updated_at)"
        " VALUES (?, ?, NULL, 'happier', ?, ?)", (session, HUB, to_db(SUMMARY_DUE), to_db(SUMMARY_DUE)))
    after = (await kept(store.db.reader))[session]
    assert after[:3] == (before[0] + 1, before[1] + 1, before[2] + 1)
    await assert_exact(store)


async def test_migration_017_counts_a_database_that_had_answers_before_it(tmp_path):
    path = tmp_path / "old.sqlite3"
    hub = term_hub()
    async with Store(path) as store:
        await store.sync_hubs([hub], JOINED)
        await seed_term(store, hub)
    with sqlite3.connect(path) as conn:  # as it was at 016: no table, no triggers, no record of 017
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                    " AND name LIKE 'checkin_counts_%'").fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute("DROP TABLE checkin_counts")
        conn.execute("DELETE FROM schema_migrations WHERE number = 17")
    # answers that arrive while it is at 016 are counted too
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE checkins SET feeling = 'less_happy' WHERE id IN (SELECT id FROM checkins LIMIT 3)")
        conn.execute("DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE kind = 'checkin' LIMIT 2)")
    async with aiosqlite.connect(path) as conn:
        expected = await counted(conn)
    assert expected
    async with Store(path) as store:
        assert await kept(store.db.reader) == expected
        await assert_exact(store)


async def _answer_by_hand(conn: aiosqlite.Connection, session: int) -> None:
    await conn.execute("INSERT INTO checkins (session_id, hub_id, member_id, feeling, first_answered_at, updated_at)"
                       " VALUES (?, ?, NULL, 'happier', '2026-11-23', '2026-11-23')", (session, HUB))


async def _change_an_answer(conn: aiosqlite.Connection, session: int) -> None:
    await conn.execute("UPDATE checkins SET feeling = CASE feeling WHEN 'happier' THEN 'same' ELSE 'happier' END"
                       " WHERE id = (SELECT MIN(id) FROM checkins WHERE session_id = ?)", (session,))


async def _delete_an_answer(conn: aiosqlite.Connection, session: int) -> None:
    await conn.execute("DELETE FROM checkins WHERE id = (SELECT MIN(id) FROM checkins WHERE session_id = ?)",
                       (session,))


async def _send_a_message(conn: aiosqlite.Connection, session: int) -> None:
    await conn.execute("INSERT INTO deliveries (kind, dedupe_key, chat_id, session_id, due_at, state, created_at)"
                       " VALUES ('checkin', 'by-hand', 1, ?, '2026-11-23', 'sent', '2026-11-23')", (session,))


async def _fail_a_sent_message(conn: aiosqlite.Connection, session: int) -> None:
    await conn.execute("UPDATE deliveries SET state = 'failed' WHERE id = (SELECT MIN(id) FROM deliveries"
                       " WHERE session_id = ? AND kind = 'checkin' AND state = 'sent')", (session,))


async def _delete_a_sent_message(conn: aiosqlite.Connection, session: int) -> None:
    await conn.execute("DELETE FROM deliveries WHERE id = (SELECT MIN(id) FROM deliveries"
                       " WHERE session_id = ? AND kind = 'checkin' AND state = 'sent')", (session,))


CHANGES = {
    "checkin_counts_checkin_insert": _answer_by_hand,
    "checkin_counts_checkin_update": _change_an_answer,
    "checkin_counts_checkin_delete": _delete_an_answer,
    "checkin_counts_delivery_insert": _send_a_message,
    "checkin_counts_delivery_update": _fail_a_sent_message,
    "checkin_counts_delivery_delete": _delete_a_sent_message,
}


async def test_dropping_any_trigger_is_caught(term):
    """Each trigger matters: without it, the change it handles leaves the counts wrong, and the oracle sees it."""
    store, _, seeded = term
    session = seeded.weeks[9]
    names = {row[0] for row in await store.db.fetchall(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'checkin_counts_%'")}
    assert names == set(CHANGES)

    class Undo(Exception):
        pass

    for name, change in CHANGES.items():
        for drop in (False, True):
            with pytest.raises(Undo):
                async with store.db.transaction() as conn:
                    if drop:
                        await conn.execute(f'DROP TRIGGER "{name}"')
                    await change(conn, session)
                    assert (await kept(conn) == await counted(conn)) is not drop, (name, drop)
                    raise Undo  # rolled back: the trigger and the rows are as they were
    await assert_exact(store)


async def test_the_benchmark_runs_at_toy_sizes():
    """bench/checkin_counts.py (figures in docs/benchmarks.md) still runs, checking old and new agree each round."""
    from bench import checkin_counts

    figures = await checkin_counts.run(members=30, rounds=1, repeat=1, count=20)
    assert set(figures["reads"]) >= {"old year", "new year", "bare year", "old term", "new term", "bare term"}
    assert set(figures["taps"]) == set(figures["sql_taps"]) == {"with", "without"}
