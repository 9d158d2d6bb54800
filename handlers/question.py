"""A member's tap on an answer to a hub's co-design question: one tap answers, another tap changes it.

The answer is committed before the member is thanked. The question and answer come from callback data, which
can be forged: they are parsed strictly and re-checked (the question exists, is open, has that answer, and
belongs to a hub the tapping member is in); the member comes from the tap, never from the data.
"""

from __future__ import annotations

from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.domain.codesign import MAX_OPTIONS, QUESTION_PREFIX
from bot.jobs.codesign import question_card
from bot.messages.callbacks import parse_callback, parse_int
from bot.services import services
from handlers.common import edit_tapped, refuse, together


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CallbackQueryHandler(on_answer, pattern=rf"^{QUESTION_PREFIX}:"), group)


async def on_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    member, lang = await svc.person(query.from_user)
    parts = parse_callback(query.data, QUESTION_PREFIX, 2)
    question_id = parse_int(parts[0]) if parts else None
    choice = parse_int(parts[1], low=0, high=MAX_OPTIONS - 1) if parts else None
    if question_id is None or choice is None:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    question = await svc.store.question(question_id)
    hub = svc.hub(question.hub_id) if question is not None else None
    if question is None or hub is None:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if member is None or not await svc.store.is_member_of(member.id, hub.id):
        await refuse(svc, query, "common.not_allowed", lang=lang)
        return
    now = svc.clock.now()
    result = await svc.store.answer_question(question.id, member.id, choice, now)
    if result.outcome == "no_such_answer":
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if result.outcome == "closed":
        note = query.answer(svc.texts.get("codesign.closed", lang), show_alert=True)
    else:
        note = query.answer(svc.texts.get(f"codesign.{result.outcome}", lang, choice=question.options[choice]))
    if result.outcome == "same" or not _genuine(query):
        await note  # the card already shows it, or the data was forged onto another message: leave that alone
        return
    # The answer is stored: the note and the card go to Telegram together, one round trip instead of two.
    text, markup = question_card(svc.texts, question, hub, lang, result.choice, now)
    await together(note, edit_tapped(query, text, markup))


def _genuine(query: CallbackQuery) -> bool:
    """The tapped data is really a button of the message it came from (not forged onto another message)."""
    markup = getattr(query.message, "reply_markup", None)
    if markup is None:
        return False
    return any(button.callback_data == query.data for row in markup.inline_keyboard for button in row)
