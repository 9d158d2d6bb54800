"""Starting and stopping the assembled bot: storage, commands, polling and the delivery dispatcher."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, BotCommandScopeChat, MenuButtonDefault, MenuButtonWebApp, Update, WebAppInfo
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, ContextTypes

from bot.config import WebhookSettings
from bot.delivery.dispatcher import DispatchReport
from bot.services import services

if TYPE_CHECKING:
    from bot.transport.web import WebServer

log = logging.getLogger(__name__)
AnyApp = Application[Any, Any, Any, Any, Any, Any]
DISPATCH_JOB = "dispatch"
TICKS_KEY = "dispatch_ticks"  # bot_data: monotonic times the last dispatcher tick started and finished


async def open_services(application: AnyApp) -> None:
    """Open the database (migrating it), mirror the configured hubs, and recover after a crash."""
    svc = services(application)
    await svc.store.open()
    await svc.store.sync_hubs(svc.settings.hubs, svc.clock.now())
    released = await svc.store.release_interrupted_deliveries()
    if released:
        log.warning("%d message(s) were being sent when the bot stopped; sending again", released)
    for hook in svc.startup_hooks:
        await hook(svc)


async def dispatch_now(application: AnyApp) -> DispatchReport:
    """Plan and send everything due at the services' clock's now (the job runs this; tests call it)."""
    svc = services(application)
    return await svc.dispatcher.run_once(svc, application.bot)


async def _dispatch_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    ticks = context.application.bot_data.setdefault(TICKS_KEY, {})
    ticks["started"] = time.monotonic()
    try:
        report = await dispatch_now(context.application)
    except Exception:
        log.exception("dispatcher tick failed; the next tick tries again")
        return
    finally:
        ticks["finished"] = time.monotonic()
    if report.sent or report.failed or report.dropped:
        log.info("dispatch: %s", report)


def schedule_dispatcher(application: AnyApp, interval: float) -> None:
    assert application.job_queue is not None, "install python-telegram-bot[job-queue]"
    application.bot_data[TICKS_KEY] = {"scheduled": time.monotonic()}
    application.job_queue.run_repeating(
        _dispatch_tick,
        interval=interval,
        first=0.2,
        name=DISPATCH_JOB,
        job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
    services(application).dispatcher.wake_with(lambda: _kick(application))


def _kick(application: AnyApp) -> None:
    """Run the dispatcher soon (Dispatcher.kick: after queuing something that should go out at once)."""
    if application.job_queue is not None and application.running:
        application.job_queue.run_once(_dispatch_tick, when=0.05, name=f"{DISPATCH_JOB}-kick")


async def health(application: AnyApp) -> dict[str, bool]:
    """/healthz: the database answers a read, and the dispatcher is scheduled and has ticked lately (or is in
    the middle of a tick: a long fan-out is one tick)."""
    svc = services(application)
    ticks = application.bot_data.get(TICKS_KEY, {})
    jobs = application.job_queue.get_jobs_by_name(DISPATCH_JOB) if application.job_queue is not None else ()
    last = max(ticks.get("finished", 0.0), ticks.get("scheduled", 0.0))
    in_tick = ticks.get("started", 0.0) > ticks.get("finished", 0.0)
    recent = time.monotonic() - last < max(30.0, 3 * svc.settings.dispatch_interval_seconds)
    return {"database": await svc.store.reachable(),
            "dispatcher": bool(jobs) and application.running and (in_tick or recent)}


async def register_commands(application: AnyApp) -> None:
    """Tell Telegram our command list, in each language, and the extra ones for coordinators."""
    svc = services(application)
    member_commands, coordinator_commands = list(svc.member_commands), list(svc.coordinator_commands)

    def described(name: str) -> str:
        """`commands.<name>`, or a feature's own `<section>.command_<name>` (kept in its section)."""
        key = f"commands.{name}"
        if key in svc.texts.catalogs["en"]:
            return key
        return next((k for k in svc.texts.catalogs["en"] if k.endswith(f".command_{name}")), key)

    def listing(names: list[str], lang: str) -> list[BotCommand]:
        return [BotCommand(name, svc.texts.get(described(name), lang)) for name in names]

    bot = application.bot
    await bot.set_my_commands(listing(member_commands, "en"))
    for language in svc.texts.languages:
        if language.code != "en":
            await bot.set_my_commands(listing(member_commands, language.code), language_code=language.code)
    coordinators = {user for hub in svc.settings.hubs for user in hub.coordinators} | set(svc.settings.admins)
    for user_id in sorted(coordinators):
        try:
            await bot.set_my_commands(
                listing(member_commands + coordinator_commands, "en"), scope=BotCommandScopeChat(user_id)
            )
        except TelegramError as exc:  # a coordinator who has not opened the chat yet
            log.info("could not set coordinator commands for %s: %s", user_id, exc)
    await set_dashboard_menu_buttons(application, sorted(coordinators))


