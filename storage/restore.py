"""Restoring a backup without bringing back the people who asked to be forgotten since it was taken.

The live database's `erasures` table says who was forgotten (as keyed hashes) and when. Restoring reads
those records, sets the live file aside, copies the checked backup into its place, migrates it, and forgets
again everyone erased after the backup was taken (the erasures the backup does not hold).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage.backup import BackupError, BackupReport, inspect_database
from storage.store import Store


@dataclass(frozen=True, slots=True)
class RestoreReport:
    backup: BackupReport
    database: Path
    set_aside: Path | None  # the database that was replaced, kept under another name
    erasures_found: int  # erasures recorded in the database that was replaced
    reapplied: int  # of those, the ones the backup did not hold, applied again


def recorded_erasures(path: Path) -> list[tuple[str, str]]:
    """(subject, erased_at) of every erasure recorded in the database at `path` (none if it has no such table)."""
    with closing(sqlite3.connect(path)) as conn:
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'erasures'").fetchone()
        if not exists:
            return []
        return [(row[0], row[1]) for row in conn.execute("SELECT subject, erased_at FROM erasures ORDER BY id")]


async def restore_database(backup: str | Path, database: str | Path, now: datetime, *,
                           erasure_key: str = "") -> RestoreReport:
    """Put `backup` in place of `database` (the bot must be stopped) and re-apply later erasures."""
    backup, database = Path(backup), Path(database)
    if backup.resolve() == database.resolve():
        raise BackupError(f"{backup} is the live database itself; name the backup file to restore from")
    checked = await asyncio.to_thread(inspect_database, backup)
    if not checked.ok:
        raise BackupError(f"{backup} failed its integrity check: {checked.integrity}")
    erasures: list[tuple[str, str]] = []
    aside: Path | None = None
    if database.exists():
        try:
            # Closing the last connection checkpoints the WAL into the file, so the file alone is the database.
            erasures = await asyncio.to_thread(recorded_erasures, database)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"cannot read the erasures recorded in {database} ({exc}); nothing was changed. "
                              "Without them a restore would bring back people who asked to be forgotten.") from exc
        aside = database.with_name(f"{database.name}.before-restore-{now:%Y%m%d-%H%M%S}")
        os.replace(database, aside)
        for suffix in ("-wal", "-shm"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)
    partial = database.with_name(f".{database.name}.restoring")
    partial.unlink(missing_ok=True)

    def copy() -> None:
        with closing(sqlite3.connect(backup)) as source, closing(sqlite3.connect(partial)) as target:
            source.backup(target)
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, database)

    await asyncio.to_thread(copy)
    async with Store(database, erasure_key=erasure_key) as store:
        reapplied = await store.reapply_erasures(erasures)
    return RestoreReport(checked, database, aside, len(erasures), reapplied)
