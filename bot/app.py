"""build_application(settings): the one way the bot is assembled, for `run`, the demo and the tests.

This is the composition root: the only module that knows every handler module, every planner and renderer of
the dispatcher, and the order in which they are tried. Everything else receives what it needs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults

from bot.config import Settings
from bot.delivery.dispatcher import Dispatcher
from bot.domain.clock import Clock, SystemClock
from bot.domain.questionsets import load_question_sets
from bot.jobs import (
    checkins,
    codesign,
    measures,
    notices,
    referrals,
    reminders,
    retention,
    safeguarding,
    timetable,
    volunteers,
    weekly_summary,
)
from bot.messages.catalog import Catalog
from bot.services import SERVICES_KEY, Services, services
from bot.transport.client import AiohttpRequest, UpdateQueue, gather_updates_while_busy
from handlers import activity, checkin, common, idea, join, question, referral, rights, rsvp, text_input, volunteer
from handlers import measures as measure_steps
from handlers import safeguarding as talk_requests
from handlers.coordinator import announce, ask, attendance, dashboard, invite, sessions, summary
from handlers.coordinator import referrals as referral_links
from handlers.coordinator import volunteers as volunteer_pathway
from storage import Store

log = logging.getLogger(__name__)
AnyApp = Application[Any, Any, Any, Any, Any, Any]
GATHER_WHEN_BUSY = 2  # updates in hand from which getUpdates waits a moment, to bring several at once
HOLD_WHEN_SLOTS = 2  # at most this many times telegram.concurrent_updates in hand; polling waits while over half

# Order matters. PTB tries the groups in ascending order and, within a group, the handlers in the order they
# were added; in each group only the first handler that matches runs. A TypeHandler that matches every update
# must be alone in its group, or it would hide the features' handlers.
HANDLERS: tuple[tuple[int, Callable[[AnyApp, int], None]], ...] = (
    (-100, activity.register),           # log every update, by Telegram id only
    (-4, common.register_private_only),  # personal commands in a group: "write to me privately", nothing else
    (-3, text_input.register_command_ends_input),  # any command ends a question that waited for text
    (-2, rights.register_start),         # /start turns contact consent back on, before joining's /start
    (-1, activity.register_reachable),   # someone who blocked the bot and writes again is reachable again
    (0, join.register),
    (0, rights.register),
    (0, rsvp.register),
    (0, sessions.register),
    (0, announce.register),
    (0, checkin.register),
    (0, measure_steps.register),
    (0, talk_requests.register),
    (0, attendance.register),
    (0, summary.register),
    (0, invite.register),
    (0, dashboard.register),
    (0, ask.register),
    (0, question.register),
    (0, idea.register),
    (0, volunteer.register),
    (0, volunteer_pathway.register),
    (0, referral_links.register),
    (0, referral.register),
    (0, common.register),
    (0, common.register_fallbacks),      # last: only what no feature claimed
)
"""Every handler module, with its group, in the order its handlers are tried."""

COMMAND_MODULES = (join, rights, rsvp, sessions, announce, measure_steps, attendance, summary, invite, dashboard,
                   ask, idea, volunteer, volunteer_pathway, referral_links, common)
"""The modules whose COMMANDS (members) and COORDINATOR_COMMANDS Telegram lists, in this order."""

# What the bot sends on its own: planners put what has become due into the ledger (in this order, every
# dispatcher tick), renderers turn a ledger row of their kind into a message at send time.
PLANNERS = (
    ("timetable", timetable.planner),
    ("retention", lambda: retention.plan_retention),
    ("reminders", lambda: reminders.plan_reminders),
    ("checkins", lambda: checkins.plan_checkins),
    ("measures", lambda: measures.plan_measure_invites),
    ("safeguarding", lambda: safeguarding.plan_alert_repeats),
    ("weekly_summary", weekly_summary.planner),
    ("codesign", lambda: codesign.plan_closing),
    ("volunteers", lambda: volunteers.plan_volunteer_messages),
    ("referrals", lambda: referrals.plan_referral_notices),
)
RENDERERS = (
    (reminders.KIND, lambda: reminders.render_reminder),
    (notices.PLACE_KIND, lambda: notices.render_place),
    (notices.NOTICE_KIND, lambda: notices.render_cancellation),
    (notices.CHANGE_KIND, lambda: notices.render_change),
    (notices.ANNOUNCEMENT_KIND, lambda: notices.render_announcement),
    (checkins.KIND, lambda: checkins.render_checkin),
    (measures.INVITE_KIND, lambda: measures.render_invite),
    (safeguarding.ALERT_KIND, lambda: safeguarding.render_alert),
    (safeguarding.ESCALATION_KIND, lambda: safeguarding.render_alert),
    (weekly_summary.KIND, weekly_summary.renderer),
    (codesign.QUESTION_KIND, lambda: codesign.render_question),
    (codesign.RESULTS_KIND, lambda: codesign.render_results),
    (codesign.IDEA_KIND, lambda: codesign.render_idea),
    (volunteers.REMINDER_KIND, lambda: volunteers.render_volunteer_reminder),
    (volunteers.GAP_KIND, lambda: volunteers.render_gap_notice),
    (referrals.NOTICE_KIND, lambda: referrals.render_referral_notice),
)
"""(name or kind, factory): a factory, since some keep a small cache of their own per application."""
STARTUP = (timetable.sync_all_hubs, notices.settle_waitlists)
"""Run once the database is open, before polling: store the timetable's sessions, move waiting lists up."""


