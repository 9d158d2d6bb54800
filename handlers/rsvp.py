"""RSVP buttons (`r:<session>:<action>`), choosing who is coming, the waiting list's notices, and /next.

Callback data is untrusted: it is parsed strictly, then the session is looked up and checked against the
tapping person (`from_user`), who must be a member of that session's hub; the session must be neither
cancelled nor started. A button is edited only if it really is on the message it came from, so a forged tap
never rewrites an unrelated message. Every tap is answered.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.config import HubSettings
from bot.domain.invites import within_party_limit
from bot.domain.people import Companion
from bot.domain.sessions import Invitation
from bot.jobs.notices import place_notice
from bot.jobs.reminders import member_card
from bot.messages.callbacks import parse_callback, parse_int
from bot.messages.keyboards import grid
from bot.messages.session_card import RSVP_PREFIX, heading, rsvp_data, short_when
from bot.services import Services, services
from handlers.common import edit_tapped, reader_language, refuse, together
from storage.rsvps import KEEP, RsvpChange

log = logging.getLogger(__name__)

COMMANDS = ("next",)
NEXT_LIMIT = 4
ACTION = re.compile(r"^(?:[ynmws]|[tc](?:0|[1-9][0-9]{0,2}))$")
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
    # One card with buttons per hub (its next session); the sessions after it as dates in one message, each a
    # button that opens its card there, so /next is not four cards and twelve buttons to read through.
    later: dict[str, list[tuple[str, str]]] = {}
    for session in sessions:
        hub = svc.hub(session.hub_id)
        if hub is None:
            continue
        if hub.id in later:
            later[hub.id].append((short_when(session, hub, member.language), rsvp_data(session.id, "s")))
            continue
        invitation = await svc.store.invitation(session.id, member.id)
        if invitation is None:
            continue
        later[hub.id] = []
        text, markup = await member_card(svc, invitation, hub, now)
        await message.reply_text(text, reply_markup=markup)
    dates = [date for hub_dates in later.values() for date in hub_dates]
    if dates:
        text = svc.texts.get("next_sessions.later", member.language, dates=" · ".join(label for label, _ in dates))
        await message.reply_text(text, reply_markup=grid(dates, per_row=1))


async def on_rsvp(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    parts = parse_callback(query.data, RSVP_PREFIX, 2)
    session_id = parse_int(parts[0]) if parts else None
    valid = parts is not None and session_id is not None and ACTION.match(parts[1]) is not None
    # Who tapped, their invitation and companions: one trip to SQLite's thread for the whole tap's reading.
    tapped = await svc.store.tapped(query.from_user.id, session_id if valid else None)
    lang = svc.language_for(tapped.member, query.from_user)
    if parts is None or not valid:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    invitation = tapped.invitation
    hub = svc.hub(invitation.session.hub_id) if invitation else None
    if invitation is None or hub is None or not invitation.in_hub:
        await query.answer(svc.texts.get("rsvp.not_yours", lang), show_alert=True)
        return
    now = svc.clock.now()
    if not invitation.session.open_at(now):
        key = "rsvp.closed_cancelled" if invitation.session.cancelled else "rsvp.closed_started"
        await query.answer(svc.texts.get(key, lang), show_alert=True)
        await _show_card(svc, query, invitation, tapped.companions)
        return
    action = parts[1]
    if action == "s":  # a later date from /next: its card, in place of the list
        await query.answer()
        await _show_card(svc, query, invitation, tapped.companions)
    elif action in ANSWERS:
        await _answer(svc, query, invitation, ANSWERS[action], context, tapped.companions)
    elif action == "w":
        await _show_who(svc, query, invitation, None, tapped.companions)
    elif action.startswith("t"):
        await _toggle_who(svc, query, invitation, int(action[1:]), context, tapped.companions)
    else:
        await _confirm_who(svc, query, invitation, int(action[1:]), context, tapped.companions)


async def _answer(svc: Services, query: CallbackQuery, invitation: Invitation, answer: str,
                  context: ContextTypes.DEFAULT_TYPE, companions: list[Companion]) -> None:
    """`companions` are the member's, read with the invitation."""
    hub = svc.hub(invitation.session.hub_id)
    assert hub is not None
    companion_ids: object = KEEP
    if answer != "no" and hub.max_party is not None:
        if not within_party_limit(len(_chosen(invitation, companions)), hub.max_party):
            if hub.max_party > 0:  # more than the hub allows: they choose who comes, nothing is stored yet
                await _over_party_limit(svc, query, invitation, hub.max_party, companions)
                return
            companion_ids = []  # members come on their own: one tap still answers
    change = await svc.store.answer_rsvp(
        invitation.session.id, invitation.member.id, answer, svc.clock.now(),
        capacity=hub.capacity, companion_ids=companion_ids, place_notice=place_notice(invitation),
    )
    await _answered(svc, query, invitation, change, context, companions)


async def _show_who(svc: Services, query: CallbackQuery, invitation: Invitation, mask: int | None,
                    companions: list[Companion], *, note: str | None = None, alert: bool = False) -> None:
    """Companions as toggles (ticked = coming, each tap saved at once) and Confirm, which closes the list."""
    lang = invitation.member.language
    too_big = mask is not None and mask >= 1 << len(companions)
    hub = svc.hub(invitation.session.hub_id)
    assert hub is not None
    # A hub with max_party opens the choice before any answer (a Yes that would bring too many people).
    answered = invitation.answer in ("yes", "maybe") or hub.max_party is not None
    if not companions or not answered or too_big:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if mask is not None and not within_party_limit(mask.bit_count(), hub.max_party):
        await query.answer(_party_words(svc, hub, lang), show_alert=True)
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
    text = f"{heading(svc.texts, invitation.session, hub, lang)}\n\n{svc.texts.get('rsvp.who_question', lang)}"
    await query.answer(note, show_alert=alert)
    if _genuine(query):
        await edit_tapped(query, text, markup)


