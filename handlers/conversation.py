"""Small shared pieces for conversations: strict callback parsing and routing of free-text answers."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.services import services

TextConsumer = Callable[[Update, ContextTypes.DEFAULT_TYPE, dict[str, Any]], Awaitable[None]]
_CONSUMERS_KEY = "text_consumers"
_PART = re.compile(r"^[A-Za-z0-9_-]{1,48}$")


def parse_callback(data: str | None, prefix: str, parts: int) -> list[str] | None:
    """`prefix:a:b` -> ['a', 'b'] when it has exactly `parts` safe parts after the prefix, else None.

    Callback data comes from the client and can be forged: anything unexpected is refused here.
    """
    if not data or len(data.encode("utf-8", "replace")) > 64:
        return None
    pieces = data.split(":")
    if pieces[0] != prefix or len(pieces) != parts + 1:
        return None
    rest = pieces[1:]
    return rest if all(_PART.match(piece) for piece in rest) else None


def parse_int(text: str, *, low: int = 1, high: int = 2**62) -> int | None:
    if not re.fullmatch(r"[0-9]{1,18}", text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def register_text_input(application: Application[Any, Any, Any, Any, Any, Any], kind: str,
                        consumer: TextConsumer) -> None:
    """`consumer` receives the next text from a person for whom `store.expect_input(kind)` was called."""
    application.bot_data.setdefault(_CONSUMERS_KEY, {})[kind] = consumer


async def route_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Give a free-text message to whatever the person was asked, or explain that buttons are needed."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    svc = services(context)
    awaited = await svc.store.awaited_input(user.id)
    consumers: dict[str, TextConsumer] = context.application.bot_data.get(_CONSUMERS_KEY, {})
    if awaited is not None and awaited[0] in consumers:
        await consumers[awaited[0]](update, context, awaited[1])
        return
    _, lang = await svc.person(user)
    key = "common.use_buttons" if await svc.store.join_draft(user.id) else "common.text_not_needed"
    await message.reply_text(svc.texts.get(key, lang))