def dashboard_routes(app: Any, svc: Services) -> None:
    # Imported when the dashboard is on: aiohttp.web and Jinja2 weigh a few MB a polling bot need not carry.
    from bot.dashboard.web import add_routes

    add_routes(app, svc)


WEB_ROUTES = (dashboard_routes,)
"""Rooms on the bot's web server beside the webhook and /healthz, added when `[dashboard] enabled`."""


def build_application(settings: Settings, *, clock: Clock | None = None, token: str | None = None,
                      rate_limiter: bool = True) -> AnyApp:
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
    updates = UpdateQueue(hold_at=HOLD_WHEN_SLOTS * tg.concurrent_updates)
    builder = builder.update_queue(updates)
    updates_request = None
    if tg.http_client == "aiohttp":
        updates_request = AiohttpRequest(2)
        builder = builder.request(AiohttpRequest(tg.connection_pool_size, pool_timeout=30))
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
        gather_updates_while_busy(updates_request, lambda: updates.in_hand >= GATHER_WHEN_BUSY, room=updates.room)
    svc = Services(
        settings=settings,
        store=Store(settings.storage.path, erasure_key=settings.privacy.erasure_key),
        texts=Catalog.load(),
        clock=clock or SystemClock(),
        dispatcher=Dispatcher(per_second=tg.messages_per_second, in_flight=tg.bulk_sends_in_flight),
        application=application,
        member_commands=tuple(name for module in COMMAND_MODULES for name in getattr(module, "COMMANDS", ())),
        coordinator_commands=tuple(
            name for module in COMMAND_MODULES for name in getattr(module, "COORDINATOR_COMMANDS", ())
        ),
    )
    application.bot_data[SERVICES_KEY] = svc
    # Read at assembly, so a broken or unreadable extra question set stops the bot with its name and reason.
    application.bot_data[measures.SETS_KEY] = load_question_sets(settings.wellbeing)
    for name, make_planner in PLANNERS:
        svc.dispatcher.register_planner(name, make_planner())
    for kind, make_renderer in RENDERERS:
        svc.dispatcher.register_renderer(kind, make_renderer())
    svc.startup_hooks.extend(STARTUP)
    svc.web_routes.extend(WEB_ROUTES)
    for group, register in HANDLERS:
        register(application, group)
    application.add_error_handler(on_error)
    return application


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
