"""A member's idea in their own words ("💡 I have an idea", or /idea): it goes to the hub's coordinators.

The idea is read for distress first, like any free text: a distressed "idea" is answered at once with the help
numbers and a way to a person, and is not passed on as an idea. An idea is kept (and owed to the coordinators
through the ledger) before the member is thanked; which hub it is for waits in awaiting_input, not in memory.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.config import HubSettings
from bot.domain.codesign import IDEA_PREFIX, MAX_IDEA
from bot.domain.distress import reads_as_distress
from bot.jobs.codesign import idea_notices
from bot.messages.callbacks import parse_callback, parse_int
from bot.messages.keyboards import keyboard
from bot.services import Services, services
from handlers.common import edit_and_answer, reader_language, refuse, reply_tap_buttons
from handlers.text_input import answer_distress, register_text_input

COMMANDS = ("idea",)
PICK_INPUT = "idea.pick_hub"
TEXT_INPUT = "idea.text"


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CommandHandler("idea", idea_command), group)
    application.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{IDEA_PREFIX}:"), group)
    # Not screened by route_text: this consumer reads the text for distress itself, so that it can also end the
    # question and say the words were not passed on.
    register_text_input(application, TEXT_INPUT, on_text, screened=False)
    register_text_input(application, PICK_INPUT, reply_tap_buttons())


async def idea_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _start(services(context), update)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, svc = update.callback_query, services(context)
    if query is None:
        return
    lang = await reader_language(svc, update)
    parts = parse_callback(query.data, IDEA_PREFIX, 2)
    index = parse_int(parts[1], low=0, high=99) if parts else None
    if parts is None or index is None or parts[0] not in ("new", "h", "x"):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if parts[0] == "new":
        await query.answer()
        await _start(svc, update)
    elif parts[0] == "h":
        await _picked(svc, update, index, lang)
    else:
        awaited = await svc.store.awaited_input(query.from_user.id)
        if awaited is not None and awaited[0] in (PICK_INPUT, TEXT_INPUT):
            await svc.store.clear_input(query.from_user.id)
        await edit_and_answer(query, svc.texts.get("codesign.idea_dropped", lang))


async def _start(svc: Services, update: Update) -> None:
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    member, lang = await svc.person(user)
    if member is None:
        await message.reply_text(svc.texts.get("codesign.idea_not_member", lang))
        return
    joined = set(await svc.store.hub_ids_of_member(member.id))
    hubs = [hub for hub in svc.settings.hubs if hub.id in joined]  # in the configuration's order
    taking = [hub for hub in hubs if hub.codesign.ideas]
    if not taking:
        key, hub_name = ("codesign.idea_off", hubs[0].name) if hubs else ("codesign.idea_not_member", "")
        await message.reply_text(svc.texts.get(key, lang, hub=hub_name))
        return
    if len(taking) == 1:
        await _ask(svc, update, taking[0], lang)
        return
    await svc.store.expect_input(user.id, PICK_INPUT, {"hubs": [hub.id for hub in taking]}, svc.clock.now())
    rows = [[(hub.name, f"{IDEA_PREFIX}:h:{index}")] for index, hub in enumerate(taking)]
    await message.reply_text(svc.texts.get("codesign.idea_pick_hub", lang), reply_markup=keyboard(*rows))


async def _ask(svc: Services, update: Update, hub: HubSettings, lang: str) -> None:
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    await svc.store.expect_input(user.id, TEXT_INPUT, {"hub": hub.id}, svc.clock.now())
    cancel = keyboard([(svc.texts.get("codesign.button_cancel", lang), f"{IDEA_PREFIX}:x:0")])
    await message.reply_text(svc.texts.get("codesign.idea_ask", lang, hub=hub.name), reply_markup=cancel)


async def _picked(svc: Services, update: Update, index: int, lang: str) -> None:
    query = update.callback_query
    assert query is not None
    member, _ = await svc.person(query.from_user)
    pending = await svc.store.take_input(query.from_user.id, PICK_INPUT)
    hub_ids = pending.get("hubs", []) if pending else []
    hub = svc.hub(str(hub_ids[index])) if index < len(hub_ids) else None
    if hub is None or member is None or not await svc.store.is_member_of(member.id, hub.id):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    await query.answer()
    await _ask(svc, update, hub, lang)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, data: dict[str, Any]) -> None:
    """The idea itself: distress first; then checked, kept and owed to the coordinators; then thanks."""
    svc, message, user = services(context), update.effective_message, update.effective_user
    if message is None or user is None or message.text is None:
        return
    member, lang = await svc.person(user)
    text = message.text.strip()
    if reads_as_distress(text):
        await svc.store.clear_input(user.id)
        await answer_distress(svc, update)
        await message.reply_text(svc.texts.get("codesign.idea_after_distress", lang))
        return
    hub = svc.hub(str(data.get("hub", "")))
    if member is None or hub is None or not hub.codesign.ideas or not await svc.store.is_member_of(member.id, hub.id):
        await svc.store.clear_input(user.id)
        await refuse(svc, update, "common.old_button", lang=lang)
        return
    if not text or len(text) > MAX_IDEA:
        await message.reply_text(svc.texts.get("codesign.idea_long", lang, max=MAX_IDEA))
        return
    now = svc.clock.now()
    await svc.store.create_idea(hub.id, member.id, text, now, idea_notices(hub, member.id, now))
    await svc.store.clear_input(user.id)
    svc.dispatcher.kick()
    await message.reply_text(svc.texts.get("codesign.idea_thanks", lang, hub=hub.name))
