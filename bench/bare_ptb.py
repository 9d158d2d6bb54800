"""A bare python-telegram-bot bot, the yardstick for bench/taps.py: it answers and edits every tap, storing nothing.

Run as its own process: `python -m bench.bare_ptb --base-url URL --token TOKEN [--without-sniffio]`.
The Application is built with ApplicationBuilder's defaults (updates one at a time, a 256-connection pool),
as a newcomer's bot would be. `--without-sniffio` hides the `sniffio` package, as on a default install of
python-telegram-bot 22.8 (nothing it depends on requires sniffio any more, and httpcore then retries the
failing import on every request); `--concurrent N` and `--pool N` give the tuned variant; `--aiohttp` puts it on
imm-bot's aiohttp adapter (bot/transport/client.py) instead of PTB's httpx client, nothing else of imm-bot.
"""

from __future__ import annotations

import argparse
import importlib.abc
import sys
from typing import Any


class _HideSniffio(importlib.abc.MetaPathFinder):
    """Makes `import sniffio` fail as it does where the package is not installed, at the same cost.

    The other finders are asked for a name that exists nowhere, so the failed import searches every path
    entry just as a real missing module does (about 23 µs here, where failing at once would take 4 µs).
    """

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name == "sniffio" or name.startswith("sniffio."):
            for finder in sys.meta_path:
                if finder is not self and hasattr(finder, "find_spec"):
                    finder.find_spec("sniffio_is_not_installed", path)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def build(base_url: str, token: str, concurrent: int | None, pool: int | None, aiohttp: bool = False) -> Any:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes

    builder = ApplicationBuilder().token(token).base_url(base_url)
    if concurrent is not None:
        builder = builder.concurrent_updates(concurrent)
    if aiohttp:
        from bot.transport.client import AiohttpRequest

        builder = builder.request(AiohttpRequest(pool or 256)).get_updates_request(AiohttpRequest(1))
    elif pool is not None:
        builder = builder.connection_pool_size(pool)
    application = builder.build()
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"bare:{label}") for label in ("Yes", "No", "Maybe")]]
    )

    async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text(f"Thank you. You said: {query.data}", reply_markup=keyboard)

    application.add_handler(CallbackQueryHandler(on_tap))
    return application


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--without-sniffio", action="store_true")
    parser.add_argument("--concurrent", type=int)
    parser.add_argument("--pool", type=int)
    parser.add_argument("--aiohttp", action="store_true", help="imm-bot's aiohttp adapter instead of httpx")
    args = parser.parse_args(argv)
    if args.without_sniffio:
        sys.modules.pop("sniffio", None)
        sys.meta_path.insert(0, _HideSniffio())
    application = build(args.base_url, args.token, args.concurrent, args.pool, args.aiohttp)
    from telegram import Update

    application.run_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0.0, timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
