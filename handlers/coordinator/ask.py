"""Coordinators' co-design questions: /ask asks the hub a question with two to six answers; /questions shows the
open ones (with exact counts so far) and closes one early.

/ask is a short guided conversation: pick the hub (if several), type the question, type the answers one a line,
tap when it closes, see it as members will, tap Send. Each step waits in awaiting_input (never in callback data
or memory), and the hub is checked against the person again at every step. Sending stores the question and owes
it to every member of the hub through the delivery ledger, in one transaction, like an announcement.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.config import HubSettings
from bot.domain.codesign import (
    CLOSING_CHOICES,
    MAX_OPTION,
    MAX_QUESTION,
    closing_time,
    parse_options,
    question_problem,
)
from bot.jobs.codesign import QUESTION_KIND, close_with_results, closing_words
from bot.messages.callbacks import parse_callback, parse_int
from bot.messages.keyboards import keyboard
from bot.services import Services, services
from handlers.common import reader_language, refuse, reply_tap_buttons
from handlers.coordinator.access import hubs_or_refuse
from handlers.text_input import register_text_input
from storage.db import from_db, to_db

COORDINATOR_COMMANDS = ("ask", "questions")
PREFIX = "ca"
PICK_INPUT = "ask.pick_hub"
TEXT_INPUT = "ask.text"
OPTIONS_INPUT = "ask.options"
CLOSING_INPUT = "ask.closing"
CONFIRM_INPUT = "ask.confirm"
STEPS = (PICK_INPUT, TEXT_INPUT, OPTIONS_INPUT, CLOSING_INPUT, CONFIRM_INPUT)


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CommandHandler("ask", ask_command), group)
    application.add_handler(CommandHandler("questions", questions_command), group)
    application.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:"), group)
    register_text_input(application, TEXT_INPUT, on_question_text, screened=False)
    register_text_input(application, OPTIONS_INPUT, on_options_text, screened=False)
    for kind in (PICK_INPUT, CLOSING_INPUT, CONFIRM_INPUT):
        register_text_input(application, kind, reply_tap_buttons(), screened=False)


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, message, user = services(context), update.effective_message, update.effective_user
    hubs = await hubs_or_refuse(svc, update)
    if hubs is None or message is None or user is None:
        return
    lang = await reader_language(svc, update)
    if len(hubs) == 1:
        await _ask_for_text(svc, update, hubs[0], lang)
        return
    await svc.store.expect_input(user.id, PICK_INPUT, {"hubs": [hub.id for hub in hubs]}, svc.clock.now())
    rows = [[(hub.name, f"{PREFIX}:h:{index}")] for index, hub in enumerate(hubs)]
    await message.reply_text(svc.texts.get("codesign.pick_hub", lang), reply_markup=keyboard(*rows))


def _cancel_button(svc: Services, lang: str) -> list[tuple[str, str]]:
    return [(svc.texts.get("codesign.button_cancel", lang), f"{PREFIX}:x:0")]


async def _ask_for_text(svc: Services, update: Update, hub: HubSettings, lang: str) -> None:
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    await svc.store.expect_input(user.id, TEXT_INPUT, {"hub": hub.id}, svc.clock.now())
    await message.reply_text(svc.texts.get("codesign.ask_text", lang, hub=hub.name, max=MAX_QUESTION),
                             reply_markup=keyboard(_cancel_button(svc, lang)))


async def _own_hub(svc: Services, update: Update, data: dict[str, Any], lang: str) -> HubSettings | None:
    """The hub a step is about, if the person still coordinates it; else the question ends, kindly."""
    user = update.effective_user
    hub = svc.hub(str(data.get("hub", "")))
    if user is not None and hub is not None and svc.coordinates(user.id, hub.id):
        return hub
    if user is not None:
        await svc.store.clear_input(user.id)
    await refuse(svc, update, lang=lang)
    return None


async def on_question_text(update: Update, context: ContextTypes.DEFAULT_TYPE, data: dict[str, Any]) -> None:
    svc, message, user = services(context), update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return
    lang = await reader_language(svc, update)
    hub = await _own_hub(svc, update, data, lang)
    if hub is None:
        return
    problem = question_problem(message.text)
    if problem is not None:
        await message.reply_text(svc.texts.get(problem, lang, max=MAX_QUESTION))
        return
    await svc.store.expect_input(user.id, OPTIONS_INPUT, {"hub": hub.id, "text": message.text.strip()},
                                 svc.clock.now())
    await message.reply_text(svc.texts.get("codesign.ask_options", lang, max=MAX_OPTION),
                             reply_markup=keyboard(_cancel_button(svc, lang)))


async def on_options_text(update: Update, context: ContextTypes.DEFAULT_TYPE, data: dict[str, Any]) -> None:
    svc, message, user = services(context), update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return
    lang = await reader_language(svc, update)
    hub = await _own_hub(svc, update, data, lang)
    if hub is None:
        return
    options = parse_options(message.text)
    if isinstance(options, str):
        await message.reply_text(svc.texts.get(options, lang, max=MAX_OPTION))
        return
    now = svc.clock.now()
    upcoming = await svc.store.upcoming_sessions(hub.id, now, 1)
    next_session = upcoming[0].starts_at if upcoming else None
    await svc.store.expect_input(user.id, CLOSING_INPUT, {**data, "options": options}, now)
    rows = []
    for index, choice in enumerate(CLOSING_CHOICES):
        if choice == "next_session":
            if next_session is None:
                continue
            label = svc.texts.get("codesign.button_next_session", lang,
                                  when=closing_words(svc.texts, next_session, hub, lang))
        else:
            label = svc.texts.get(f"codesign.button_{choice}", lang)
        rows.append([(label, f"{PREFIX}:c:{index}")])
    await message.reply_text(svc.texts.get("codesign.ask_closing", lang),
                             reply_markup=keyboard(*rows, _cancel_button(svc, lang)))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    lang = await reader_language(svc, update)
    parts = parse_callback(query.data, PREFIX, 2)
    number = parse_int(parts[1], low=0) if parts else None
    if parts is None or number is None or parts[0] not in ("h", "c", "y", "x", "z", "k", "n"):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if not svc.hubs_coordinated_by(query.from_user.id):
        await refuse(svc, query, "common.not_allowed", lang=lang)
        return
    step = parts[0]
    if step == "h":
        await _picked(svc, update, query, number, lang)
    elif step == "c":
        await _closing_picked(svc, query, number, lang)
    elif step == "y":
        await _send(svc, query, lang)
    elif step == "x":
        await _drop(svc, query, lang)
    else:
        await _closing_early(svc, query, step, number, lang)


async def _picked(svc: Services, update: Update, query: CallbackQuery, index: int, lang: str) -> None:
    pending = await svc.store.take_input(query.from_user.id, PICK_INPUT)
    hub_ids = pending.get("hubs", []) if pending else []
    hub = svc.hub(str(hub_ids[index])) if index < len(hub_ids) else None
    if hub is None or not svc.coordinates(query.from_user.id, hub.id):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    await query.answer()
    await _ask_for_text(svc, update, hub, lang)


async def _closing_picked(svc: Services, query: CallbackQuery, index: int, lang: str) -> None:
    pending = await svc.store.take_input(query.from_user.id, CLOSING_INPUT) if index < len(CLOSING_CHOICES) else None
    hub = svc.hub(str(pending.get("hub", ""))) if pending else None
    if pending is None or hub is None or index >= len(CLOSING_CHOICES):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if not svc.coordinates(query.from_user.id, hub.id):
        await refuse(svc, query, "common.not_allowed", lang=lang)
        return
    now = svc.clock.now()
    upcoming = await svc.store.upcoming_sessions(hub.id, now, 1)
    closes_at = closing_time(CLOSING_CHOICES[index], now, upcoming[0].starts_at if upcoming else None,
                             timedelta(days=hub.codesign.longest_open_days))
    if closes_at is None:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    await svc.store.expect_input(query.from_user.id, CONFIRM_INPUT, {**pending, "closes_at": to_db(closes_at)}, now)
    await query.answer()
    when = closing_words(svc.texts, closes_at, hub, lang)
    card = svc.texts.get("codesign.card", lang, hub=hub.name, question=pending["text"], when=when)
    listed = "\n".join(f"• {option}" for option in pending["options"])
    count = await svc.store.question_audience(hub.id)
    await query.edit_message_text(svc.texts.get("codesign.preview", lang))
    message = query.message
    assert message is not None
    await message.reply_text(f"{card}\n\n{listed}")
    await message.reply_text(
        svc.texts.get("codesign.confirm", lang, count=count, hub=hub.name, when=when),
        reply_markup=keyboard([(svc.texts.get("codesign.button_send", lang), f"{PREFIX}:y:0")],
                              _cancel_button(svc, lang)),
    )


async def _send(svc: Services, query: CallbackQuery, lang: str) -> None:
    pending = await svc.store.take_input(query.from_user.id, CONFIRM_INPUT)
    hub = svc.hub(str(pending.get("hub", ""))) if pending else None
    closes_at = from_db(str(pending.get("closes_at"))) if pending else None
    if pending is None or hub is None or closes_at is None:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if not svc.coordinates(query.from_user.id, hub.id):
        await refuse(svc, query, "common.not_allowed", lang=lang)
        return
    now = svc.clock.now()
    if closes_at <= now:  # the confirmation waited past the closing time: ask again rather than send it closed
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    question = await svc.store.create_question(hub.id, str(pending["text"]), [str(o) for o in pending["options"]],
                                               query.from_user.id, now, closes_at, kind=QUESTION_KIND)
    svc.dispatcher.kick()
    await query.answer()
    await query.edit_message_text(svc.texts.get("codesign.sent", lang, count=question.recipients, hub=hub.name,
                                                when=closing_words(svc.texts, question.closes_at, hub, lang)))


async def _drop(svc: Services, query: CallbackQuery, lang: str) -> None:
    awaited = await svc.store.awaited_input(query.from_user.id)
    if awaited is not None and awaited[0] in STEPS:
        await svc.store.clear_input(query.from_user.id)
    await query.answer()
    await query.edit_message_text(svc.texts.get("codesign.dropped", lang))


async def questions_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Each open question of the person's hubs, with the exact count so far and a button to close it now."""
    svc, message = services(context), update.effective_message
    hubs = await hubs_or_refuse(svc, update)
    if hubs is None or message is None:
        return
    lang = await reader_language(svc, update)
    questions = await svc.store.open_questions(hub.id for hub in hubs)
    if not questions:
        await message.reply_text(svc.texts.get("codesign.questions_none", lang))
        return
    for question in questions:
        hub = svc.hub(question.hub_id)
        tally = await svc.store.question_tally(question.id)
        if hub is None or tally is None:
            continue
        text = svc.texts.get("codesign.questions_line", lang, hub=hub.name, question=question.text,
                             answered=tally.answered, asked=question.recipients,
                             when=closing_words(svc.texts, question.closes_at, hub, lang))
        await message.reply_text(text, reply_markup=keyboard(
            [(svc.texts.get("codesign.button_close", lang), f"{PREFIX}:z:{question.id}")]))


