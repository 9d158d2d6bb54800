"""Coordinators' /announce: pick the hub (if several), type a short message, see the preview, confirm.

The message is stored once and owed to every member of the hub as rows in the delivery ledger, so it goes
out through the same paced, restart-safe path as reminders. Which hub, and the text, wait in awaiting_input
(never in callback data), and the hub is checked against the person again when they confirm.
"""

from __future__ import annotations

from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.config import HubSettings
from bot.jobs.notices import ANNOUNCEMENT_KIND as KIND
from bot.jobs.notices import ANNOUNCEMENT_LIFETIME as LIFETIME
from bot.messages.callbacks import parse_callback, parse_int
from bot.messages.keyboards import keyboard
from bot.services import Services, services
from handlers.common import reader_language, refuse, reply_tap_buttons
from handlers.coordinator.access import hubs_or_refuse
from handlers.text_input import register_text_input

COORDINATOR_COMMANDS = ("announce",)
PREFIX = "an"
PICK_INPUT = "announce.pick_hub"
TEXT_INPUT = "announce.text"
CONFIRM_INPUT = "announce.confirm"
MAX_TEXT = 500


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CommandHandler("announce", announce_command), group)
    application.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:"), group)
    register_text_input(application, TEXT_INPUT, on_text, screened=False)
    register_text_input(application, PICK_INPUT, reply_tap_buttons("sessions_admin.tap_button"), screened=False)
    register_text_input(application, CONFIRM_INPUT, reply_tap_buttons("sessions_admin.tap_button"), screened=False)


async def announce_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, message, user = services(context), update.effective_message, update.effective_user
    hubs = await hubs_or_refuse(svc, update)
    if hubs is None or message is None or user is None:
        return
    lang = await reader_language(svc, update)
    if len(hubs) == 1:
        text, markup = await _ask_for_text(svc, user.id, hubs[0], lang)
        await message.reply_text(text, reply_markup=markup)
        return
    await svc.store.expect_input(user.id, PICK_INPUT, {"hubs": [hub.id for hub in hubs]}, svc.clock.now())
    rows = [[(hub.name, f"{PREFIX}:h:{index}")] for index, hub in enumerate(hubs)]
    await message.reply_text(svc.texts.get("announce.pick_hub", lang), reply_markup=keyboard(*rows))


async def _ask_for_text(svc: Services, user_id: int, hub: HubSettings, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    await svc.store.expect_input(user_id, TEXT_INPUT, {"hub": hub.id}, svc.clock.now())
    text = svc.texts.get("announce.ask_text", lang, hub=hub.name,
                         max=svc.texts.plural("counts.characters", lang, MAX_TEXT))
    return text, keyboard([(svc.texts.get("announce.button_cancel", lang), f"{PREFIX}:x:0")])


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, data: dict[str, Any]) -> None:
    """The typed message: checked, kept, shown as members will see it, then Send / Change / Cancel."""
    svc, message, user = services(context), update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return
    lang = await reader_language(svc, update)
    hub = svc.hub(str(data.get("hub", "")))
    if hub is None or not svc.coordinates(user.id, hub.id):
        await svc.store.clear_input(user.id)
        await refuse(svc, update, lang=lang)
        return
    text = message.text.strip()
    if not text or len(text) > MAX_TEXT:
        await message.reply_text(svc.texts.get(
            "announce.too_long", lang, length=svc.texts.plural("counts.characters", lang, len(text)),
            max=svc.texts.plural("counts.characters", lang, MAX_TEXT)))
        return
    await svc.store.expect_input(user.id, CONFIRM_INPUT, {"hub": hub.id, "text": text}, svc.clock.now())
    count = await svc.store.hub_member_count(hub.id)
    await message.reply_text(svc.texts.get("announce.preview", lang))
    await message.reply_text(svc.texts.get("announce.message", lang, hub=hub.name, text=text))
    members = svc.texts.plural("counts.members", lang, count)
    text = svc.texts.get("announce.confirm", lang, members=members, hub=hub.name)
    await message.reply_text(text, reply_markup=keyboard([
        (svc.texts.get("announce.button_send", lang), f"{PREFIX}:y:0"),
        (svc.texts.get("announce.button_change", lang), f"{PREFIX}:e:0"),
        (svc.texts.get("announce.button_cancel", lang), f"{PREFIX}:x:0"),
    ]))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    lang = await reader_language(svc, update)
    parts = parse_callback(query.data, PREFIX, 2)
    index = parse_int(parts[1], low=0, high=99) if parts else None
    if parts is None or index is None or parts[0] not in ("h", "y", "e", "x"):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if not svc.hubs_coordinated_by(query.from_user.id):
        await refuse(svc, query, "common.not_allowed", lang=lang)
        return
    step = parts[0]
    if step == "h":
        await _picked(svc, query, index, lang)
    elif step == "y":
        await _send(svc, query, lang, context)
    elif step == "e":
        await _change(svc, query, lang)
    else:
        await _drop(svc, query, lang)


async def _picked(svc: Services, query: CallbackQuery, index: int, lang: str) -> None:
    pending = await svc.store.take_input(query.from_user.id, PICK_INPUT)
    hub_ids = pending.get("hubs", []) if pending else []
    hub = svc.hub(hub_ids[index]) if index < len(hub_ids) else None
    if hub is None or not svc.coordinates(query.from_user.id, hub.id):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    await query.answer()
    text, markup = await _ask_for_text(svc, query.from_user.id, hub, lang)
    await query.edit_message_text(text, reply_markup=markup)


async def _send(svc: Services, query: CallbackQuery, lang: str, context: ContextTypes.DEFAULT_TYPE) -> None:
    pending = await svc.store.take_input(query.from_user.id, CONFIRM_INPUT)
    hub = svc.hub(str(pending.get("hub", ""))) if pending else None
    if pending is None or hub is None:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if not svc.coordinates(query.from_user.id, hub.id):
        await refuse(svc, query, "common.not_allowed", lang=lang)
        return
    now = svc.clock.now()
    announcement = await svc.store.create_announcement(
        hub.id, str(pending["text"]), query.from_user.id, now, kind=KIND, expires_at=now + LIFETIME
    )
    services(context).dispatcher.kick()
    await query.answer()
    await query.edit_message_text(svc.texts.get(
        "announce.sent", lang, members=svc.texts.plural("counts.members", lang, announcement.recipients), hub=hub.name))


async def _change(svc: Services, query: CallbackQuery, lang: str) -> None:
    pending = await svc.store.take_input(query.from_user.id, CONFIRM_INPUT)
    hub = svc.hub(str(pending.get("hub", ""))) if pending else None
    if hub is None or not svc.coordinates(query.from_user.id, hub.id):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    await query.answer()
    text, markup = await _ask_for_text(svc, query.from_user.id, hub, lang)
    await query.edit_message_text(text, reply_markup=markup)


async def _drop(svc: Services, query: CallbackQuery, lang: str) -> None:
    awaited = await svc.store.awaited_input(query.from_user.id)
    if awaited is not None and awaited[0] in (PICK_INPUT, TEXT_INPUT, CONFIRM_INPUT):
        await svc.store.clear_input(query.from_user.id)
    await query.answer()
    await query.edit_message_text(svc.texts.get("announce.dropped", lang))


