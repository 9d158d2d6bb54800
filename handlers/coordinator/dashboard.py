"""/dashboard: coordinators and admins get the hub dashboard (a Mini App button) and a desktop sign-in link.

The Mini App button (web_app) opens the dashboard inside Telegram, which signs who opened it (initData). The
link is for a computer's browser: it works once, for ten minutes (bot.dashboard.auth). Anyone else gets the
same polite refusal as the other coordinators' commands, and no link.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update, WebAppInfo
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.dashboard.links import new_signin_link
from bot.services import services
from handlers.common import reader_language
from handlers.coordinator.access import hubs_or_refuse

COORDINATOR_COMMANDS = ("dashboard",)


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CommandHandler("dashboard", dashboard_command, filters=filters.ChatType.PRIVATE), group)


async def dashboard_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    hubs = await hubs_or_refuse(svc, update)
    user, chat = update.effective_user, update.effective_chat
    if hubs is None or user is None or chat is None:
        return
    lang = await reader_language(svc, update)
    settings = svc.settings.dashboard
    if not settings.enabled:
        await chat.send_message(svc.texts.get("dashboard.chat_off", lang))
        return
    link = await new_signin_link(svc, user.id, lang)
    rows = []
    if settings.public_url.startswith("https://"):  # Telegram opens Mini Apps over HTTPS only
        hub = f"?hub={hubs[0].id}" if len(hubs) == 1 else ""
        rows.append([InlineKeyboardButton(svc.texts.get("dashboard.button_open", lang),
                                          web_app=WebAppInfo(f"{settings.public_url}/dashboard/app{hub}"))])
        rows.append([InlineKeyboardButton(svc.texts.get("dashboard.button_browser", lang), url=link)])
        lines = [svc.texts.get("dashboard.chat_intro", lang), svc.texts.get("dashboard.chat_link", lang)]
    else:  # a dashboard on this computer only (http://127.0.0.1): Telegram refuses such an address on a button
        lines = [svc.texts.get("dashboard.chat_intro", lang), svc.texts.get("dashboard.chat_link", lang), link]
    await chat.send_message("\n".join(lines), reply_markup=InlineKeyboardMarkup(rows) if rows else None,
                            link_preview_options=LinkPreviewOptions(is_disabled=True))
