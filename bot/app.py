"""build_application(settings): the one way the bot is assembled, for `run`, the demo and the tests."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults, TypeHandler

from bot.config import Settings
from bot.delivery.dispatcher import Dispatcher
from bot.domain.clock import Clock, SystemClock
from bot.jobs import reminders, retention, timetable
from bot.messages.catalog import Catalog
from bot.services import SERVICES_KEY, Services, services
from bot.transport.http import gather_updates_while_busy, lean_or_default_request
from handlers import activity, checkin, common, join, measures, rights, rsvp, safeguarding
from handlers.coordinator import announce
from handlers.coordinator import attendance as attendance_register
from handlers.coordinator import sessions as sessions_admin
from handlers.coordinator import summary as coordinator_summary
from storage import Store

log = logging.getLogger(__name__)
GATHER_WHEN_BUSY = 2  # updates in hand from which getUpdates waits a moment, to bring several at once

FEATURES = (activity, timetable, join, rights, retention, reminders, rsvp, sessions_admin, announce,
            checkin, measures, safeguarding, attendance_register, coordinator_summary, common)
"""Handler modules, in the order their handlers are tried; the fallbacks come after all of them."""


def build_application(settings: Settings, *, clock: Clock | None = None, token: str | None = None,
                      rate_limiter: bool = True) -> Application[Any, Any, Any, Any, Any, Any]:
    """A ready Application with every handler, the error handler and the services in bot_data."""
    token = token or settings.telegram.token
    if not token:
        raise ValueError("no Telegram token: set telegram.token or IMM_TELEGRAM__TOKEN")
    tg = settings.telegram
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(tg.api_base_url)
        .base_file_url(tg.api_file_url)
        .defaults(Defaults(tzinfo=ZoneInfo("Europe/London")))
        .concurrent_updates(tg.concurrent_updates)
    )
    updates_request = None
    if tg.http_client == "lean":
        updates_request = lean_or_default_request(2)
        builder = builder.request(lean_or_default_request(tg.connection_pool_size, pool_timeout=30))
        builder = builder.get_updates_request(updates_request)
    else:
        builder = builder.connection_pool_size(tg.connection_pool_size).get_updates_connection_pool_size(2)
        builder = builder.pool_timeout(30)
    if rate_limiter:
        # Retries ride out a 429; the dispatcher's own pacing keeps bulk sends under 30 a second. No overall
        # cap: AIORateLimiter's would hold every edit (a reply to a tap) to a shared 30 a second as well, so
        # taps would queue behind each other (docs/benchmarks.md). The 20-a-minute cap per group stays.
        builder = builder.rate_limiter(AIORateLimiter(overall_max_rate=0, max_retries=3))
    application = builder.build()
    if updates_request is not None:
        processor = application.update_processor
        gather_updates_while_busy(updates_request, lambda: processor.current_concurrent_updates >= GATHER_WHEN_BUSY)
    application.bot_data[SERVICES_KEY] = Services(
        settings=settings,
        store=Store(settings.storage.path),
        texts=Catalog.load(),
        clock=clock or SystemClock(),
        dispatcher=Dispatcher(per_second=tg.messages_per_second, in_flight=tg.bulk_sends_in_flight),
        application=application,
    )
    application.add_handler(TypeHandler(Update, note_person_wrote), group=-1)
    for feature in FEATURES:
        feature.register(application)
    common.register_fallbacks(application)
    application.add_error_handler(on_error)
    return application


async def note_person_wrote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Someone who blocked the bot and writes again can be reached again."""
    user = update.effective_user
    if user is not None and not user.is_bot:
        svc = services(context)
        if await svc.store.mark_reachable(user.id, svc.clock.now()):
            log.info("user %s is reachable again", user.id)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log, tell the person something went wrong if there is one, and keep the bot alive."""
    log.error("error while handling %s", type(update).__name__, exc_info=context.error)
    if not isinstance(update, Update):
        return
    svc = services(context)
    user = update.effective_user
    # No database lookup here: the database may be what failed.
    text = svc.texts.get("common.something_wrong", svc.texts.best_language(user.language_code if user else None))
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text)
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await context.bot.send_message(update.effective_chat.id, text)
    except Exception:  # the error handler must never raise
        log.warning("could not tell the user about the error", exc_info=True)
