"""Free-text answers: each goes to what the person was last asked (kept in the database), else a kind reply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.services import services

TextConsumer = Callable[[Update, ContextTypes.DEFAULT_TYPE, dict[str, Any]], Awaitable[None]]
_CONSUMERS_KEY = "text_consumers"




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
