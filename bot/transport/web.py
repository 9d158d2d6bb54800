"""The bot's own web server (aiohttp.web): Telegram's webhook, `/healthz` for the deployment, and room for more.

One application for everything that listens. It is started by `bot.runtime.running`: in webhook mode on
telegram.webhook's listen and port, with the webhook at the public URL's path; in polling mode on web.listen and
web.port when a port is set (the health check only), or on dashboard.listen and dashboard.port when the
coordinators' dashboard is enabled; the dashboard's routes (bot.dashboard.web) are added through `routes`.

The webhook refuses before it reads: a request without the right X-Telegram-Bot-Api-Secret-Token (compared in
constant time) gets 403, one announcing more than MAX_BODY bytes 413, and a body sent in chunks stops at
MAX_BODY (413). A refused body is never kept: it is discarded for at most LINGER seconds (so the client
reads its 403 before the connection closes), so a 50 MiB post costs the bot no memory. An accepted update
goes on PTB's update queue, as PTB's custom-webhook example does, and is answered 200 at once.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # an update is a few kB; Telegram's largest are far below this
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
LINGER = 1.0  # seconds a refused request's unread body is drained (discarded) before the connection is closed
HealthCheck = Callable[[], Awaitable[dict[str, bool]]]
"""Named checks, each True when healthy (e.g. {"database": True, "dispatcher": True})."""


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts (the path) and the secret it sends with every post."""

    path: str
    secret_token: str


class WebServer:
    """The aiohttp application and its listening socket."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], health: HealthCheck, *,
                 webhook: Webhook | None = None,
                 routes: Sequence[Callable[[web.Application], None]] = ()) -> None:
        self.application, self.health, self.webhook, self.routes = application, health, webhook, tuple(routes)
        self._runner: web.AppRunner | None = None
        self._secret = webhook.secret_token.encode() if webhook else b""

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get("/healthz", self._healthz)
        if self.webhook is not None:
            app.router.add_post("/" + self.webhook.path.strip("/"), self._update)
        for add in self.routes:  # more rooms on the same server (the coordinators' dashboard)
            add(app)
        return app

    async def start(self, listen: str, port: int) -> None:
        # After a refusal the rest of the body is read and thrown away for at most LINGER seconds (aiohttp's
        # default is 10), then the connection is closed. Closing at once, with the body unread, makes the
        # kernel send a reset that can overtake the 403 at the client; discarding costs no memory.
        # No access log: one line per update would drown the bot's own.
        self._runner = web.AppRunner(self.app(), access_log=None, lingering_time=LINGER, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, listen, port, backlog=128).start()
        log.info("web server listening on %s:%s (%s%s)", listen, port,
                 "webhook and /healthz" if self.webhook else "/healthz", " and the dashboard" if self.routes else "")

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            return _refuse(403, "Forbidden: wrong or missing secret token")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return _refuse(413, "Request Entity Too Large")
        try:
            body = await request.read()  # at most client_max_size (MAX_BODY), even when sent in chunks
        except web.HTTPRequestEntityTooLarge:
            return _refuse(413, "Request Entity Too Large")
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.application.bot)
        except Exception as exc:  # whatever de_json makes of a malformed update: the sender's fault
            log.warning("webhook: refused a malformed update: %s", exc)
            return web.Response(status=400, text="Bad Request: not a Telegram update")
        await self.application.update_queue.put(update)
        return web.Response(status=200)

    async def _healthz(self, _request: web.Request) -> web.Response:
        try:
            checks = await self.health()
        except Exception:
            log.exception("health check failed")
            checks = {"health_check": False}
        healthy = all(checks.values())
        return web.json_response({"ok": healthy, **checks}, status=200 if healthy else 503)


def _refuse(status: int, text: str) -> web.Response:
    response = web.Response(status=status, text=text)
    response.force_close()  # the unread body is not wanted: close rather than keep the connection
    return response
