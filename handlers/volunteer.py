"""Volunteers take a task at a session with one tap, or give it back; /tasks shows the next sessions' tasks.

Buttons carry `vt:t:<session>:<task>` (take) or `vt:g:<session>:<task>` (give back). They come from the client and
can be forged, so every tap is checked again: the tapping person (from Telegram, never from the data) is a
volunteer of the session's hub, the session is still on and has not started, and the task is one that session
needs. Taking is one SQL statement that a second volunteer cannot win at the same time.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.domain.volunteers import tasks_for
from bot.jobs.volunteers import PREFIX, task_card
from bot.messages.callbacks import parse_callback, parse_int
from bot.services import services
from handlers.common import edit_and_answer, reader_language, refuse

COMMANDS = ("tasks",)
UPCOMING = 3


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CommandHandler("tasks", tasks_command), group)
    application.add_handler(CallbackQueryHandler(on_task_button, pattern=rf"^{PREFIX}:"), group)


async def tasks_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A volunteer's view of the next sessions that need tasks, one message each."""
    svc, message, user = services(context), update.effective_message, update.effective_user
    if message is None or user is None:
        return
    member, lang = await svc.person(user)
    hubs = []
    for hub_id in await svc.store.hub_ids_of_member(member.id) if member is not None else []:
        hub = svc.hub(hub_id)
        if hub is not None and member is not None and await svc.store.is_volunteer_of(member.id, hub_id):
            hubs.append(hub)
    if member is None or not hubs:
        await message.reply_text(svc.texts.get("volunteer.not_volunteer", lang))
        return
    now, shown = svc.clock.now(), 0
    for hub in hubs:
        for session in await svc.store.upcoming_sessions(hub.id, now, 10):
            if shown >= UPCOMING:
                break
            if tasks_for(hub, session.kind):
                text, markup = await task_card(svc, session, hub, member.id, lang)
                await message.reply_text(text, reply_markup=markup)
                shown += 1
    if not shown:
        await message.reply_text(svc.texts.get("volunteer.no_tasks", lang))


async def on_task_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    lang = await reader_language(svc, update)
    parts = parse_callback(query.data, PREFIX, 3)
    session_id = parse_int(parts[1]) if parts else None
    session = await svc.store.session(session_id) if session_id else None
    member = await svc.store.member_by_user(query.from_user.id)
    if parts is None or parts[0] not in ("t", "g") or session is None:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    hub = svc.hub(session.hub_id)
    if hub is None or member is None or not await svc.store.is_volunteer_of(member.id, hub.id):
        await refuse(svc, query, lang=lang)
        return
    if parts[2] not in {task.id for task in tasks_for(hub, session.kind)}:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    now = svc.clock.now()
    if not session.open_at(now):
        await query.answer(svc.texts.get("volunteer.too_late", lang), show_alert=True)
        return
    if parts[0] == "t":
        done = await svc.store.take_task(session.id, parts[2], member.id, hub.volunteers.tasks_per_volunteer, now)
        answer = "volunteer.taken" if done else "volunteer.not_free"
    else:
        done = await svc.store.give_back_task(session.id, parts[2], member.id)
        answer = "volunteer.given_back" if done else "volunteer.not_yours"
    # Committed before the person is thanked; the card, read after it, shows what is true now, and goes to
    # Telegram with the thanks (a second tap on a card that did not change is harmless).
    text, markup = await task_card(svc, session, hub, member.id, lang)
    await edit_and_answer(query, text, markup, note=svc.texts.get(answer, lang), alert=not done)
