"""The imm-bot command: run the bot, check the configuration, and the tools around them."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.config import EXIT_CONFIG, ConfigError, Settings, configuration_present, load_settings

Command = Callable[[argparse.Namespace, Settings], int]


@dataclass(frozen=True)
class Subcommand:
    """A subcommand: its help, where its function lives ("module:function", imported only when it runs, so that
    `imm-bot run` never loads the simulator or the report writer), and its arguments."""

    help: str
    target: str
    arguments: Callable[[argparse.ArgumentParser], None] | None = None

    def function(self) -> Command:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--webhook", action="store_true", help="receive updates by webhook instead of polling")


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=DEMO_OUT,
                        help=f"folder for the chart, the CSV files, the funder report and the conversation"
                             f" (default: {DEMO_OUT})")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the demo's database in DIR (with a config.toml for it), to try `imm-bot report` on")
    parser.add_argument("--dashboard", action="store_true",
                        help="then serve the demo hub's dashboard on 127.0.0.1 and print a sign-in link (Ctrl-C stops)")
    parser.add_argument("--port", type=int, default=None,
                        help="the dashboard's port on 127.0.0.1 with --dashboard (default: 8765)")


def _chat_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as", dest="role", choices=("member", "coordinator"), default="member",
                        help="whose side of the chat you are on (default: a new member)")
    parser.add_argument("--lang", default="en", help="your Telegram app's language code, e.g. uk or ar (default: en)")
    parser.add_argument("--db", type=Path, help="keep the chat's database in this file (default: a temporary one)")


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hub", required=True, help="the hub's id, as in the configuration")
    parser.add_argument("--from", dest="first", required=True, type=_date, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", required=True, type=_date, help="last day (included), YYYY-MM-DD")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the files into")
    parser.add_argument("--as-of", dest="as_of", type=_date,
                        help="count what had happened by the end of this day, YYYY-MM-DD (default: now; a database"
                             " kept by `imm-bot demo --keep` lives in 2027, so give a day after its week)")


def _backup_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="file to write (or a folder: a time-stamped file is written inside it)")
    parser.add_argument("--verify", action="store_true",
                        help="only check PATH (a backup you may restore from) and list what it holds")


def _restore_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("backup", help="the backup file to restore (stop the bot first)")


DEMO_OUT = Path("demo-output")
COMMANDS: dict[str, Subcommand] = {
    "check-config": Subcommand("validate the configuration file and list the hubs", "bot.cli:check_config"),
    "run": Subcommand("run the bot (with no Telegram token, run the built-in demo)", "bot.cli:run", _run_arguments),
    "demo": Subcommand("play a week at a demo hub on a pretend Telegram: no token or configuration needed",
                       "bot.simulator.demo:demo", _demo_arguments),
    "chat": Subcommand("chat with the real bot in this terminal, with a clock you can move on",
                       "bot.simulator.chat:chat", _chat_arguments),
    "report": Subcommand("write a hub's funder report (report.md), its CSV files and chart.png",
                         "bot.reports.report_command:report", _report_arguments),
    "backup": Subcommand("copy the database to PATH, safely while the bot runs, and check the copy",
                         "bot.backup:backup", _backup_arguments),
    "restore": Subcommand("restore a backup (the bot stopped) and forget again everyone forgotten since it was taken",
                          "bot.backup:restore", _restore_arguments),
}


NO_CONFIGURATION = """imm-bot: no configuration found: there is no config.toml in this folder, and neither --config nor
IMM_CONFIG names a file. To create one: copy config.example.toml to config.toml, fill in your hubs and the
Telegram token, then run `imm-bot check-config` again (or `imm-bot --config PATH check-config`)."""


def check_config(args: argparse.Namespace, settings: Settings) -> int:
    if not configuration_present(getattr(args, "config", None)):
        print(NO_CONFIGURATION, file=sys.stderr)
        return EXIT_CONFIG
    print(f"configuration OK: {len(settings.hubs)} hub(s)")
    for hub in settings.hubs:
        slots = ", ".join(f"{s.weekday} {s.start:%H:%M}" for s in hub.weekly) or "no weekly sessions"
        print(f"  {hub.id}: {hub.name} ({hub.timezone}; {slots}; {len(hub.coordinators)} coordinator(s))")
    if not settings.telegram.token:
        would = "exit 2" if configuration_present(getattr(args, "config", None)) else "play the demo"
        print(f"no Telegram token set (telegram.token or IMM_TELEGRAM__TOKEN): `run` would {would}")
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    webhook = None
    if getattr(args, "webhook", False):
        from bot.transport.webhook import webhook_settings

        try:
            webhook = webhook_settings(settings)
        except ConfigError as exc:
            print(f"imm-bot: {exc}", file=sys.stderr)
            return EXIT_CONFIG
    if not settings.telegram.token and configuration_present(getattr(args, "config", None)):
        print("imm-bot: telegram.token is not set: give it in the configuration file's [telegram] section or as"
              " IMM_TELEGRAM__TOKEN (only with no configuration at all does `run` play the demo)", file=sys.stderr)
        return EXIT_CONFIG
    if not settings.telegram.token:
        print("No Telegram token is set, so here is the built-in demo instead.\n"
              "To run for real, set telegram.token in config.toml or IMM_TELEGRAM__TOKEN.\n")
        return COMMANDS["demo"].function()(args, settings)
    from bot.app import build_application
    from bot.runtime import serve

    asyncio.run(serve(build_application(settings), webhook=webhook))
    return 0



def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imm-bot", description=__doc__)
    parser.add_argument("--config", help="configuration file (default: $IMM_CONFIG, else ./config.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, subcommand in COMMANDS.items():
        child = sub.add_parser(name, help=subcommand.help, description=subcommand.help)
        if subcommand.arguments is not None:
            subcommand.arguments(child)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "apscheduler", "telegram.ext.Application"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Their debug lines hold whole updates, messages and query values (names, answers), or are noise:
    # never written, even with -v.
    for private in ("telegram", "aiosqlite", "httpcore"):
        logging.getLogger(private).setLevel(logging.INFO)
    name = args.command or "run"
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"imm-bot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if name == "run" and not hasattr(args, "webhook"):
        args.webhook = False
    return COMMANDS[name].function()(args, settings)


if __name__ == "__main__":
    raise SystemExit(main())
