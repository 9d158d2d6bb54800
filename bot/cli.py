"""The imm-bot command: run the bot, check the configuration, and the tools around them."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence

from bot.config import ConfigError, Settings, load_settings

EXIT_CONFIG = 2
Command = Callable[[argparse.Namespace, Settings], int]
COMMANDS: dict[str, tuple[str, Command, Callable[[argparse.ArgumentParser], None] | None]] = {}


def command(name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None] | None = None):
    """Register a subcommand; the function receives the parsed arguments and the loaded settings."""

    def decorate(func: Command) -> Command:
        COMMANDS[name] = (help_text, func, arguments)
        return func

    return decorate


@command("check-config", "validate the configuration file and list the hubs")
def check_config(args: argparse.Namespace, settings: Settings) -> int:
    print(f"configuration OK: {len(settings.hubs)} hub(s)")
    for hub in settings.hubs:
        slots = ", ".join(f"{s.weekday} {s.start:%H:%M}" for s in hub.weekly) or "no weekly sessions"
        print(f"  {hub.id}: {hub.name} ({hub.timezone}; {slots}; {len(hub.coordinators)} coordinator(s))")
    if not settings.telegram.token:
        print("no Telegram token set (telegram.token or IMM_TELEGRAM__TOKEN): `run` would start the demo")
    return 0


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--webhook", action="store_true", help="receive updates by webhook instead of polling")


@command("run", "run the bot (with no Telegram token, run the built-in demo)", _run_arguments)
def run(args: argparse.Namespace, settings: Settings) -> int:
    webhook = None
    if getattr(args, "webhook", False):
        from bot.transport.webhook import webhook_settings

        try:
            webhook = webhook_settings(settings)
        except ConfigError as exc:
            print(f"imm-bot: {exc}", file=sys.stderr)
            return EXIT_CONFIG
    if not settings.telegram.token:
        demo = COMMANDS.get("demo")
        if demo is not None:
            print("No Telegram token is set, so here is the built-in demo instead.\n"
                  "To run for real, set telegram.token in config.toml or IMM_TELEGRAM__TOKEN.\n")
            return demo[1](args, settings)
        print("No Telegram token is set. Put it in config.toml as telegram.token, or set IMM_TELEGRAM__TOKEN.\n"
              "Get one from @BotFather (see README.md).", file=sys.stderr)
        return EXIT_CONFIG
    from bot.app import build_application
    from bot.runtime import serve

    asyncio.run(serve(build_application(settings), webhook=webhook))
    return 0


def _load_plugins() -> None:
    """Commands that live in their own modules register themselves on import."""
    import importlib

    for module in ("bot.simulator.demo", "bot.simulator.chat", "bot.reports.report_command", "bot.backup",
                   "bot.transport.webhook"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="imm-bot", description=__doc__)
    parser.add_argument("--config", help="configuration file (default: $IMM_CONFIG, else ./config.toml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, _, arguments) in COMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        if arguments is not None:
            arguments(child)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    _load_plugins()
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
    return COMMANDS[name][1](args, settings)


if __name__ == "__main__":
    raise SystemExit(main())
