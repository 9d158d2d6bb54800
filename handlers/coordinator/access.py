"""Who may use the coordinators' reporting commands: a hub's coordinators for that hub, and admins.

Anyone else gets one polite refusal and nothing else: no figures, no hub names, no buttons.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.config import HubSettings
from bot.messages.keyboards import grid
from bot.services import Services
from handlers.common import refuse


async def hubs_or_refuse(svc: Services, update: Update) -> list[HubSettings] | None:
    """The hubs the person coordinates; None (after refusing politely) when there are none."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return None
    hubs = svc.hubs_coordinated_by(user.id)
    if not hubs:
        await refuse(svc, update)
        return None
    return hubs


def hub_index(svc: Services, hub: HubSettings) -> int:
    """Hubs travel in callback data by position: a hub id may be longer than a callback part allows."""
    return next(i for i, candidate in enumerate(svc.settings.hubs) if candidate.id == hub.id)


def hub_at(svc: Services, user_id: int, text: str) -> HubSettings | None:
    """The hub at a position taken from callback data, if this user coordinates it."""
    if not text.isdigit() or int(text) >= len(svc.settings.hubs):
        return None
    hub = svc.settings.hubs[int(text)]
    return hub if svc.coordinates(user_id, hub.id) else None


def choose_hub(svc: Services, hubs: list[HubSettings], prefix: str) -> tuple[str, InlineKeyboardMarkup]:
    """The question and buttons for picking one of several hubs."""
    items = [(hub.name, f"{prefix}:{hub_index(svc, hub)}") for hub in hubs]
    return svc.texts.get("summary.choose_hub", "en"), grid(items, per_row=1)
