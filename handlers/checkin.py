"""Taps on an after-session check-in: who answers (carers, once), how they feel, more connected, absent, change.

Every tap is re-checked against the database and the tapping person: the check-in must have been sent to
them for that session, and the answer must be one the question offers. The answer is committed before the
message changes to thank them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.domain import checkins as checkin_rules
from bot.domain.people import Member
from bot.jobs import checkins
from bot.jobs.checkins import Context
from bot.jobs.safeguarding import low_answer_reply
from bot.messages.callbacks import parse_callback, parse_int
from bot.messages.keyboards import keyboard
from bot.services import Services, services
from handlers.common import edit_and_answer, refuse
from storage.wellbeing import CheckinTapped


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
    parts = parse_callback(query.data, checkins.PREFIX, 3)
    session_id = parse_int(parts[0]) if parts is not None and in_private_chat(query) else None
    # Who tapped and all the handler checks (the check-in was sent to them, consent, their answer so far, who
    # answers): one trip to SQLite's thread.
    tapped = await svc.store.checkin_tapped(query.from_user.id, session_id or None)
    member, lang = tapped.member, svc.language_for(tapped.member, query.from_user)
    ctx = _session_asked(svc, tapped)
    if ctx is None or parts is None or member is None:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if not tapped.consented:
        await refuse(svc, query, "checkin.no_consent", lang=lang)
        return
    step, value = parts[1], parts[2]
    if step == checkins.STEP_WHO:
        await _who(svc, query, member, ctx, value)
    elif step == checkins.STEP_CHANGE:
        await _change(svc, query, ctx, value)
    else:
        await _answer(svc, query, member, ctx, step, value, tapped.answer_mode)


def _session_asked(svc: Services, tapped: CheckinTapped) -> Context | None:
    """The session of a check-in that was really sent to this person; else None (a tap outside their private
    chat reads no session)."""
    member, session = tapped.member, tapped.session
    hub = svc.hub(session.hub_id) if session else None
    if member is None or session is None or hub is None or not tapped.delivered:
        return None  # someone else's check-in, one never sent, or a forged button
    window = svc.settings.wellbeing.change_window_hours
    supported = checkins.supported_among(svc, member, tapped.answer_mode, tapped.companions)
    return Context(session, hub, member.language, tapped.checkin, window, supported)


async def _who(svc: Services, query: CallbackQuery, member: Member, ctx: Context, value: str) -> None:
    """A carer says who answers; asked once, so a later tap keeps the first answer."""
    if value not in checkins.ANSWERED_AS or member.role != "carer":
        await refuse(svc, query, "common.old_button", lang=ctx.lang)
        return
    if await svc.store.answer_mode(member.id) is None:
        await svc.store.set_answer_mode(member.id, value, svc.clock.now())
    mode = await svc.store.answer_mode(member.id)
    ctx = replace(ctx, supported=await checkins.supported_name(svc, member, mode))
    await edit_and_answer(query, *checkins.view(svc, "feeling", ctx))


async def _change(svc: Services, query: CallbackQuery, ctx: Context, value: str) -> None:
    current = ctx.checkin
    if value != "change" or current is None:
        await refuse(svc, query, "common.old_button", lang=ctx.lang)
        return
    if svc.clock.now() >= checkins.change_deadline(current.first_answered_at, ctx.window_hours):
        await _refuse_change(svc, query, ctx)
        return
    await edit_and_answer(query, *checkins.view(svc, "feeling", ctx))


async def _refuse_change(svc: Services, query: CallbackQuery, ctx: Context) -> None:
    window = checkins.window_words(ctx.window_hours, ctx.lang)
    await edit_and_answer(query, checkins.closed_view(svc, ctx, "checkin.change_closed", window=window),
                          note=svc.texts.get("checkin.change_closed_short", ctx.lang), alert=True)


async def _answer(svc: Services, query: CallbackQuery, member: Member, ctx: Context, step: str, value: str,
                  mode: str | None) -> None:
    """`mode`: who answers, as read with the tap."""
    changes = checkin_rules.changes_for(step, value)
    if changes is None:
        await refuse(svc, query, "common.old_button", lang=ctx.lang)
        return
    if checkins.needs_who_question(member.role, mode):
        await edit_and_answer(query, *checkins.view(svc, "who", ctx))
        return
    now = svc.clock.now()
    if ctx.checkin is None and not checkin_rules.open_for_first_answer(ctx.session.ends_at, now):
        await edit_and_answer(query, checkins.closed_view(svc, ctx, "checkin.closed"),
                              note=svc.texts.get("checkin.closed", ctx.lang), alert=True)
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
    try:
        # Stored: the thanks (the next question, or the end) and the tap's answer go to Telegram together.
        view = checkin_rules.view_after(stored, step, ctx.hub.ask_connected)
        await edit_and_answer(query, *checkins.view(svc, view, after))
    finally:
        # The kind reply and the help numbers go out after a low answer even when the edit or the tap's answer
        # failed (a tap answered too late, Telegram down for a moment): the answer is stored either way.
        if checkin_rules.became_low(ctx.checkin, stored):
            talk = (svc.texts.get("checkin.button_talk", ctx.lang), f"{checkins.TALK_PREFIX}:talk:s{ctx.session.id}")
            await svc.bot.send_message(query.from_user.id, low_answer_reply(svc, ctx.lang),
                                       reply_markup=keyboard([talk]))
