"""`imm-bot report --hub ID --from DATE --to DATE --out DIR`: a funder report with its CSV files and chart."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime, time

from bot.config import EXIT_CONFIG, HubSettings, Settings
from bot.domain.clock import SystemClock
from bot.messages.catalog import Catalog
from bot.reports.funder_report import report_files, write_files
from bot.reports.weekly_summary import Period
from storage import Store


def report(args: argparse.Namespace, settings: Settings) -> int:
    hub = settings.hub(args.hub)
    if hub is None:
        known = ", ".join(h.id for h in settings.hubs) or "none configured"
        print(f"imm-bot report: no hub {args.hub!r} (hubs: {known})", file=sys.stderr)
        return EXIT_CONFIG
    if not settings.storage.path.exists():
        print(f"imm-bot report: no database at {settings.storage.path} (storage.path)", file=sys.stderr)
        return EXIT_CONFIG
    if args.last < args.first:
        print("imm-bot report: --to is before --from", file=sys.stderr)
        return EXIT_CONFIG
    now = SystemClock().now()
    as_of = getattr(args, "as_of", None)
    if as_of is not None:  # the end of that day in the hub's time zone
        now = datetime.combine(as_of, time(23, 59, 59), hub.tz).astimezone(UTC)
    files = asyncio.run(_build(settings, hub, Period(args.first, args.last), now))
    for path in write_files(args.out, files):
        print(path)
    return 0


async def _build(settings: Settings, hub: HubSettings, period: Period, now: datetime) -> dict[str, bytes]:
    """Read the bot's database (safe while the bot runs: reads never block its writes in WAL mode)."""
    async with Store(settings.storage.path) as store:
        return await report_files(store, hub, period, now, Catalog.load())
