"""Fixtures: a local Bot API server, settings pointing at it, a clock the test moves, and the running bot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_application
from bot.config import HubSettings, Settings
from bot.domain.clock import ManualClock
from bot.runtime import running
from bot.services import Services, services
from bot.simulator.localapi import LocalBotApi

COORDINATOR_ID = 9001
LEAD_ID = 9002
OTHER_COORDINATOR_ID = 9101
# A Monday in term, well away from the clock changes; tests that need one set the clock themselves.
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", default=False, help="also run the long fault and load variants")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked slow are skipped unless --slow is given."""
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="long variant: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def hub_settings(**overrides: Any) -> HubSettings:
    base: dict[str, Any] = {
        "id": "woking",
        "name": "Woking Community Hub",
        "venue": "Methodist Church Hall",
        "coordinators": [COORDINATOR_ID],
        "safeguarding_lead": LEAD_ID,
        "weekly": [{"weekday": "tuesday", "start": "10:00", "duration_minutes": 90}],
        "terms": [{"name": "Autumn 2026", "start": "2026-09-01", "end": "2026-12-18"}],
        # Off unless a test asks for it: START is a Monday 08:00, so every test that passes 09:00 would
        # otherwise also send the coordinators' weekly summary (tests/test_weekly_summary.py turns it on).
        "weekly_summary": {"enabled": False},
        # Most journeys start at t.me/<bot>?start=woking; tests/test_invites.py closes it and uses invite codes.
        "open_link": True,
    }
    base.update(overrides)
    return HubSettings.model_validate(base)


def make_settings(api: LocalBotApi, db_path: Path, *, hubs: list[HubSettings] | None = None,
                  **overrides: Any) -> Settings:
    data: dict[str, Any] = {
        "telegram": {
            "token": api.token,
            "api_base_url": api.base_url,
            "api_file_url": api.base_file_url,
        },
        "storage": {"path": str(db_path)},
        "hubs": [h.model_dump() for h in (hubs or [
            hub_settings(),
            hub_settings(id="camden", name="Camden Hub", coordinators=[OTHER_COORDINATOR_ID],
                         safeguarding_lead=OTHER_COORDINATOR_ID, weekly=[{"weekday": "thursday", "start": "16:00"}]),
        ])],
        "dispatch_interval_seconds": 300,
    }
    data.update(overrides)
    return Settings.model_validate(data)


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi() as server:
        yield server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "imm.sqlite3"


@pytest.fixture
def settings(api: LocalBotApi, db_path: Path) -> Settings:
    return make_settings(api, db_path)


class RunningBot:
    """The real Application, polling the local server, with its services at hand."""

    def __init__(self, application: Any, api: LocalBotApi, context: Any, stack: list[Any]) -> None:
        self.application = application
        self.api = api
        self._context = context
        self._stack = stack

    async def stop(self) -> None:
        """A clean shutdown, as on SIGTERM."""
        if self._context in self._stack:
            self._stack.remove(self._context)
            await self._context.__aexit__(None, None, None)

    @property
    def services(self) -> Services:
        return services(self.application)

    @property
    def store(self) -> Any:
        return self.services.store

    async def dispatch(self) -> Any:
        from bot.runtime import dispatch_now

        return await dispatch_now(self.application)


@pytest.fixture
async def start_bot(api: LocalBotApi, clock: ManualClock) -> AsyncIterator[Callable[..., Any]]:
    """Start (and on teardown stop) bots; call it again after stopping one to simulate a restart."""
    stack: list[Any] = []

    async def start(settings: Settings, *, dispatcher: bool = False) -> RunningBot:
        application = build_application(settings, clock=clock)
        context = running(application, dispatcher=dispatcher, poll_timeout=1)
        await context.__aenter__()
        stack.append(context)
        return RunningBot(application, api, context, stack)

    yield start
    while stack:
        await stack.pop().__aexit__(None, None, None)


@pytest.fixture
async def bot(start_bot: Callable[..., Any], settings: Settings) -> RunningBot:
    return await start_bot(settings)
