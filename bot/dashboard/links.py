"""Single-use sign-in links for a desktop browser (made by the chat's /dashboard; taken by bot.dashboard.web).

Kept apart from the web pages so that the chat handler imports no aiohttp.web or Jinja2: a polling bot without
the dashboard loads neither.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.services import Services

LINK_LIFETIME = timedelta(minutes=10)


async def new_signin_link(svc: Services, user_id: int, language: str) -> str:
    """A sign-in address that works once, for ten minutes; only a hash of its secret is stored."""
    now = svc.clock.now()
    token = secrets.token_urlsafe(32)
    await svc.store.create_signin_link(token, user_id, language, now, now + LINK_LIFETIME)
    return f"{svc.settings.dashboard.public_url}/dashboard/signin/{token}"
