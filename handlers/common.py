"""Commands that work at any time: /help, /privacy, /language; and the fallbacks for anything unknown."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.domain.codesign import IDEA_PREFIX
from bot.messages.callbacks import parse_callback
from bot.messages.i18n import format_duration
from bot.messages.keyboards import grid, keyboard
from bot.services import Services, services
from handlers.text_input import route_text

COMMANDS = ("help", "language", "privacy")
ANYWHERE = COMMANDS
"""Commands that show nobody's data, so they may answer in a group too."""


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CommandHandler("help", help_command), group)
    application.add_handler(CommandHandler("privacy", privacy_command), group)
    application.add_handler(CommandHandler("language", language_command), group)
    application.add_handler(CallbackQueryHandler(on_language, pattern=r"^lang:"), group)


def register_private_only(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    """Every member and coordinator command that shows someone's data answers only in a private chat; in a group
    the bot says so (in the reader's language) and nothing else runs. Registered before every feature."""
    svc = services(application)
    private = sorted({*svc.member_commands, *svc.coordinator_commands} - set(ANYWHERE))
    application.add_handler(CommandHandler(private, write_privately, filters=~filters.ChatType.PRIVATE), group)


async def write_privately(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, message = services(context), update.effective_message
    if message is not None:
        await message.reply_text(svc.texts.get("common.private_only", await reader_language(svc, update)))
    raise ApplicationHandlerStop  # no feature sees the command: nothing personal is read or written


def register_fallbacks(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    """Registered after every feature, so that they only see what no feature claimed."""
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, route_text), group)
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.COMMAND, unknown_command), group)
    application.add_handler(CallbackQueryHandler(unknown_button), group)


async def reader_language(svc: Services, update: Update) -> str:
    """The member's chosen language, else the nearest to their Telegram client's (Services.person)."""
    user = update.effective_user
    if user is None:
        return svc.texts.best_language(None)
    return (await svc.person(user))[1]


def reply_tap_buttons(key: str = "common.use_buttons") -> Any:
    """A text input's handler for a step that waits for a tap: say so (the catalog's `key`), change nothing."""

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, _: dict[str, Any]) -> None:
        svc, message = services(context), update.effective_message
        if message is not None:
            await message.reply_text(svc.texts.get(key, await reader_language(svc, update)))

    return on_text


async def refuse(svc: Services, asked: Update | CallbackQuery, key: str = "common.not_allowed", *,
                 lang: str | None = None) -> None:
    """The one answer to what cannot be honoured: a button or command that is not the person's, an old or forged
    button, an answer too late. Said kindly (a button gets an alert, a message a reply); nothing has changed."""
    query = asked if isinstance(asked, CallbackQuery) else asked.callback_query
    if lang is None:
        user = asked.from_user if isinstance(asked, CallbackQuery) else asked.effective_user
        lang = (await svc.person(user))[1] if user is not None else svc.texts.best_language(None)
    text = svc.texts.get(key, lang)
    if query is not None:
        await query.answer(text, show_alert=True)
    elif isinstance(asked, Update) and asked.effective_message is not None:
        await asked.effective_message.reply_text(text)


