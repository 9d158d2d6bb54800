"""Online backups of the database: a consistent copy while the bot runs, checked before it is kept.

SQLite's backup API copies a snapshot of committed data in one step (WAL lets the bot keep
writing meanwhile). The copy is written beside the target, checked with PRAGMA integrity_check,
flushed to disk and only then renamed into place: a failed or interrupted backup never leaves a
half-written file under the name someone will restore from.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiosqlite

from storage.db import Database


class BackupError(Exception):
    """The backup could not be made or did not pass its check; worded for the person running it."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    size_bytes: int
    integrity: str  # "ok", or SQLite's first complaints
    schema_version: int
    row_counts: dict[str, int]

    @property
    def ok(self) -> bool:
        return self.integrity == "ok"


def backup_path(target: str | Path, now: datetime) -> Path:
    """The file to write: `target` itself, or a time-stamped file inside it when it is a folder."""
    path = Path(target)
    if path.is_dir():
        return path / f"imm-bot-{now:%Y%m%d-%H%M%S}.sqlite3"
    return path


def inspect_database(path: str | Path) -> BackupReport:
    """Integrity, schema version and row counts of a database file (a backup, or one about to be restored)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check(20)")]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = [row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )]
            counts = {name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in tables}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from exc
    return BackupReport(path, path.stat().st_size, "; ".join(problems), version, counts)


async def backup_database(source: str | Path, target: str | Path) -> BackupReport:
    """Back up the database file `source` (used by another process, e.g. the running bot) to `target`.

    Opens its own connection without migrating or writing anything, so it is safe beside a running bot
    of any version.
    """
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise BackupError(f"there is no database at {source} (check storage.path / IMM_STORAGE__PATH)")
    _refuse_same_file(source, target)
    partial = _partial(target)
    try:
        async with aiosqlite.connect(source) as conn:
            await conn.execute("PRAGMA query_only = ON")
            await conn.execute("PRAGMA busy_timeout = 5000")
            if (await (await conn.execute("PRAGMA user_version")).fetchone())[0] == 0:  # type: ignore[index]
                raise BackupError(f"{source} is not an imm-bot database (it has no schema version)")
            async with aiosqlite.connect(partial) as dest:
                await conn.backup(dest)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"could not back up {source}: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return await _keep_if_sound(partial, target)


class BackupQueries:
    """Backups made by the process that has the store open (the bot itself, or a test)."""

    db: Database

    async def backup_to(self, target: str | Path) -> BackupReport:
        """A checked online copy of this store's database at `target`; BackupError if it fails its check."""
        target = Path(target)
        _refuse_same_file(self.db.path, target)
        partial = _partial(target)
        try:
            await self.db.backup_to(partial)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return await _keep_if_sound(partial, target)


def _partial(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    return partial


def _refuse_same_file(source: Path, target: Path) -> None:
    if target.resolve() == source.resolve():
        raise BackupError(f"{target} is the live database itself; choose another file for the backup")


async def _keep_if_sound(partial: Path, target: Path) -> BackupReport:
    def check_and_rename() -> BackupReport:
        try:
            report = inspect_database(partial)
        except BackupError:
            partial.unlink(missing_ok=True)
            raise
        if not report.ok:
            partial.unlink(missing_ok=True)
            raise BackupError(f"the copy failed its integrity check: {report.integrity}")
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, target)
        return BackupReport(target, report.size_bytes, report.integrity, report.schema_version, report.row_counts)

    return await asyncio.to_thread(check_and_rename)

