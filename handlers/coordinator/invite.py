"""Coordinators' /invite: the hub's invite link and its QR code, a new link on request, and join approvals.

The link carries the hub's current invite code (t.me/<bot>?start=<code>); making a new one retires the old
code at once, so an old poster or a forwarded link then gets the same kind refusal as any unknown link.
A hub with `approval = true` sends each new member's request to its coordinators with Accept / Decline
(`jr:<request>:y|n`); callback data is re-checked: only a coordinator of that request's hub may decide,
and only once.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InputFile, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.config import HubSettings
from bot.domain.invites import JoinRequest, invite_link, new_invite_code
from bot.messages.callbacks import parse_callback, parse_int
from bot.messages.keyboards import keyboard
from bot.messages.qr import qr_png
from bot.reports.charts import off_loop
from bot.services import Services, services
from handlers.common import reader_language, refuse
from handlers.coordinator.access import choose_hub, hub_at, hub_index, hubs_or_refuse

log = logging.getLogger(__name__)

COORDINATOR_COMMANDS = ("invite",)
INVITE_PREFIX = "inv"
REQUEST_PREFIX = "jr"


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("invite", invite_command, filters=private), group)
    application.add_handler(CallbackQueryHandler(on_invite_button, pattern=rf"^{INVITE_PREFIX}:"), group)
    application.add_handler(CallbackQueryHandler(on_request_button, pattern=rf"^{REQUEST_PREFIX}:"), group)


async def invite_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    hubs = await hubs_or_refuse(svc, update)
    if hubs is None or update.effective_chat is None:
        return
    lang = await reader_language(svc, update)
    if len(hubs) == 1:
        await send_invite(svc, update.effective_chat.id, hubs[0], lang)
        return
    text, markup = choose_hub(svc, hubs, INVITE_PREFIX)
    await update.effective_chat.send_message(text, reply_markup=markup)


async def on_invite_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`inv:<hub>` (chosen), `inv:<hub>:new` (asks), `inv:<hub>:yes` (makes a new code), `inv:<hub>:keep`."""
    svc, query = services(context), update.callback_query
    if query is None:
        return
    parts = parse_callback(query.data, INVITE_PREFIX, 1) or parse_callback(query.data, INVITE_PREFIX, 2)
    hub = hub_at(svc, query.from_user.id, parts[0]) if parts else None
    action = parts[1] if parts and len(parts) == 2 else "show"
    if hub is None or action not in ("show", "new", "yes", "keep"):
        await refuse(svc, query)
        return
    lang = (await svc.person(query.from_user))[1]
    t, index = svc.texts, hub_index(svc, hub)
    await query.answer()
    if action == "show":
        await query.edit_message_text(f"✓ {hub.name}")
        await send_invite(svc, query.from_user.id, hub, lang)
    elif action == "new":
        markup = keyboard([(t.get("invite.rotate_yes", lang), f"{INVITE_PREFIX}:{index}:yes"),
                           (t.get("invite.rotate_no", lang), f"{INVITE_PREFIX}:{index}:keep")])
        await query.edit_message_reply_markup(None)
        await svc.bot.send_message(query.from_user.id, t.get("invite.rotate_question", lang, hub=hub.name),
                                   reply_markup=markup)
    elif action == "keep":
        await query.edit_message_text(t.get("invite.kept", lang, hub=hub.name))
    else:
        await svc.store.rotate_invite_code(hub.id, new_invite_code(), svc.clock.now())
        await query.edit_message_text(t.get("invite.rotated", lang, hub=hub.name))
        await send_invite(svc, query.from_user.id, hub, lang)


async def send_invite(svc: Services, chat_id: int, hub: HubSettings, lang: str) -> None:
    """The link (with a button for a new one), its QR code, then anyone still waiting for a coordinator's yes."""
    code = await svc.store.ensure_invite_code(hub.id, new_invite_code(), svc.clock.now())
    link = invite_link(svc.bot.username, code)
    t = svc.texts
    new = keyboard([(t.get("invite.new_link_button", lang), f"{INVITE_PREFIX}:{hub_index(svc, hub)}:new")])
    await svc.bot.send_message(chat_id, t.get("invite.link", lang, hub=hub.name, link=link), reply_markup=new)
    picture = await off_loop(qr_png, link)
    await svc.bot.send_photo(chat_id, InputFile(picture, filename="invite-qr.png"),
                             caption=t.get("invite.qr_caption", lang, hub=hub.name))
    for request in await svc.store.open_join_requests(hub.id):
        await send_request_card(svc, chat_id, request, lang)


