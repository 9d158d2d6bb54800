"""`imm-bot report --hub ID --from DATE --to DATE --out DIR`: a funder report with its CSV files and chart."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path

from bot.cli import EXIT_CONFIG, command
from bot.config import HubSettings, Settings
from bot.domain.clock import SystemClock
from bot.messages.catalog import Catalog
from bot.reports.funder_report import report_files, write_files
from bot.reports.weekly_summary import Period
from storage import Store


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hub", required=True, help="the hub's id, as in the configuration")
    parser.add_argument("--from", dest="first", required=True, type=_date, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", required=True, type=_date, help="last day (included), YYYY-MM-DD")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the files into")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


@command("report", "write a hub's funder report (report.md), its CSV files and chart.png", _arguments)
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
    files = asyncio.run(_build(settings, hub, Period(args.first, args.last)))
    for path in write_files(args.out, files):
        print(path)
    return 0


async def _build(settings: Settings, hub: HubSettings, period: Period) -> dict[str, bytes]:
    """Read the bot's database (safe while the bot runs: reads never block its writes in WAL mode)."""
    async with Store(settings.storage.path) as store:
        return await report_files(store, hub, period, SystemClock().now(), Catalog.load())
