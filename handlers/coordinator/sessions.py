"""Coordinators' /sessions (who is coming) and /cancel (pick, optional reason, confirm, tell people).

Only a hub's coordinators and the admins may use these; anyone else gets a polite refusal and nothing else.
Every button carries a session id that is checked again against the tapping person's hubs, so a forged tap
for another hub's session is refused. The reason and the confirmation wait in awaiting_input, so a restart
half-way loses nothing, and confirming takes that state in one step, so a double tap cancels once.
"""

from __future__ import annotations

from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.domain.sessions import Session
from bot.jobs.notices import NOTICE_KIND, NOTICE_LIFETIME
from bot.jobs.volunteers import volunteer_line
from bot.messages.callbacks import parse_callback, parse_int
from bot.messages.keyboards import keyboard
from bot.messages.session_card import short_when
from bot.services import Services, services
from handlers.common import reader_language, refuse
from handlers.coordinator.access import hubs_or_refuse
from handlers.text_input import register_text_input
from storage.rsvps import Headcount, SessionTally

COORDINATOR_COMMANDS = ("sessions", "cancel")
PREFIX = "sx"
REASON_INPUT = "sessions.cancel_reason"
CONFIRM_INPUT = "sessions.cancel_confirm"
MAX_REASON = 200
SESSIONS_PER_HUB = 4
CANCEL_CHOICES = 8


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CommandHandler("sessions", sessions_command), group)
    application.add_handler(CommandHandler("cancel", cancel_command), group)
    application.add_handler(CallbackQueryHandler(on_cancel_button, pattern=rf"^{PREFIX}:"), group)
    register_text_input(application, REASON_INPUT, on_reason, screened=False)
    register_text_input(application, CONFIRM_INPUT, on_text_while_confirming, screened=False)


async def sessions_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """For each hub the person coordinates: the next sessions with answers, people and the waiting list."""
    svc, message = services(context), update.effective_message
    hubs = await hubs_or_refuse(svc, update)
    if hubs is None or message is None:
        return
    lang = await reader_language(svc, update)
    now = svc.clock.now()
    for hub in hubs:
        sessions = await svc.store.upcoming_sessions(hub.id, now, SESSIONS_PER_HUB)
        if not sessions:
            await message.reply_text(svc.texts.get("sessions_admin.none", lang, hub=hub.name))
            continue
        tallies = await svc.store.session_tallies([s.id for s in sessions])
        blocks = [svc.texts.get("sessions_admin.title", lang, hub=hub.name)]
        for session in sessions:
            block = _session_block(svc, session, tallies[session.id], hub.capacity, lang)
            gaps = await volunteer_line(svc, session, hub, lang)  # issue 17: tasks no volunteer has taken
            blocks.append(f"{block}\n{gaps}" if gaps else block)
        await message.reply_text("\n\n".join(blocks))


def _session_block(svc: Services, session: Session, tally: SessionTally, capacity: int | None, lang: str) -> str:
    hub = svc.hub(session.hub_id)
    assert hub is not None
    t = svc.texts
    lines = [short_when(session, hub, lang) + (f" · {session.title}" if session.title else "")]
    if capacity is not None:
        lines.append(t.get("sessions_admin.places", lang, taken=tally.yes.people, capacity=capacity))
    lines.append(t.get("sessions_admin.yes", lang, households=t.plural("counts.households", lang, tally.yes.members),
                       people=t.plural("counts.people", lang, tally.yes.people),
                       adults=t.plural("counts.adults", lang, tally.yes.adults),
                       children=t.plural("counts.children", lang, tally.yes.children)))
    lines.append(t.get("sessions_admin.maybe_no", lang,
                       maybe_households=t.plural("counts.households", lang, tally.maybe.members),
                       maybe_people=t.plural("counts.people", lang, tally.maybe.people),
                       no=t.plural("counts.households", lang, tally.no.members)))
    if tally.waiting:
        names = ", ".join(t.get("sessions_admin.waiting_party", lang, name=p.first_name,
                                people=t.plural("counts.people", lang, p.people)) for p in tally.waiting)
        lines.append(t.get("sessions_admin.waiting", lang, names=names))
    return "\n".join(lines)


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, message = services(context), update.effective_message
    hubs = await hubs_or_refuse(svc, update)
    if hubs is None or message is None:
        return
    lang = await reader_language(svc, update)
    now = svc.clock.now()
    choices: list[Session] = []
    for hub in hubs:
        choices.extend(await svc.store.upcoming_sessions(hub.id, now, CANCEL_CHOICES))
    choices = sorted(choices, key=lambda s: s.starts_at)[:CANCEL_CHOICES]
    if not choices:
        await message.reply_text(svc.texts.get("sessions_admin.cancel_none", lang))
        return
    rows = [[(_label(svc, s, lang, several=len(hubs) > 1), f"{PREFIX}:p:{s.id}")] for s in choices]
    await message.reply_text(svc.texts.get("sessions_admin.cancel_pick", lang), reply_markup=keyboard(*rows))


def _label(svc: Services, session: Session, lang: str, *, several: bool) -> str:
    hub = svc.hub(session.hub_id)
    assert hub is not None
    when = short_when(session, hub, lang)
    return f"{hub.name} · {when}" if several else when