async def _closing_early(svc: Services, query: CallbackQuery, step: str, question_id: int, lang: str) -> None:
    """z: "close it now?"; k: yes, close it (results owed once, however often it is tapped); n: keep it open."""
    question = await svc.store.question(question_id)
    if question is None:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if not svc.coordinates(query.from_user.id, question.hub_id):
        await refuse(svc, query, "common.not_allowed", lang=lang)
        return
    now: datetime = svc.clock.now()
    await query.answer()
    if question.closed_at is not None:
        await query.edit_message_text(svc.texts.get("codesign.already_closed", lang))
    elif step == "z":
        await query.edit_message_text(svc.texts.get("codesign.close_confirm", lang), reply_markup=keyboard([
            (svc.texts.get("codesign.button_close_yes", lang), f"{PREFIX}:k:{question.id}"),
            (svc.texts.get("codesign.button_close_no", lang), f"{PREFIX}:n:{question.id}"),
        ]))
    elif step == "n":
        await query.edit_message_text(svc.texts.get("codesign.kept_open", lang))
    elif await close_with_results(svc, question, now, query.from_user.id):
        svc.dispatcher.kick()
        await query.edit_message_text(svc.texts.get("codesign.closed_now", lang))
    else:
        await query.edit_message_text(svc.texts.get("codesign.already_closed", lang))
