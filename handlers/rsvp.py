"""RSVP buttons (`r:<session>:<action>`), choosing who is coming, the waiting list's notices, and /next.

Callback data is untrusted: it is parsed strictly, then the session is looked up and checked against the
tapping person (`from_user`), who must be a member of that session's hub; the session must be neither
cancelled nor started. A button is edited only if it really is on the message it came from, so a forged tap
never rewrites an unrelated message. Every tap is answered.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.domain.people import Companion
from bot.domain.sessions import Invitation
from bot.jobs.notices import place_notice
from bot.jobs.reminders import member_card
from bot.messages.callbacks import parse_callback, parse_int
from bot.messages.keyboards import grid
from bot.messages.session_card import RSVP_PREFIX, heading, rsvp_data
from bot.services import Services, services
from handlers.common import reader_language, refuse
from storage.rsvps import RsvpChange

log = logging.getLogger(__name__)

COMMANDS = ("next",)
NEXT_LIMIT = 4
ACTION = re.compile(r"^(?:[ynmw]|[tc](?:0|[1-9][0-9]{0,2}))$")
ANSWERS = {"y": "yes", "n": "no", "m": "maybe"}


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CommandHandler("next", next_command), group)
    application.add_handler(CallbackQueryHandler(on_rsvp, pattern=rf"^{RSVP_PREFIX}:"), group)


async def next_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The member's next sessions in all their hubs, each with its answer and buttons."""
    svc, message, user = services(context), update.effective_message, update.effective_user
    if message is None or user is None:
        return
    member = await svc.store.member_by_user(user.id)
    if member is None:
        await message.reply_text(svc.texts.get("common.how_to_join", await reader_language(svc, update)))
        return
    now = svc.clock.now()
    sessions = await svc.store.upcoming_sessions_of_member(member.id, now, NEXT_LIMIT)
    if not sessions:
        await message.reply_text(svc.texts.get("rsvp.no_sessions", member.language))
        return
    for session in sessions:
        invitation = await svc.store.invitation(session.id, member.id)
        hub = svc.hub(session.hub_id)
        if invitation is None or hub is None:
            continue
        text, markup = await member_card(svc, invitation, hub, now)
        await message.reply_text(text, reply_markup=markup)


