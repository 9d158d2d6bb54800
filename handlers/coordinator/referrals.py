"""Coordinators' /referral <organisation>: a referral link for a surgery's link worker or a mental health team.

Only the organisation's name is recorded, never the referrer's. The coordinator gets two links: the people's
link (`/start ref_<code>`), which the referrer gives to the people they refer, and the referrer's own link
(`/start rfw_<code>`): a referrer who opens it gets one short message when someone they referred first comes to
a session, and only when that person agreed at joining. A coordinator of several hubs picks the hub with a tap
(the organisation's name waits in awaiting_input meanwhile, so a restart loses nothing).
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.config import HubSettings
from bot.messages.callbacks import parse_callback
from bot.messages.keyboards import grid
from bot.services import Services, services
from handlers.common import reader_language, refuse
from handlers.coordinator.access import hub_at, hub_index, hubs_or_refuse
from handlers.referral import PEOPLE_PREFIX, REFERRER_PREFIX
from handlers.text_input import register_text_input

COORDINATOR_COMMANDS = ("referral",)
PREFIX = "rl"
PICK_INPUT = "referral.pick_hub"
MAX_ORGANISATION = 80


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CommandHandler("referral", referral_command), group)
    application.add_handler(CallbackQueryHandler(on_hub_button, pattern=rf"^{PREFIX}:"), group)
    register_text_input(application, PICK_INPUT, on_text_while_picking, screened=False)


def clean_organisation(text: str) -> str | None:
    """One line of printable text, 2 to 80 characters; None when it is not a usable name."""
    name = " ".join(text.split())
    if not 2 <= len(name) <= MAX_ORGANISATION or any(not ch.isprintable() for ch in name):
        return None
    return name


async def referral_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, message, user = services(context), update.effective_message, update.effective_user
    hubs = await hubs_or_refuse(svc, update)
    if hubs is None or message is None or user is None:
        return
    lang = await reader_language(svc, update)
    organisation = clean_organisation(" ".join(context.args or []))
    if organisation is None:
        await message.reply_text(svc.texts.get("referral.usage", lang, max=MAX_ORGANISATION))
        return
    if len(hubs) == 1:
        await message.reply_text(await _make_link(svc, hubs[0], organisation, user.id, lang))
        return
    await svc.store.expect_input(user.id, PICK_INPUT, {"organisation": organisation}, svc.clock.now())
    items = [(hub.name, f"{PREFIX}:h:{hub_index(svc, hub)}") for hub in hubs]
    await message.reply_text(svc.texts.get("referral.choose_hub", lang, organisation=organisation),
                             reply_markup=grid(items, per_row=1))


async def on_hub_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, query = services(context), update.callback_query
    if query is None:
        return
    lang = await reader_language(svc, update)
    parts = parse_callback(query.data, PREFIX, 2)
    hub = hub_at(svc, query.from_user.id, parts[1]) if parts and parts[0] == "h" else None
    if hub is None:
        await refuse(svc, query, lang=lang)
        return
    pending = await svc.store.take_input(query.from_user.id, PICK_INPUT)
    organisation = clean_organisation(str(pending.get("organisation", ""))) if pending else None
    if organisation is None:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    await query.answer()
    await query.edit_message_text(await _make_link(svc, hub, organisation, query.from_user.id, lang))


async def _make_link(svc: Services, hub: HubSettings, organisation: str, coordinator_id: int, lang: str) -> str:
    link = await svc.store.create_referral_link(hub.id, organisation, coordinator_id, svc.clock.now())
    base = f"https://t.me/{svc.bot.username}?start="
    return svc.texts.get("referral.made", lang, organisation=organisation, hub=hub.name,
                         people_link=f"{base}{PEOPLE_PREFIX}{link.code}",
                         referrer_link=f"{base}{REFERRER_PREFIX}{link.referrer_code}")


async def on_text_while_picking(update: Update, context: ContextTypes.DEFAULT_TYPE, _: dict[str, Any]) -> None:
    svc, message = services(context), update.effective_message
    if message is not None:
        await message.reply_text(svc.texts.get("common.use_buttons", await reader_language(svc, update)))
