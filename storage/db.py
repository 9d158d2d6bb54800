"""One aiosqlite connection in WAL mode, numbered migrations, and serialised write transactions."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

log = logging.getLogger(__name__)
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
T = TypeVar("T")


def to_db(moment: datetime) -> str:
    """Store instants as sortable UTC text: 2026-03-29 01:00:00.000000."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every instant must carry its time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def from_db(text: str | None) -> datetime | None:
    if text is None:
        return None
    # The stored form is ISO 8601 with a space; fromisoformat reads it several times faster than strptime.
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) for every file in storage/migrations, in order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [number for number, _, _ in found]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"two migrations share a number: {numbers}")
    return found


@dataclass(frozen=True, slots=True)
class WriteResult:
    rowcount: int
    lastrowid: int


class Database:
    """The single connection every query goes through; writes are serialised by a lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._conn: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def open(self) -> None:
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        self._conn.row_factory = aiosqlite.Row
        await self._conn.execute("PRAGMA journal_mode=WAL")
        await self._conn.execute("PRAGMA synchronous=NORMAL")
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._conn.execute("PRAGMA busy_timeout=5000")
        # Deleted rows are overwritten with zeros, not left in free pages: after /forget, with the checkpoint
        # below, a person's name is gone from the file's bytes, not only from its tables.
        await self._conn.execute("PRAGMA secure_delete=ON")
        await self.migrate()
        # Reads go through their own connection so that they never see another
        # coroutine's uncommitted transaction on the writer.
        self._reader = await aiosqlite.connect(self.path, isolation_level=None)
        self._reader.row_factory = aiosqlite.Row
        await self._reader.execute("PRAGMA foreign_keys=ON")
        await self._reader.execute("PRAGMA busy_timeout=5000")

    async def close(self) -> None:
        for conn in (self._reader, self._conn):
            if conn is not None:
                await conn.close()
        self._conn = self._reader = None

    async def migrate(self) -> int:
        """Apply every migration not yet applied, in number order, each in its own transaction.

        Which ones were applied is recorded per number in `schema_migrations`, not only as PRAGMA user_version
        (kept as the highest applied): branches add numbered migrations in parallel, so a database may have
        been migrated to 009 before 008 existed, and 008 must still run when it arrives. A database from
        before this table had every migration up to its user_version applied, in order.
        """
        async with self.transaction() as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (number INTEGER PRIMARY KEY, file TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            version = (await (await conn.execute("PRAGMA user_version")).fetchone())[0]  # type: ignore[index]
            applied = {row[0] for row in await conn.execute_fetchall("SELECT number FROM schema_migrations")}
            if not applied and version:
                known = [(number, name) for number, name, _ in migrations() if number <= version]
                await conn.executemany(
                    "INSERT INTO schema_migrations (number, file, applied_at) VALUES (?, ?, 'before the record')",
                    known,
                )
                applied = {number for number, _ in known}
        for number, name, sql in migrations():
            if number in applied:
                continue
            log.info("applying migration %s", name)
            async with self.transaction() as conn:
                for statement in _statements(sql):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (number, file, applied_at) VALUES (?, ?, datetime('now'))",
                    (number, name),
                )
                version = max(version, number)
                await conn.execute(f"PRAGMA user_version = {version}")
        return version

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        async with self._write_lock:
            conn = self.conn
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            else:
                await conn.execute("COMMIT")

    async def in_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """BEGIN IMMEDIATE, `work`, COMMIT (ROLLBACK on any exception), all in one trip to SQLite's thread.

        For the hot paths (an RSVP tap). Each `await conn.execute(...)` of `transaction()` is a round trip
        between the event loop and aiosqlite's thread (a queue hand-over, a wake-up of the loop): an answer
        took eleven of them, holding the write lock across all of them, so under load every tap queued behind
        the loop's latency eleven times over. Here `work` runs on aiosqlite's thread with the plain sqlite3
        connection (rows are sqlite3.Row, as aiosqlite's) and the transaction is committed before this returns.
        It must not touch the event loop or anything of the loop's thread.
        """
        async with self._write_lock:
            return await _on_thread(self.conn, _transaction_of(work))

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` on the reader connection, in one trip to its thread; each statement sees what is committed
        when it runs (no transaction is held open)."""
        return await _on_thread(self.reader, work)

    async def checkpoint(self, attempts: int = 20) -> bool:
        """Copy the WAL into the database file and truncate it to nothing (after an erasure).

        A reader in the middle of a read can make the checkpoint stop short; try again briefly. True when the
        WAL was emptied.
        """
        async with self._write_lock:
            for attempt in range(attempts):
                row = await (await self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")).fetchone()
                if row is not None and row[0] == 0:
                    return True
                await asyncio.sleep(0.01 * (attempt + 1))
        log.warning("the WAL could not be checkpointed after an erasure; it will be at the next checkpoint")
        return False

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One write statement, atomic on its own (autocommit); returns lastrowid."""
        return (await self.write(sql, params)).lastrowid

    async def write(self, sql: str, params: Iterable[Any] = ()) -> WriteResult:
        """One write statement in autocommit mode: a single round trip to SQLite's thread.

        It still takes the write lock, so it never lands inside another coroutine's open transaction.
        """
        async with self._write_lock:
            cursor = await self.conn.execute(sql, tuple(params))
            return WriteResult(cursor.rowcount, cursor.lastrowid or 0)

    @property
    def reader(self) -> aiosqlite.Connection:
        return self._reader or self.conn

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        # One trip to SQLite's thread that runs the statement to its end. A cursor left open between trips
        # would keep the reader's snapshot while other coroutines read: they would miss fresh commits.
        return list(await self.reader.execute_fetchall(sql, tuple(params)))

    async def backup_to(self, target: str | Path) -> None:
        """An online copy through SQLite's backup API, safe while the bot writes.

        It reads through the reader connection, in one step: a consistent snapshot of committed data
        (WAL lets the writer go on meanwhile). On the writer it would wait forever for a transaction
        that another coroutine holds open, and that transaction could never commit.
        """
        async with aiosqlite.connect(target) as dest:
            await self.reader.backup(dest)


def _transaction_of(work: Callable[[sqlite3.Connection], T]) -> Callable[[sqlite3.Connection], T]:
    def run(raw: sqlite3.Connection) -> T:
        raw.execute("BEGIN IMMEDIATE")
        try:
            result = work(raw)
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
        return result
    return run


async def _on_thread(conn: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work(sqlite3 connection)` on the aiosqlite connection's own thread (the only thread that may use it).

    aiosqlite (pinned below 0.23 in pyproject.toml) has no public call for this; `_execute` is the method all
    of its own calls go through (queue the function, await its future), and `_conn` its sqlite3 connection.
    tests/test_hot_paths.py covers both, so an aiosqlite release that changes them fails the tests, not a tap.
    """
    return await conn._execute(lambda: work(conn._conn))


def _statements(sql: str) -> list[str]:
    """Split a migration into statements, each complete as SQLite itself judges it (sqlite3.complete_statement),
    so a trigger's body with its inner ';' stays one statement."""
    statements: list[str] = []
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if not _only_comments(pending):
                statements.append(pending.strip())
            pending = ""
    if pending.strip() and not _only_comments(pending):
        statements.append(pending.strip())
    return statements


def _only_comments(part: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in part.splitlines())
