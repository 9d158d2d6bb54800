"""Shared by the dashboard tests: a running bot with the dashboard on a free port and the seeded term."""

from __future__ import annotations

import re
import socket
from typing import Any

import aiohttp

from bot.dashboard.initdata import make_init_data
from tests.conftest import OTHER_COORDINATOR_ID, hub_settings, make_settings
from tests.seed_term import seed_term, term_hub
from tests.test_coordinator_commands import WEDNESDAY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def dashboard_bot(start_bot: Any, api: Any, db_path: Any, clock: Any, *, camden: dict[str, Any] | None = None,
                        **dashboard: Any) -> Any:
    """The bot with the seeded Woking term and a Camden hub (`camden`: overrides of its settings)."""
    clock.set(WEDNESDAY)
    port = free_port()
    camden_hub = hub_settings(**{"id": "camden", "name": "Camden Hub", "coordinators": [OTHER_COORDINATOR_ID],
                                 "safeguarding_lead": OTHER_COORDINATOR_ID,
                                 "weekly": [{"weekday": "thursday", "start": "16:00"}], **(camden or {})})
    settings = make_settings(api, db_path, hubs=[term_hub(capacity=40), camden_hub], dashboard={
        "enabled": True, "listen": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}", **dashboard})
    bot = await start_bot(settings)
    bot.seeded = await seed_term(bot.store, settings.hubs[0])
    bot.base = f"http://127.0.0.1:{port}"
    return bot


def init_data(bot: Any, user_id: int, *, age: int = 0, token: str | None = None, language: str = "en") -> str:
    now = int(bot.services.clock.now().timestamp())
    return make_init_data(token or bot.services.settings.telegram.token, user_id, now - age, language_code=language)


def client() -> aiohttp.ClientSession:
    # unsafe=True: keep cookies from an IP address (127.0.0.1), which aiohttp's jar refuses by default
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(http: aiohttp.ClientSession, bot: Any, user_id: int, hub: str = "woking",
                  **kwargs: Any) -> tuple[int, Any]:
    async with http.post(f"{bot.base}/dashboard/auth", data={"init_data": init_data(bot, user_id, **kwargs),
                                                             "hub": hub}) as response:
        return response.status, await response.json()


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has a CSRF field"
    return found.group(1)