async def on_cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    lang = await reader_language(svc, update)
    parts = parse_callback(query.data, PREFIX, 2)
    session_id = parse_int(parts[1]) if parts else None
    session = await svc.store.session(session_id) if session_id else None
    if parts is None or parts[0] not in _STEPS or session is None:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if not svc.coordinates(query.from_user.id, session.hub_id):
        await refuse(svc, update)
        return
    if not session.open_at(svc.clock.now()) and parts[0] != "k":
        await query.answer(svc.texts.get("sessions_admin.cancel_closed", lang), show_alert=True)
        return
    await _STEPS[parts[0]](svc, query, session, lang, context)


async def _step_pick(svc: Services, query: CallbackQuery, session: Session, lang: str, _: Any) -> None:
    await svc.store.expect_input(query.from_user.id, REASON_INPUT, {"session": session.id}, svc.clock.now())
    await query.answer()
    hub = svc.hub(session.hub_id)
    assert hub is not None
    text = svc.texts.get("sessions_admin.cancel_reason", lang, hub=hub.name, when=short_when(session, hub, lang))
    await query.edit_message_text(text, reply_markup=keyboard([
        (svc.texts.get("sessions_admin.button_no_reason", lang), f"{PREFIX}:r:{session.id}"),
        (svc.texts.get("sessions_admin.button_keep", lang), f"{PREFIX}:k:{session.id}"),
    ]))


async def _step_no_reason(svc: Services, query: CallbackQuery, session: Session, lang: str, _: Any) -> None:
    awaited = await svc.store.awaited_input(query.from_user.id)
    if awaited is None or awaited[0] != REASON_INPUT or awaited[1].get("session") != session.id:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    await query.answer()
    text, markup = await _confirmation(svc, query.from_user.id, session, "", lang)
    await query.edit_message_text(text, reply_markup=markup)


async def _step_confirm(svc: Services, query: CallbackQuery, session: Session, lang: str,
                        context: ContextTypes.DEFAULT_TYPE) -> None:
    pending = await svc.store.take_input(query.from_user.id, CONFIRM_INPUT)
    if pending is None or pending.get("session") != session.id:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    now = svc.clock.now()
    told = await svc.store.cancel_session_telling(
        session.id, str(pending.get("reason", "")), now, notice_kind=NOTICE_KIND,
        expires_at=session.ends_at + NOTICE_LIFETIME,
    )
    if told is None:
        await query.answer(svc.texts.get("sessions_admin.cancel_closed", lang), show_alert=True)
        return
    services(context).dispatcher.kick()
    await query.answer()
    hub = svc.hub(session.hub_id)
    assert hub is not None
    await query.edit_message_text(svc.texts.get(
        "sessions_admin.cancel_done", lang, hub=hub.name, when=short_when(session, hub, lang), **_told(svc, told, lang)
    ))


async def _step_keep(svc: Services, query: CallbackQuery, session: Session, lang: str, _: Any) -> None:
    awaited = await svc.store.awaited_input(query.from_user.id)
    if awaited is not None and awaited[0] in (REASON_INPUT, CONFIRM_INPUT):
        await svc.store.clear_input(query.from_user.id)
    await query.answer()
    await query.edit_message_text(svc.texts.get("sessions_admin.cancel_kept", lang))


_STEPS = {"p": _step_pick, "r": _step_no_reason, "y": _step_confirm, "k": _step_keep}


async def _confirmation(svc: Services, user_id: int, session: Session, reason: str, lang: str) -> tuple[str, Any]:
    """Remember the reason and ask for the final yes; says how many people will be told."""
    await svc.store.expect_input(user_id, CONFIRM_INPUT, {"session": session.id, "reason": reason}, svc.clock.now())
    tally = (await svc.store.session_tallies([session.id]))[session.id]
    hub = svc.hub(session.hub_id)
    assert hub is not None
    text = svc.texts.get("sessions_admin.cancel_confirm", lang, hub=hub.name, when=short_when(session, hub, lang),
                         reason=reason or svc.texts.get("sessions_admin.no_reason", lang),
                         **_told(svc, tally.told_if_cancelled(), lang))
    return text, keyboard([
        (svc.texts.get("sessions_admin.button_cancel_it", lang), f"{PREFIX}:y:{session.id}"),
        (svc.texts.get("sessions_admin.button_keep", lang), f"{PREFIX}:k:{session.id}"),
    ])


def _told(svc: Services, told: Headcount, lang: str) -> dict[str, str]:
    """The one wording of who a cancellation tells, for the question and the answer alike."""
    return {"households": svc.texts.plural("counts.households", lang, told.households),
            "people": svc.texts.plural("counts.people", lang, told.people)}


async def on_reason(update: Update, context: ContextTypes.DEFAULT_TYPE, data: dict[str, Any]) -> None:
    svc, message, user = services(context), update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return
    lang = await reader_language(svc, update)
    session = await svc.store.session(int(data.get("session", 0)))
    if session is None or not svc.coordinates(user.id, session.hub_id) or not session.open_at(svc.clock.now()):
        await svc.store.clear_input(user.id)
        await message.reply_text(svc.texts.get("sessions_admin.cancel_closed", lang))
        return
    reason = " ".join(message.text.split())
    if not reason or len(reason) > MAX_REASON:
        await message.reply_text(svc.texts.get("sessions_admin.reason_too_long", lang,
                                               max=svc.texts.plural("counts.characters", lang, MAX_REASON)))
        return
    text, markup = await _confirmation(svc, user.id, session, reason, lang)
    await message.reply_text(text, reply_markup=markup)


async def on_text_while_confirming(update: Update, context: ContextTypes.DEFAULT_TYPE, _: dict[str, Any]) -> None:
    svc, message = services(context), update.effective_message
    if message is not None:
        await message.reply_text(svc.texts.get("sessions_admin.tap_button", await reader_language(svc, update)))