async def edit_tapped(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Change the message a button was tapped on (no keyboard when `markup` is None); a second tap on the same
    button ("message is not modified") is harmless.

    Sent as PTB's edit_message_text sends it (the same request, rate limiter and errors), but Telegram's answer,
    the edited message, is not turned into a Message object nobody reads: building it was a sixth of an RSVP tap's
    CPU (docs/benchmarks.md, issue 12). PTB's public do_api_request would warn on every call that the method
    exists, so this asks `_post`, the method every PTB request goes through."""
    message = query.message
    try:
        if message is None:  # a message sent through inline mode: only PTB's own method knows how to edit it
            await query.edit_message_text(text, reply_markup=markup)
            return
        data: dict[str, Any] = {"chat_id": message.chat.id, "message_id": message.message_id, "text": text}
        if markup is not None:
            data["reply_markup"] = markup
        await query.get_bot()._post("editMessageText", data)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def together(*steps: Awaitable[Any]) -> None:
    """Send these requests to Telegram at once, one round trip instead of one each. Every one is tried even when
    another fails; the first failure is raised after all have ended."""
    outcomes = await asyncio.gather(*steps, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


async def edit_and_answer(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None, *,
                          note: str | None = None, alert: bool = False) -> None:
    """The tapped message becomes `text` and the tap is answered (with `note`, as an alert if `alert`) in one round
    trip: the person's button stops spinning as the message changes. Call it once what the tap changed is
    stored."""
    await together(edit_tapped(query, text, markup), query.answer(note, show_alert=alert))


async def close_question(query: CallbackQuery, choice: str) -> None:
    """Take the buttons off the answered question and show what was chosen."""
    message = query.message
    if message is None or not hasattr(message, "text") or message.text is None:
        return
    await query.edit_message_text(f"{message.text}\n\n✓ {choice}", reply_markup=None)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, message, user = services(context), update.effective_message, update.effective_user
    if message is None or user is None:
        return
    member = await svc.store.member_by_user(user.id)
    lang = await reader_language(svc, update)
    signs = svc.settings.safeguarding.signposting
    key = "common.help" if member else "common.help_not_member"
    # A member may send an idea for their hub from here (handlers/idea.py); in a group the button stays private.
    idea = keyboard([(svc.texts.get("codesign.button_idea", lang), f"{IDEA_PREFIX}:new:0")])
    markup = idea if member is not None and message.chat.type == "private" else None
    await message.reply_text(svc.texts.get(key, lang, emergency=signs.emergency, samaritans=signs.samaritans),
                             reply_markup=markup)


async def privacy_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, message = services(context), update.effective_message
    if message is None:
        return
    lang = await reader_language(svc, update)
    org = svc.settings.organisation
    retention = format_duration(svc.settings.retention.anonymise_answers_after_days, lang)
    await message.reply_text(
        svc.texts.get("privacy.notice", lang, organisation=org.name, contact=org.contact, retention=retention)
    )


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, message = services(context), update.effective_message
    if message is None:
        return
    lang = await reader_language(svc, update)
    items = [(("✓ " if x.code == lang else "") + x.name, f"lang:{x.code}") for x in svc.texts.languages]
    await message.reply_text(svc.texts.get("common.choose_language", lang), reply_markup=grid(items))


async def on_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, svc = update.callback_query, services(context)
    if query is None:
        return
    parts = parse_callback(query.data, "lang", 1)
    if parts is None or not svc.texts.supports(parts[0]):
        await query.answer(svc.texts.get("common.old_button", await reader_language(svc, update)), show_alert=True)
        return
    lang, now = parts[0], svc.clock.now()
    if await svc.store.set_language(query.from_user.id, lang, now):
        await edit_and_answer(query, svc.texts.get("common.language_set", lang))
        return
    # Not a member: nothing is stored about them, except a join in progress, which now goes on in this language.
    draft = await svc.store.join_draft(query.from_user.id)
    if draft is not None:
        await svc.store.save_join_draft(replace(draft, data={**draft.data, "lang": lang}), now)
        await edit_and_answer(query, svc.texts.get("common.language_set", lang))
        return
    await edit_and_answer(
        query, f"{svc.texts.get('common.language_set', lang)}\n{svc.texts.get('common.how_to_join', lang)}"
    )


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, message = services(context), update.effective_message
    if message is not None:
        await message.reply_text(svc.texts.get("common.unknown_command", await reader_language(svc, update)))


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any callback no feature recognised (forged or from an old version): answer it, change nothing."""
    svc, query = services(context), update.callback_query
    if query is not None:
        await query.answer(svc.texts.get("common.old_button", await reader_language(svc, update)), show_alert=True)
