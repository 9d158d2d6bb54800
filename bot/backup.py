"""`imm-bot backup PATH`: a checked copy of the database, safe while the bot runs; `--verify FILE` checks one.
`imm-bot restore FILE`: put a checked backup in place of the database and forget again whoever was forgotten
since it was taken."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.config import Settings
from bot.domain.clock import SystemClock
from storage.backup import BackupError, BackupReport, backup_database, backup_path, inspect_database

EXIT_FAILED = 1



def backup(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.verify:
            report = inspect_database(args.path)
        else:
            target = backup_path(args.path, SystemClock().now())
            report = asyncio.run(backup_database(settings.storage.path, target))
    except BackupError as exc:
        print(f"imm-bot backup: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(describe(report, verb="checked" if args.verify else "written"))
    return 0 if report.ok else EXIT_FAILED


def restore(args: argparse.Namespace, settings: Settings) -> int:
    from storage.restore import restore_database

    try:
        report = asyncio.run(restore_database(args.backup, settings.storage.path, SystemClock().now(),
                                              erasure_key=settings.privacy.erasure_key))
    except (BackupError, OSError) as exc:
        print(f"imm-bot restore: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(describe(report.backup, verb="checked"))
    print(f"restored {report.backup.path} into {report.database}")
    if report.set_aside is not None:
        print(f"the database it replaced is kept as {report.set_aside} (delete it once the bot runs well)")
    print(f"{report.reapplied} erasure(s) re-applied (recorded since the backup was taken;"
          f" {report.erasures_found} recorded in all)")
    return 0


def describe(report: BackupReport, *, verb: str) -> str:
    """What was written (or checked), for the person or the cron mail reading it."""
    size = f"{report.size_bytes / 1024:.0f} KiB" if report.size_bytes >= 1024 else f"{report.size_bytes} bytes"
    integrity = "integrity ok" if report.ok else f"INTEGRITY PROBLEMS: {report.integrity}"
    rows = ", ".join(f"{name} {count}" for name, count in report.row_counts.items() if not name.startswith("_"))
    return f"backup {verb}: {report.path} ({size}; {integrity}; schema version {report.schema_version})\n  rows: {rows}"
