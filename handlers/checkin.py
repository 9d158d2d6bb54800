"""Taps on an after-session check-in: who answers (carers, once), how they feel, more connected, absent, change.

Every tap is re-checked against the database and the tapping person: the check-in must have been sent to
them for that session, and the answer must be one the question offers. The answer is committed before the
message changes to thank them.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.domain import checkins as checkin_rules
from bot.domain.consent import WELLBEING
from bot.domain.people import Member
from bot.jobs import checkins
from bot.jobs.checkins import Context
from bot.jobs.safeguarding import low_answer_reply
from bot.messages.callbacks import parse_callback, parse_int
from bot.messages.keyboards import keyboard
from bot.services import Services, services
from handlers.common import edit_tapped, refuse


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CallbackQueryHandler(on_checkin, pattern=rf"^{checkins.PREFIX}:"), group)


def in_private_chat(query: CallbackQuery) -> bool:
    """Answers live only in the person's private chat with the bot, never in a group."""
    message = query.message
    return message is None or message.chat.id == query.from_user.id


async def on_checkin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    member, lang = await svc.person(query.from_user)
    parts = parse_callback(query.data, checkins.PREFIX, 3)
    ctx = await _session_asked(svc, query, member, parts)
    if ctx is None or parts is None or member is None:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if not await svc.store.has_consent(member.id, WELLBEING):
        await refuse(svc, query, "checkin.no_consent", lang=lang)
        return
    step, value = parts[1], parts[2]
    if step == checkins.STEP_WHO:
        await _who(svc, query, member, ctx, value)
    elif step == checkins.STEP_CHANGE:
        await _change(svc, query, ctx, value)
    else:
        await _answer(svc, query, member, ctx, step, value)


async def _session_asked(
    svc: Services, query: CallbackQuery, member: Member | None, parts: list[str] | None
) -> Context | None:
    """The session of a check-in that was really sent to this person, in their private chat; else None."""
    if parts is None or member is None or not in_private_chat(query):
        return None
    session_id = parse_int(parts[0])
    session = await svc.store.session(session_id) if session_id else None
    hub = svc.hub(session.hub_id) if session else None
    if session is None or hub is None:
        return None
    if not await svc.store.was_delivered(checkins.dedupe_key(session.id, member.id)):
        return None  # someone else's check-in, or one never sent
    checkin = await svc.store.checkin_of(session.id, member.id)
    window = svc.settings.wellbeing.change_window_hours
    supported = await checkins.supported_name(svc, member, await svc.store.answer_mode(member.id))
    return Context(session, hub, member.language, checkin, window, supported)


async def _who(svc: Services, query: CallbackQuery, member: Member, ctx: Context, value: str) -> None:
    """A carer says who answers; asked once, so a later tap keeps the first answer."""
    if value not in checkins.ANSWERED_AS or member.role != "carer":
        await refuse(svc, query, "common.old_button", lang=ctx.lang)
        return
    if await svc.store.answer_mode(member.id) is None:
        await svc.store.set_answer_mode(member.id, value, svc.clock.now())
    mode = await svc.store.answer_mode(member.id)
    ctx = replace(ctx, supported=await checkins.supported_name(svc, member, mode))
    await _show(query, *checkins.view(svc, "feeling", ctx))


async def _change(svc: Services, query: CallbackQuery, ctx: Context, value: str) -> None:
    current = ctx.checkin
    if value != "change" or current is None:
        await refuse(svc, query, "common.old_button", lang=ctx.lang)
        return
    if svc.clock.now() >= checkins.change_deadline(current.first_answered_at, ctx.window_hours):
        await _refuse_change(svc, query, ctx)
        return
    await _show(query, *checkins.view(svc, "feeling", ctx))


async def _refuse_change(svc: Services, query: CallbackQuery, ctx: Context) -> None:
    window = checkins.window_words(ctx.window_hours, ctx.lang)
    await edit_tapped(query, checkins.closed_view(svc, ctx, "checkin.change_closed", window=window))
    await refuse(svc, query, "checkin.change_closed_short", lang=ctx.lang)


async def _answer(svc: Services, query: CallbackQuery, member: Member, ctx: Context, step: str, value: str) -> None:
    changes = checkin_rules.changes_for(step, value)
    if changes is None:
        await refuse(svc, query, "common.old_button", lang=ctx.lang)
        return
    mode = await svc.store.answer_mode(member.id)
    if checkins.needs_who_question(member.role, mode):
        await _show(query, *checkins.view(svc, "who", ctx))
        return
    now = svc.clock.now()
    if ctx.checkin is None and not checkin_rules.open_for_first_answer(ctx.session.ends_at, now):
        await edit_tapped(query, checkins.closed_view(svc, ctx, "checkin.closed"))
        await refuse(svc, query, "checkin.closed", lang=ctx.lang)
        return
    changeable_after = now - timedelta(hours=ctx.window_hours)
    outcome, stored = await svc.store.record_checkin_answer(
        session_id=ctx.session.id, hub_id=ctx.hub.id, member_id=member.id, changes=changes,
        answered_as=checkin_rules.answered_as(mode), changeable_after=changeable_after, now=now,
    )
    if outcome == "closed":
        await _refuse_change(svc, query, replace(ctx, checkin=stored))
        return
    after = replace(ctx, checkin=stored)
    # Stored: the thanks (the next question, or the end) and the tap's answer go to Telegram together.
    await _show(query, *checkins.view(svc, checkin_rules.view_after(stored, step, ctx.hub.ask_connected), after))
    if checkin_rules.became_low(ctx.checkin, stored):
        talk = (svc.texts.get("checkin.button_talk", ctx.lang), f"{checkins.TALK_PREFIX}:talk:s{ctx.session.id}")
        await svc.bot.send_message(query.from_user.id, low_answer_reply(svc, ctx.lang), reply_markup=keyboard([talk]))


async def _show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """The tapped message becomes `text`, and the tap is answered, in one round trip to Telegram, not two: the
    person's button stops spinning as the message changes."""
    await asyncio.gather(edit_tapped(query, text, markup), query.answer())
