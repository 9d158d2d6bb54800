"""Coordinators' /volunteers: the hub's Activator volunteers, their pathway steps ticked with one tap, and hours.

Buttons: `vp:l:<hub>` (the list), `vp:m:<hub>:<member>` (one volunteer's steps), `vp:s:<hub>:<member>:<step>`
(tick or untick a step). Hubs travel by position (handlers.coordinator.access). Every tap is checked again: the
tapper coordinates the hub, the member is a volunteer of it, the step is one the hub configured.
"""

from __future__ import annotations

from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.config import HubSettings
from bot.domain.volunteers import hours_text
from bot.messages.callbacks import parse_callback, parse_int
from bot.messages.keyboards import keyboard
from bot.reports.weekly_summary import term_period
from bot.services import Services, services
from handlers.common import reader_language, refuse
from handlers.coordinator.access import hub_at, hub_index, hubs_or_refuse

COORDINATOR_COMMANDS = ("volunteers",)
PREFIX = "vp"
MAX_LISTED = 30


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CommandHandler("volunteers", volunteers_command), group)
    application.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:"), group)


async def volunteers_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, message = services(context), update.effective_message
    hubs = await hubs_or_refuse(svc, update)
    if hubs is None or message is None:
        return
    lang = await reader_language(svc, update)
    for hub in hubs:
        text, markup = await _volunteer_list(svc, hub, lang)
        await message.reply_text(text, reply_markup=markup)


async def _volunteer_list(svc: Services, hub: HubSettings, lang: str) -> tuple[str, InlineKeyboardMarkup | None]:
    t = svc.texts
    volunteers = (await svc.store.volunteers_of_hub(hub.id))[:MAX_LISTED]
    if not volunteers:
        return t.get("volunteer.list_none", lang, hub=hub.name), None
    steps = await svc.store.steps_of(hub.id, [v.id for v in volunteers])
    names = {step.id: step.name for step in hub.volunteers.steps}
    now = svc.clock.now()
    term = term_period(hub, now.astimezone(hub.tz).date())
    minutes: dict[int, int] = {}
    if term is not None:
        window = term[1].window(hub, now)
        minutes = await svc.store.volunteer_minutes(hub.id, window.start, window.end)
    lines = [t.get("volunteer.list_title", lang, hub=hub.name, count=len(volunteers))]
    for volunteer in volunteers:
        done = [names[step.id] for step in hub.volunteers.steps if step.id in steps[volunteer.id]]
        lines.append(t.get("volunteer.list_line", lang, name=volunteer.first_name,
                           steps=", ".join(done) or t.get("volunteer.no_steps", lang),
                           hours=hours_text(minutes.get(volunteer.id, 0))))
    if term is not None:
        lines.append(t.get("volunteer.hours_note", lang, term=term[0]))
    if not hub.volunteers.steps:
        return "\n".join(lines), None
    lines.append(t.get("volunteer.list_hint", lang))
    position = hub_index(svc, hub)
    rows = [[(v.first_name, f"{PREFIX}:m:{position}:{v.id}")] for v in volunteers]
    return "\n".join(lines), keyboard(*rows)


async def _steps_card(svc: Services, hub: HubSettings, member_id: int, name: str,
                      lang: str) -> tuple[str, InlineKeyboardMarkup]:
    t, position = svc.texts, hub_index(svc, hub)
    done = (await svc.store.steps_of(hub.id, [member_id]))[member_id]
    rows = [[(t.get("volunteer.step_done" if step.id in done else "volunteer.step_not_done", lang, step=step.name),
              f"{PREFIX}:s:{position}:{member_id}:{step.id}")] for step in hub.volunteers.steps]
    rows.append([(t.get("volunteer.button_back", lang), f"{PREFIX}:l:{position}")])
    return t.get("volunteer.steps_title", lang, name=name, hub=hub.name), keyboard(*rows)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, query = services(context), update.callback_query
    if query is None:
        return
    lang = await reader_language(svc, update)
    parts = (parse_callback(query.data, PREFIX, 1 + 1) or parse_callback(query.data, PREFIX, 3)
             or parse_callback(query.data, PREFIX, 4))
    hub = hub_at(svc, query.from_user.id, parts[1]) if parts else None
    if parts is None or hub is None:
        await refuse(svc, query, lang=lang)
        return
    action = (parts[0], len(parts))
    if action == ("l", 2):
        await query.answer()
        text, markup = await _volunteer_list(svc, hub, lang)
        await _edit(query, text, markup)
        return
    member_id = parse_int(parts[2]) if len(parts) > 2 else None
    member = await svc.store.member_by_id(member_id) if member_id else None
    if member is None or not await svc.store.is_volunteer_of(member.id, hub.id) or action not in (("m", 3), ("s", 4)):
        await refuse(svc, query, lang=lang)
        return
    if action == ("s", 4):
        if parts[3] not in {step.id for step in hub.volunteers.steps}:
            await refuse(svc, query, lang=lang)
            return
        ticked = await svc.store.toggle_step(member.id, hub.id, parts[3], query.from_user.id, svc.clock.now())
        await query.answer(svc.texts.get("volunteer.step_ticked" if ticked else "volunteer.step_unticked", lang))
    else:
        await query.answer()
    text, markup = await _steps_card(svc, hub, member.id, member.first_name, lang)
    await _edit(query, text, markup)


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
