"""Free-text messages: distress is answered first; other text goes to what the person was last asked (kept in
the database), else gets a short reply that says nobody watches this chat and how to reach a person.

A question that waits for text ends when the person sends any command (so an abandoned /announce cannot turn
"hello everyone" into an announcement) and after INPUT_LIFETIME.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.domain.distress import reads_as_distress
from bot.domain.safeguarding import PREFIX as TALK_PREFIX
from bot.jobs.safeguarding import signposting
from bot.messages.keyboards import keyboard
from bot.services import Services, services

TextConsumer = Callable[[Update, ContextTypes.DEFAULT_TYPE, dict[str, Any]], Awaitable[None]]
_CONSUMERS_KEY = "text_consumers"
_UNSCREENED_KEY = "text_consumers_unscreened"
INPUT_LIFETIME = timedelta(hours=2)
"""A question left unanswered this long no longer takes the next text."""


def register_text_input(application: Application[Any, Any, Any, Any, Any, Any], kind: str,
                        consumer: TextConsumer, *, screened: bool = True) -> None:
    """`consumer` receives the next text from a person for whom `store.expect_input(kind)` was called.

    Text is first read for distress (a member typing "help" where a companion's name was asked is answered with
    help, not stored as a name); `screened=False` for coordinators' inputs such as an announcement's text.
    """
    application.bot_data.setdefault(_CONSUMERS_KEY, {})[kind] = consumer
    if not screened:
        application.bot_data.setdefault(_UNSCREENED_KEY, set()).add(kind)


def register_command_ends_input(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    """Any command ends a question that waited for text; in a group of its own, so the command still runs."""
    application.add_handler(MessageHandler(filters.COMMAND, end_pending_input), group)


async def end_pending_input(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_user is not None:
        await services(context).store.clear_input(update.effective_user.id)


async def route_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer distress, else give the text to whatever the person was asked, else reply kindly."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    svc = services(context)
    awaited = await svc.store.awaited_input(user.id, asked_since=svc.clock.now() - INPUT_LIFETIME)
    consumers: dict[str, TextConsumer] = context.application.bot_data.get(_CONSUMERS_KEY, {})
    unscreened: set[str] = context.application.bot_data.get(_UNSCREENED_KEY, set())
    consumer = consumers.get(awaited[0]) if awaited is not None else None
    if (consumer is None or awaited is None or awaited[0] not in unscreened) and reads_as_distress(message.text or ""):
        await answer_distress(svc, update)
        return
    if consumer is not None and awaited is not None:
        await consumer(update, context, awaited[1])
        return
    _, lang = await svc.person(user)
    key = "common.use_buttons" if await svc.store.join_draft(user.id) else "common.text_not_needed"
    await message.reply_text(svc.texts.get(key, lang))


async def answer_distress(svc: Services, update: Update) -> None:
    """Said at once, in the reader's language: nobody watches this chat, the help numbers, and for a member a
    one-tap "I'd like someone to talk to" for each of their hubs (it alerts that hub's safeguarding lead)."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    member, lang = await svc.person(user)
    text = f"{svc.texts.get('safeguarding.distress_reply', lang)}\n\n{signposting(svc, lang)}"
    buttons = []
    if member is not None:
        hub_ids = set(await svc.store.hub_ids_of_member(member.id))
        for index, hub in enumerate(svc.settings.hubs):
            if hub.id in hub_ids:
                label = svc.texts.get("checkin.button_talk", lang)
                if len(hub_ids) > 1:
                    label = f"{label} ({hub.name})"
                buttons.append([(label, f"{TALK_PREFIX}:talk:h{index}")])
    await message.reply_text(text, reply_markup=keyboard(*buttons) if buttons else None)