async def _toggle_who(svc: Services, query: CallbackQuery, invitation: Invitation, mask: int,
                      context: ContextTypes.DEFAULT_TYPE, companions: list[Companion]) -> None:
    """A tick or an untick is saved at once, so leaving the list without Confirm loses nothing (issue 15)."""
    lang = invitation.member.language
    hub = svc.hub(invitation.session.hub_id)
    assert hub is not None
    answered = invitation.answer in ("yes", "maybe")
    # A hub with max_party opens the choice before any answer (a Yes that would bring too many people).
    if not companions or not (answered or hub.max_party is not None) or mask >= 1 << len(companions):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if not within_party_limit(mask.bit_count(), hub.max_party):  # too many ticked: said why, nothing stored
        await query.answer(_party_words(svc, hub, lang), show_alert=True)
        return
    if not answered:  # choosing who comes before answering: stored when they Confirm
        await _show_who(svc, query, invitation, mask, companions)
        return
    change = await _save_who(svc, invitation, companions, mask)
    if change.promoted:
        services(context).dispatcher.kick()
    if change.outcome == "no_room":
        note, alert = svc.texts.get("rsvp.no_room", lang, places=change.places_left), True
    elif change.outcome == "waitlisted":
        note, alert = svc.texts.get("rsvp.waitlisted", lang, position=change.waitlist_position), True
    else:
        note, alert = svc.texts.get("who_is_coming.saved", lang), False
    await _show_who(svc, query, change.invitation or invitation, None, companions, note=note, alert=alert)


async def _save_who(svc: Services, invitation: Invitation, companions: list[Companion], mask: int) -> RsvpChange:
    chosen = [c.id for index, c in enumerate(companions) if mask & (1 << index)]
    everyone = len(chosen) == len(companions)
    answer = invitation.answer if invitation.answer in ("yes", "maybe") else "yes"
    hub = svc.hub(invitation.session.hub_id)
    assert hub is not None
    return await svc.store.answer_rsvp(
        invitation.session.id, invitation.member.id, answer, svc.clock.now(), capacity=hub.capacity,
        companion_ids=None if everyone else chosen, place_notice=place_notice(invitation),
    )


async def _confirm_who(svc: Services, query: CallbackQuery, invitation: Invitation, mask: int,
                       context: ContextTypes.DEFAULT_TYPE, companions: list[Companion]) -> None:
    lang = invitation.member.language
    if not companions or mask >= 1 << len(companions):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    hub = svc.hub(invitation.session.hub_id)
    assert hub is not None
    if not within_party_limit(mask.bit_count(), hub.max_party):  # a forged Confirm: refused, nothing stored
        await query.answer(_party_words(svc, hub, lang), show_alert=True)
        return
    change = await _save_who(svc, invitation, companions, mask)
    await _answered(svc, query, invitation, change, context, companions)


async def _answered(svc: Services, query: CallbackQuery, invitation: Invitation, change: RsvpChange,
                    context: ContextTypes.DEFAULT_TYPE, companions: list[Companion]) -> None:
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
    await together(note, _refresh_card(svc, query, invitation, change.invitation, companions))


async def _refresh_card(svc: Services, query: CallbackQuery, invitation: Invitation, fresh: Invitation | None,
                        companions: list[Companion]) -> None:
    """The card as stored now: `fresh` was read in the answer's own transaction (no second read)."""
    fresh = fresh or await svc.store.invitation(invitation.session.id, invitation.member.id)
    if fresh is not None:
        await _show_card(svc, query, fresh, companions)


async def _show_card(svc: Services, query: CallbackQuery, invitation: Invitation,
                     companions: list[Companion]) -> None:
    """`companions` are the member's, read with the tap (their list does not change with an answer)."""
    hub = svc.hub(invitation.session.hub_id)
    if hub is None or not _genuine(query):
        return
    text, markup = await member_card(svc, invitation, hub, svc.clock.now(), companions)
    await edit_tapped(query, text, markup)


def _chosen(invitation: Invitation, companions: list[Companion]) -> list[Companion]:
    """The companions this answer brings (all of them unless the member chose)."""
    if invitation.all_companions:
        return companions
    return [c for c in companions if c.id in invitation.companion_ids]


async def _over_party_limit(svc: Services, query: CallbackQuery, invitation: Invitation, max_party: int,
                           companions: list[Companion]) -> None:
    """A Yes or Maybe that would bring more companions than the hub allows: say so, and open the choice of who
    is coming with nobody ticked. Nothing is stored until they confirm a party that fits."""
    hub = svc.hub(invitation.session.hub_id)
    assert hub is not None
    lang = invitation.member.language
    await query.answer(_party_words(svc, hub, lang), show_alert=True)
    if not _genuine(query):
        return
    items = [(c.name, rsvp_data(invitation.session.id, f"t{1 << index}")) for index, c in enumerate(companions)]
    confirm = [(svc.texts.get("rsvp.confirm_button", lang), rsvp_data(invitation.session.id, "c0"))]
    markup = InlineKeyboardMarkup([*grid(items, per_row=2).inline_keyboard, *grid(confirm).inline_keyboard])
    text = f"{heading(svc.texts, invitation.session, hub, lang)}\n\n{svc.texts.get('rsvp.who_question', lang)}"
    await edit_tapped(query, text, markup)


def _party_words(svc: Services, hub: HubSettings, lang: str) -> str:
    return svc.texts.get("invite.party_limit", lang, hub=hub.name, max=hub.max_party or 0)


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