async def send_request_card(svc: Services, chat_id: int, request: JoinRequest, lang: str | None = None) -> None:
    """One person waiting to join: their first name, role and who they bring, with Accept and Decline."""
    member, hub = await svc.store.member_by_id(request.member_id), svc.hub(request.hub_id)
    if member is None or hub is None:
        return
    lang = lang or await _language_of(svc, chat_id)
    t = svc.texts
    companions = await svc.store.companions_of(member.id)
    role = t.get(f"role.{member.role}", lang)
    if companions:
        text = t.get("invite.request", lang, name=member.first_name, hub=hub.name, role=role,
                     companions=", ".join(c.name for c in companions))
    else:
        text = t.get("invite.request_alone", lang, name=member.first_name, hub=hub.name, role=role)
    markup = keyboard([(t.get("invite.accept_button", lang), f"{REQUEST_PREFIX}:{request.id}:y"),
                       (t.get("invite.decline_button", lang), f"{REQUEST_PREFIX}:{request.id}:n")])
    try:
        await svc.bot.send_message(chat_id, text, reply_markup=markup)
    except (Forbidden, BadRequest) as exc:  # blocked, or never started the bot ("chat not found")
        log.info("join request %s: coordinator %s not reachable (%s); /invite shows it", request.id, chat_id,
                 type(exc).__name__)


async def on_request_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Accept or decline a request. Forged or repeated taps change nothing."""
    svc, query = services(context), update.callback_query
    if query is None:
        return
    parts = parse_callback(query.data, REQUEST_PREFIX, 2)
    request_id = parse_int(parts[0]) if parts else None
    request = await svc.store.join_request(request_id) if request_id is not None else None
    if parts is None or request is None or parts[1] not in ("y", "n") \
            or not svc.coordinates(query.from_user.id, request.hub_id) or svc.hub(request.hub_id) is None:
        await refuse(svc, query)
        return
    lang = (await svc.person(query.from_user))[1]
    decided = await svc.store.decide_join_request(request.id, parts[1] == "y", query.from_user.id, svc.clock.now())
    if decided is None:
        await refuse(svc, query, "invite.already_decided", lang=lang)
        return
    await query.answer()
    hub = svc.hub(request.hub_id)
    member = await svc.store.member_by_id(request.member_id)
    assert hub is not None
    name = member.first_name if member else "?"
    note = "invite.accepted_note" if decided.decision == "accepted" else "invite.declined_note"
    await query.edit_message_text(svc.texts.get(note, lang, name=name, hub=hub.name))
    if member is not None:
        await _tell_member(svc, member.telegram_user_id, member.id, member.chat_id, member.language, hub,
                           decided.decision == "accepted")


async def _tell_member(svc: Services, user_id: int, member_id: int, chat_id: int, lang: str, hub: HubSettings,
                       accepted: bool) -> None:
    if accepted:
        text = svc.texts.get("join.done", lang, hub=hub.name)
    else:
        text = svc.texts.get("invite.declined", lang, hub=hub.name)
        if not await svc.store.has_hub_or_request(member_id):
            # Declined and in no hub: keep nothing about them, as when someone declines contact while joining.
            await svc.store.forget_person(user_id, svc.clock.now())
            text += "\n" + svc.texts.get("invite.nothing_kept", lang)
    try:
        await svc.bot.send_message(chat_id, text)
    except (Forbidden, BadRequest):
        log.info("join request of member %s decided; they could not be told", member_id)  # the decision stands


async def _language_of(svc: Services, user_id: int) -> str:
    member = await svc.store.member_by_user(user_id)
    return member.language if member else svc.texts.best_language(svc.settings.default_language)


