"""The activity log: one line per thing a person did, by Telegram id only.

"user 123456: command /start", "user 123456: tapped a ci button", "user 123456: text (12 characters)".
Never a name, never what they wrote, never the data of a button (it can carry answers, and a forged
one can carry anything). Together with the dispatcher's "sent reminder delivery 5 to chat 123456" it
says what happened to whom, and a log file can be handed to someone debugging without exposing anyone.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.services import services

log = logging.getLogger(__name__)

_SAFE_WORD = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    """Every update is logged; it must be alone in its group, since it matches every update."""
    application.add_handler(TypeHandler(Update, log_update), group)


def register_reachable(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    """Someone who blocked the bot and writes again can be reached again; alone in its group, like the log."""
    application.add_handler(TypeHandler(Update, note_person_wrote), group)


async def note_person_wrote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if user is not None and not user.is_bot:
        svc = services(context)
        if await svc.store.mark_reachable(user.id, svc.clock.now()):
            log.info("user %s is reachable again", user.id)


def describe(update: Update) -> str | None:
    """What the person did, in words that hold ids and fixed words only."""
    if update.callback_query is not None:
        prefix = (update.callback_query.data or "").split(":", 1)[0]
        return f"tapped a {prefix if _SAFE_WORD.match(prefix) else 'malformed'} button"
    message = update.message or update.edited_message
    if message is not None:
        edited = "edited " if update.edited_message is not None else ""
        text = message.text or ""
        if text.startswith("/"):
            name = text.split(maxsplit=1)[0][1:].split("@", 1)[0]
            return f"{edited}command /{name if _SAFE_WORD.match(name) else '(malformed)'}"
        if text:
            return f"{edited}text ({len(text)} characters)"
        return f"{edited}message without text"
    if update.my_chat_member is not None:
        status = update.my_chat_member.new_chat_member.status
        return {"kicked": "blocked the bot", "member": "unblocked the bot"}.get(status, f"bot status {status}")
    return None


async def log_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    what = describe(update)
    if what is None:
        return
    user, chat = update.effective_user, update.effective_chat
    who = f"user {user.id}" if user is not None else "someone"
    where = "" if chat is None or user is None or chat.id == user.id else f" in chat {chat.id}"
    log.info("%s%s: %s", who, where, what)
