"""What every handler and job needs, kept in application.bot_data under one key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Bot, User
from telegram.ext import Application, CallbackContext

from bot.config import HubSettings, Settings
from bot.domain.clock import Clock
from bot.domain.people import Member
from bot.messages.catalog import Catalog
from storage import Store

if TYPE_CHECKING:
    from bot.delivery.dispatcher import Dispatcher

SERVICES_KEY = "services"


@dataclass
class Services:
    settings: Settings
    store: Store
    texts: Catalog
    clock: Clock
    dispatcher: Dispatcher
    application: Application[Any, Any, Any, Any, Any, Any] | None = None
    startup_hooks: list[Callable[[Services], Awaitable[None]]] = field(default_factory=list)
    web_routes: list[Callable[[Any, Services], None]] = field(default_factory=list)
    """Functions (aiohttp.web.Application, services) that add routes to the bot's web server (the dashboard)."""
    member_commands: tuple[str, ...] = ()
    coordinator_commands: tuple[str, ...] = ()
    """The commands Telegram lists to members, and the extra ones to coordinators (set by bot.app)."""

    @property
    def bot(self) -> Bot:
        if self.application is None:
            raise RuntimeError("services are not attached to an application")
        return self.application.bot

    def hub(self, hub_id: str) -> HubSettings | None:
        return self.settings.hub(hub_id)

    def coordinates(self, user_id: int, hub_id: str) -> bool:
        """Coordinators of a hub, and admins, may see and run that hub."""
        hub = self.hub(hub_id)
        return self.settings.is_admin(user_id) or (hub is not None and user_id in hub.coordinators)

    async def person(self, user: User) -> tuple[Member | None, str]:
        """The member behind a Telegram user (None for a stranger) and the language to answer them in."""
        member = await self.store.member_by_user(user.id)
        return member, self.language_for(member, user)

    def language_for(self, member: Member | None, user: User) -> str:
        """A member's own language; for a stranger, the closest one to their Telegram app's."""
        return member.language if member else self.texts.best_language(user.language_code)

    def hubs_coordinated_by(self, user_id: int) -> list[HubSettings]:
        if self.settings.is_admin(user_id):
            return list(self.settings.hubs)
        return [hub for hub in self.settings.hubs if user_id in hub.coordinators]


def services(context: CallbackContext[Any, Any, Any, Any] | Application[Any, Any, Any, Any, Any, Any]) -> Services:
    application = context if isinstance(context, Application) else context.application
    return application.bot_data[SERVICES_KEY]