async def set_dashboard_menu_buttons(application: AnyApp, user_ids: list[int]) -> None:
    """The chat's menu button opens the dashboard (a Mini App), for coordinators and admins only: each of
    their private chats gets it (setChatMenuButton); everyone else keeps the default (the command list).

    The bot remembers whom it gave the button (storage: dashboard_menu_buttons), so someone taken out of the
    configuration since the last start, or everyone when the dashboard is switched off, gets the default button
    back (MenuButtonDefault) instead of keeping a button the dashboard would refuse.
    """
    svc = services(application)
    dashboard = svc.settings.dashboard
    # Telegram opens Mini Apps over HTTPS only: without it, nobody gets the button
    wanted = user_ids if dashboard.enabled and dashboard.public_url.startswith("https://") else []
    given = await svc.store.menu_button_holders()
    for user_id in wanted:
        member = await svc.store.member_by_user(user_id)
        text = svc.texts.get("dashboard.menu_button", member.language if member else "en")
        button = MenuButtonWebApp(text, WebAppInfo(f"{dashboard.public_url}/dashboard/app"))
        await svc.store.record_menu_button(user_id, svc.clock.now())  # before: a crash leaves no unknown button
        try:
            await application.bot.set_chat_menu_button(chat_id=user_id, menu_button=button)
        except TelegramError as exc:  # a coordinator who has not opened the chat yet
            log.info("could not set the dashboard menu button for %s: %s", user_id, exc)
    for user_id in sorted(given - set(wanted)):
        try:
            await application.bot.set_chat_menu_button(chat_id=user_id, menu_button=MenuButtonDefault())
        except (BadRequest, Forbidden) as exc:  # the chat is gone or blocks the bot: nothing to take back there
            log.info("could not reset the menu button for %s (%s); forgetting it", user_id, exc)
        except TelegramError as exc:  # the network: try again at the next start
            log.warning("could not reset the menu button for %s: %s; trying again at the next start", user_id, exc)
            continue
        await svc.store.forget_menu_button(user_id)


@asynccontextmanager
async def running(application: AnyApp, *, polling: bool = True, dispatcher: bool = True,
                  poll_timeout: int = 10, webhook: WebhookSettings | None = None) -> AsyncIterator[AnyApp]:
    """The bot running until the block ends; then the send in progress finishes and all is closed.

    With `webhook`, updates arrive on the bot's web server (bot.transport.web) instead of by long polling; the
    web server also listens in polling mode when `web.port` is set (for /healthz).
    """
    svc = services(application)
    server: WebServer | None = None
    await open_services(application)
    try:
        await application.initialize()
        await register_commands(application)
        await application.start()
        dashboard = svc.settings.dashboard
        routes = [functools.partial(add, svc=svc) for add in svc.web_routes] if dashboard.enabled else []
        if webhook is not None or svc.settings.web.port or routes:
            # Imported only when something listens: aiohttp.web weighs a few MB a polling bot need not carry.
            from bot.transport.web import WebServer
        if webhook is not None:
            from bot.transport.webhook import set_webhook, webhook_route

            server = WebServer(application, lambda: health(application), webhook=webhook_route(webhook),
                               routes=routes)
            await server.start(webhook.listen, webhook.port)
            await set_webhook(application, webhook)
        elif routes:  # polling, with the dashboard: one server, on the dashboard's address (/healthz there too)
            server = WebServer(application, lambda: health(application), routes=routes)
            await server.start(dashboard.listen, dashboard.port)
        elif svc.settings.web.port:
            server = WebServer(application, lambda: health(application))
            await server.start(svc.settings.web.listen, svc.settings.web.port)
        if webhook is None and polling:
            assert application.updater is not None
            await application.updater.start_polling(
                poll_interval=0.0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES
            )
        if dispatcher:
            schedule_dispatcher(application, svc.settings.dispatch_interval_seconds)
        yield application
    finally:
        if server is not None:  # no new updates from here on
            await server.stop()
        await svc.dispatcher.drain()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        with suppress(Exception):
            await application.shutdown()
        await svc.store.close()


def settle_garbage_collector() -> None:
    """Before the bot starts, set what start-up made aside from the garbage collector's full collections.

    The modules, classes, catalogs and settings loaded at start-up (about 90,000 objects) live as long as the
    process; every full collection walked all of them again: a pause of about 30-60 ms on this machine, every
    thousand taps or so, and each pause delays every tap in flight (docs/benchmarks.md, issue 12). Collected
    once here, then frozen (`gc.freeze`), they are left out of later collections; what is made afterwards is
    collected as before. For the process `serve` runs, not for tests that start many bots in one process."""
    gc.collect()
    gc.freeze()


async def serve(application: AnyApp, *, webhook: WebhookSettings | None = None) -> None:
    """Long polling (or the webhook) until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    # Before anything is sent: a full collection blocks the loop for tens of milliseconds, and after a crash the
    # first thing the bot does is send again the message that was in flight; blocked between that send and
    # marking it sent, a second crash would send it a third time (tests/test_crash.py under faketime).
    settle_garbage_collector()
    async with running(application, webhook=webhook):
        me = application.bot
        log.info("imm-bot is running as @%s; stop with Ctrl-C", me.username)
        await stop.wait()
        log.info("stopping: finishing the message in flight")