async def on_rsvp(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    member, lang = await svc.person(query.from_user)
    parts = parse_callback(query.data, RSVP_PREFIX, 2)
    session_id = parse_int(parts[0]) if parts else None
    if parts is None or session_id is None or not ACTION.match(parts[1]):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    invitation = await svc.store.invitation(session_id, member.id) if member else None
    hub = svc.hub(invitation.session.hub_id) if invitation else None
    if invitation is None or hub is None or not invitation.in_hub:
        await query.answer(svc.texts.get("rsvp.not_yours", lang), show_alert=True)
        return
    now = svc.clock.now()
    if not invitation.session.open_at(now):
        key = "rsvp.closed_cancelled" if invitation.session.cancelled else "rsvp.closed_started"
        await query.answer(svc.texts.get(key, lang), show_alert=True)
        await _show_card(svc, query, invitation)
        return
    action = parts[1]
    if action in ANSWERS:
        await _answer(svc, query, invitation, ANSWERS[action], context)
    elif action == "w" or action.startswith("t"):
        await _show_who(svc, query, invitation, None if action == "w" else int(action[1:]))
    else:
        await _confirm_who(svc, query, invitation, int(action[1:]), context)


async def _answer(svc: Services, query: CallbackQuery, invitation: Invitation, answer: str,
                  context: ContextTypes.DEFAULT_TYPE) -> None:
    hub = svc.hub(invitation.session.hub_id)
    assert hub is not None
    change = await svc.store.answer_rsvp(
        invitation.session.id, invitation.member.id, answer, svc.clock.now(),
        capacity=hub.capacity, place_notice=place_notice(invitation),
    )
    await _answered(svc, query, invitation, change, context)


async def _show_who(svc: Services, query: CallbackQuery, invitation: Invitation, mask: int | None) -> None:
    """Companions as toggles (ticked = coming) and Confirm; the selection lives in the buttons themselves."""
    lang = invitation.member.language
    companions = await svc.store.companions_of(invitation.member.id)
    too_big = mask is not None and mask >= 1 << len(companions)
    if not companions or invitation.answer not in ("yes", "maybe") or too_big:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if mask is None:
        mask = _mask_of(invitation, companions)
    items = []
    for index, companion in enumerate(companions):
        coming = bool(mask & (1 << index))
        label = svc.texts.get("rsvp.chosen", lang, label=companion.name) if coming else companion.name
        items.append((label, rsvp_data(invitation.session.id, f"t{mask ^ (1 << index)}")))
    markup = grid(items, per_row=2)
    confirm = [(svc.texts.get("rsvp.confirm_button", lang), rsvp_data(invitation.session.id, f"c{mask}"))]
    markup = InlineKeyboardMarkup([*markup.inline_keyboard, *grid(confirm).inline_keyboard])
    hub = svc.hub(invitation.session.hub_id)
    assert hub is not None
    text = f"{heading(svc.texts, invitation.session, hub, lang)}\n\n{svc.texts.get('rsvp.who_question', lang)}"
    await query.answer()
    if _genuine(query):
        await _edit(query, text, markup)


async def _confirm_who(svc: Services, query: CallbackQuery, invitation: Invitation, mask: int,
                       context: ContextTypes.DEFAULT_TYPE) -> None:
    companions = await svc.store.companions_of(invitation.member.id)
    lang = invitation.member.language
    if not companions or mask >= 1 << len(companions):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    chosen = [c.id for index, c in enumerate(companions) if mask & (1 << index)]
    everyone = len(chosen) == len(companions)
    answer = invitation.answer if invitation.answer in ("yes", "maybe") else "yes"
    hub = svc.hub(invitation.session.hub_id)
    assert hub is not None
    change = await svc.store.answer_rsvp(
        invitation.session.id, invitation.member.id, answer, svc.clock.now(), capacity=hub.capacity,
        companion_ids=None if everyone else chosen, place_notice=place_notice(invitation),
    )
    await _answered(svc, query, invitation, change, context)


async def _answered(svc: Services, query: CallbackQuery, invitation: Invitation, change: RsvpChange,
                    context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the person what happened (a short note, or an alert when it needs reading), then show the card."""
    lang = invitation.member.language
    if change.promoted:
        log.info("session %s: %d moved up from the waiting list", invitation.session.id, len(change.promoted))
        services(context).dispatcher.kick()
    if change.outcome == "no_room":
        note = query.answer(svc.texts.get("rsvp.no_room", lang, places=change.places_left), show_alert=True)
    elif change.outcome == "waitlisted":
        note = query.answer(svc.texts.get("rsvp.waitlisted", lang, position=change.waitlist_position),
                            show_alert=True)
    else:
        note = query.answer(svc.texts.get("rsvp.thanks", lang))
    # The answer is stored: the note and the card go to Telegram together, one round trip instead of two.
    await asyncio.gather(note, _refresh_card(svc, query, invitation, change.invitation))


async def _refresh_card(svc: Services, query: CallbackQuery, invitation: Invitation,
                        fresh: Invitation | None = None) -> None:
    """The card as stored now: `fresh` was read in the answer's own transaction (no second read)."""
    fresh = fresh or await svc.store.invitation(invitation.session.id, invitation.member.id)
    if fresh is not None:
        await _show_card(svc, query, fresh)


async def _show_card(svc: Services, query: CallbackQuery, invitation: Invitation) -> None:
    hub = svc.hub(invitation.session.hub_id)
    if hub is None or not _genuine(query):
        return
    text, markup = await member_card(svc, invitation, hub, svc.clock.now())
    await _edit(query, text, markup)


def _mask_of(invitation: Invitation, companions: list[Companion]) -> int:
    if invitation.all_companions:
        return (1 << len(companions)) - 1
    return sum(1 << index for index, c in enumerate(companions) if c.id in invitation.companion_ids)


def _genuine(query: CallbackQuery) -> bool:
    """The tapped data is really a button of the message it came from (not forged onto another message)."""
    message = query.message
    markup = getattr(message, "reply_markup", None)
    if markup is None:
        return False
    return any(button.callback_data == query.data for row in markup.inline_keyboard for button in row)


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise


