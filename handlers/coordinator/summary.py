"""Coordinators on demand: /summary (this week so far, with the chart) and /export (CSV files for a range).

The weekly summary that arrives without asking is the job in bot.reports.weekly_summary, registered here too.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.config import HubSettings
from bot.messages.callbacks import parse_callback
from bot.messages.i18n import long_date
from bot.messages.keyboards import grid
from bot.reports.csv_export import export_files
from bot.reports.summary import summary_messages
from bot.reports.weekly_summary import Period, chart_png, gather, term_period, week_so_far
from bot.services import Services, services
from handlers.common import refuse
from handlers.coordinator.access import choose_hub, hub_at, hub_index, hubs_or_refuse

COORDINATOR_COMMANDS = ("summary", "export")
RANGES = ("term", "last4", "last12", "year")
_DAYS = {"last4": 28, "last12": 84, "year": 365}


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("summary", summary_command, filters=private), group)
    application.add_handler(CommandHandler("export", export_command, filters=private), group)
    application.add_handler(CallbackQueryHandler(on_summary_button, pattern=r"^sum:"), group)
    application.add_handler(CallbackQueryHandler(on_export_button, pattern=r"^exp:"), group)


async def summary_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    hubs = await hubs_or_refuse(svc, update)
    if hubs is None or update.effective_chat is None:
        return
    if len(hubs) == 1:
        await send_week_so_far(svc, update.effective_chat.id, hubs[0])
        return
    text, markup = choose_hub(svc, hubs, "sum")
    await update.effective_chat.send_message(text, reply_markup=markup)


async def on_summary_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, query = services(context), update.callback_query
    if query is None:
        return
    parts = parse_callback(query.data, "sum", 1)
    hub = hub_at(svc, query.from_user.id, parts[0]) if parts else None
    if hub is None:
        await refuse(svc, query)
        return
    await query.answer()
    await query.edit_message_text(f"✓ {hub.name}")
    await send_week_so_far(svc, query.from_user.id, hub)


async def send_week_so_far(svc: Services, chat_id: int, hub: HubSettings) -> None:
    now = svc.clock.now()
    figures = await gather(svc.store, hub, week_so_far(hub, now), now, so_far=True)
    for text in summary_messages(figures, svc.texts):
        await svc.bot.send_message(chat_id, text)
    if figures.term_weeks:  # a hub without terms has no weeks to chart
        caption = svc.texts.get("summary.chart_caption", "en", hub=hub.name)
        chart = await chart_png(figures, svc.texts)  # drawn in a child process: taps go on meanwhile
        await svc.bot.send_photo(chat_id, InputFile(chart, filename="chart.png"), caption=caption)


async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    hubs = await hubs_or_refuse(svc, update)
    if hubs is None or update.effective_chat is None:
        return
    if len(hubs) == 1:
        text, markup = _ranges(svc, hubs[0])
    else:
        text, markup = choose_hub(svc, hubs, "exp")
    await update.effective_chat.send_message(text, reply_markup=markup)


def _ranges(svc: Services, hub: HubSettings) -> tuple[str, InlineKeyboardMarkup]:
    index = hub_index(svc, hub)
    shown = [name for name in RANGES if name != "term" or term_period(hub, _today(svc, hub)) is not None]
    items = [(svc.texts.get(f"export.range_{name}", "en"), f"exp:{index}:{name}") for name in shown]
    return svc.texts.get("export.choose_range", "en"), grid(items, per_row=2)


async def on_export_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, query = services(context), update.callback_query
    if query is None:
        return
    parts = parse_callback(query.data, "exp", 2) or parse_callback(query.data, "exp", 1)
    hub = hub_at(svc, query.from_user.id, parts[0]) if parts else None
    if hub is None or parts is None:
        await refuse(svc, query)
        return
    if len(parts) == 1:
        await query.answer()
        text, markup = _ranges(svc, hub)
        await query.edit_message_text(text, reply_markup=markup)
        return
    period = export_period(svc, hub, parts[1])
    if period is None:
        await refuse(svc, query)
        return
    await query.answer()
    first, last = long_date(period.first), long_date(period.last)
    await query.edit_message_text(svc.texts.get("export.preparing", "en", hub=hub.name, first=first, last=last))
    now = svc.clock.now()
    files = await export_files(svc.store, hub, period.window(hub, now))
    caption = svc.texts.get("export.caption", "en", hub=hub.name, first=first, last=last)
    for number, (name, content) in enumerate(files.items()):
        await svc.bot.send_document(query.from_user.id, InputFile(content, filename=name),
                                    caption=caption if number == 0 else None)


def export_period(svc: Services, hub: HubSettings, name: str) -> Period | None:
    today = _today(svc, hub)
    if name == "term":
        term = term_period(hub, today)
        return term[1] if term else None
    days = _DAYS.get(name)
    return Period(today - timedelta(days=days - 1), today) if days else None


def _today(svc: Services, hub: HubSettings) -> date:
    return svc.clock.now().astimezone(hub.tz).date()

