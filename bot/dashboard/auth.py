"""Who is asking: Mini App sign-in (initData), single-use desktop sign-in links, the session cookie, CSRF.

The only ways in: a Mini App's initData that Telegram signed (bot.dashboard.initdata), or a sign-in link from
/dashboard (ten minutes, once). Either starts a session: a random token in an HttpOnly cookie (Secure when the
public address is HTTPS) whose SHA-256 hash is stored with its expiry; every request looks it up and checks
again that the person coordinates (or is an admin of, or for alerts is the lead of) the hub asked about.
Every POST carries the session's CSRF token and, when the browser says where it comes from, our own origin.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from aiohttp import web

from bot.services import Services
from storage.dashboard import DashboardSession

COOKIE = "imm_dashboard"
SECURE_COOKIE = "__Host-imm_dashboard"  # __Host-: Secure, Path=/, no Domain (cannot be set by a subdomain)


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in coordinator or admin, with the session's CSRF token and their language."""

    user_id: int
    language: str
    csrf_token: str
    session_token: str


def cookie_name(svc: Services) -> str:
    return SECURE_COOKIE if svc.settings.dashboard.secure else COOKIE


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def start_session(svc: Services, response: web.StreamResponse, user_id: int, language: str, *,
                        mini_app: bool) -> None:
    """Store a new session and set its cookie on the response.

    SameSite: Lax for a browser tab (a sign-in link). Inside Telegram Web the Mini App is a cross-site iframe,
    where a Lax cookie is never sent, so over HTTPS a Mini App session is SameSite=None; Partitioned (a cookie
    of that iframe only); POSTs are protected by the CSRF token and the Origin check either way.
    """
    settings = svc.settings.dashboard
    now = svc.clock.now()
    token = new_token()
    expires = now + timedelta(minutes=settings.session_minutes)
    await svc.store.create_dashboard_session(token, user_id, language, new_token(), now, expires)
    same_site = "None" if mini_app and settings.secure else "Lax"
    response.set_cookie(cookie_name(svc), token, max_age=settings.session_minutes * 60, path="/",
                        httponly=True, secure=settings.secure, samesite=same_site)
    if same_site == "None":  # aiohttp has no parameter for it yet
        morsel = response.cookies[cookie_name(svc)]
        response.headers.add("Set-Cookie", morsel.OutputString() + "; Partitioned")
        del response.cookies[cookie_name(svc)]


async def visitor(svc: Services, request: web.Request) -> Visitor | None:
    token = request.cookies.get(cookie_name(svc), "")
    if not token or len(token) > 200:
        return None
    session: DashboardSession | None = await svc.store.dashboard_session(token, svc.clock.now())
    if session is None:
        return None
    return Visitor(session.telegram_user_id, session.language, session.csrf_token, token)


def same_origin(svc: Services, request: web.Request) -> bool:
    """A POST from our own pages: its Origin (when the browser sends one) is the public address or this host."""
    origin = request.headers.get("Origin")
    if origin is None or (origin == "null" and not svc.settings.dashboard.secure):
        return True
    allowed = {_origin(svc.settings.dashboard.public_url), f"{request.scheme}://{request.host}"}
    return origin in allowed


def csrf_ok(visitor: Visitor, given: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode("utf-8", "replace"), visitor.csrf_token.encode())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
