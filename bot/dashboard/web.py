"""The dashboard's routes on the bot's one aiohttp application (bot.transport.web.WebServer).

Server-rendered HTML (Jinja2, autoescaped) in the coordinator's language, with no JavaScript except the
Mini App's sign-in (read Telegram's initData, post it, go on) and Telegram's own script for theme colours.
Every figure comes from the functions the chat uses: /sessions' tallies, the weekly summary's `gather`, the
chat's register queries, /export's CSV files and the funder report. Nothing here counts anything itself.

A request without a valid session, or for a hub the person does not run, gets 403 and a page that holds no
data. Every POST needs the session's CSRF token and our own Origin.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

from bot.config import HubSettings
from bot.dashboard import auth, pages
from bot.dashboard.initdata import verify_init_data
from bot.domain.people import clean_name, name_problem
from bot.jobs.safeguarding import may_acknowledge
from bot.messages.catalog import LANGUAGES
from bot.services import Services

log = logging.getLogger(__name__)
SERVICES = web.AppKey("dashboard_services", Services)
ROOT = "/dashboard"
MAX_FORM = 256 * 1024  # a register page's form is a few kB
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_templates = Environment(loader=PackageLoader("bot.dashboard", "templates"),
                         autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def add_routes(app: web.Application, svc: Services) -> None:
    """Put the dashboard on the bot's web application (called by the composition root when it is enabled)."""
    app[SERVICES] = svc
    app[pages.FIGURES] = pages.FigureCache()
    r = app.router
    r.add_get(f"{ROOT}/app", mini_app_shell)
    r.add_post(f"{ROOT}/auth", mini_app_auth)
    r.add_get(f"{ROOT}/signin/{{token}}", signin_page)
    r.add_post(f"{ROOT}/signin/{{token}}", signin)
    r.add_post(f"{ROOT}/signout", signout)
    r.add_get(f"{ROOT}/", hub_list)
    r.add_get(ROOT, to_root)
    hub = f"{ROOT}/h/{{hub}}"
    r.add_get(f"{hub}/", _hub_page(pages.today))
    r.add_get(f"{hub}/term", _hub_page(pages.term))
    r.add_get(f"{hub}/follow-ups", _hub_page(pages.follow_ups))
    r.add_post(f"{hub}/follow-ups/{{member}}/contacted", _hub_post(_contacted))
    r.add_get(f"{hub}/register", _hub_page(pages.registers))
    r.add_get(f"{hub}/register/{{session}}", _hub_page(pages.register))
    r.add_post(f"{hub}/register/{{session}}/open", _hub_post(_open_register))
    r.add_post(f"{hub}/register/{{session}}", _hub_post(_save_register))
    r.add_post(f"{hub}/register/{{session}}/walk-in", _hub_post(_walk_in))
    r.add_get(f"{hub}/alerts", _hub_page(pages.alerts, lead=True))
    r.add_post(f"{hub}/alerts/{{alert}}/acknowledge", _hub_post(_acknowledge, lead=True))
    r.add_get(f"{hub}/downloads", _hub_page(pages.downloads))
    r.add_get(f"{hub}/downloads/{{range}}/{{file}}", _hub_page(pages.download))


# ------------------------------------------------------------------------------------------------ rendering

def render(svc: Services, request: web.Request, template: str, lang: str, *, status: int = 200,
           **context: Any) -> web.Response:
    nonce = secrets.token_urlsafe(16)
    language = LANGUAGES.get(lang, LANGUAGES["en"])

    def t(key: str, **values: Any) -> str:
        return svc.texts.get(pages.word_key(svc.texts, key), lang, **values)

    body = _templates.get_template(template).render(
        t=t, lang=language.code, dir="rtl" if language.rtl else "ltr", nonce=nonce, root=ROOT, **context)
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    _secure_headers(response, nonce)
    return response


def _secure_headers(response: web.StreamResponse, nonce: str = "") -> None:
    script = f"'nonce-{nonce}' https://telegram.org" if nonce else "'none'"
    style = f"'nonce-{nonce}'" if nonce else "'none'"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src {script}; style-src {style}; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'self' https://web.telegram.org https://*.telegram.org")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # a sign-in link never leaks in a Referer
    response.headers["Cache-Control"] = "no-store"


def refuse(svc: Services, request: web.Request, lang: str = "en", status: int = 403) -> web.Response:
    """403 (or another refusal) with a page that holds no data: not even whether the hub exists."""
    key = "dashboard.refused" if status == 403 else "dashboard.not_found"
    return render(svc, request, "message.html", lang, status=status, heading=svc.texts.get(key, lang),
                  body=svc.texts.get("dashboard.refused_hint", lang))


def _redirect(location: str) -> web.Response:
    response = web.Response(status=303, headers={"Location": location})
    _secure_headers(response)
    return response


def _services(request: web.Request) -> Services:
    return request.app[SERVICES]


def _reader_language(svc: Services, request: web.Request) -> str:
    accept = request.headers.get("Accept-Language", "")
    return svc.texts.best_language(accept.split(",")[0].split(";")[0].strip() or None)


# ---------------------------------------------------------------------------------------------- signing in

async def to_root(_request: web.Request) -> web.Response:
    return _redirect(f"{ROOT}/")


async def mini_app_shell(request: web.Request) -> web.Response:
    """What the web_app button opens: no data, only the script that posts Telegram's initData to /auth."""
    svc = _services(request)
    hub = request.query.get("hub", "")
    return render(svc, request, "shell.html", _reader_language(svc, request), hub_id=hub if svc.hub(hub) else "")


async def mini_app_auth(request: web.Request) -> web.Response:
    """initData -> a session, when Telegram signed it and the user runs the hub asked for (or any hub)."""
    svc = _services(request)
    if not auth.same_origin(svc, request):
        return web.json_response({"ok": False}, status=403)
    form = await _form(request)
    init_data, hub_id = form.get("init_data", ""), form.get("hub", "")
    settings = svc.settings
    user = verify_init_data(init_data, settings.telegram.token, svc.clock.now(),
                            settings.dashboard.init_data_max_age_seconds)
    if user is None:
        log.info("dashboard: refused initData that does not verify")
        return web.json_response({"ok": False}, status=403)
    hubs = svc.hubs_coordinated_by(user.id)
    if (hub_id and not svc.coordinates(user.id, hub_id)) or not hubs:
        log.info("dashboard: refused user %s for hub %r", user.id, hub_id)
        return web.json_response({"ok": False}, status=403)
    member = await svc.store.member_by_user(user.id)
    lang = member.language if member else svc.texts.best_language(user.language_code)
    target = f"{ROOT}/h/{hub_id}/" if hub_id else f"{ROOT}/"
    response = web.json_response({"ok": True, "next": target})
    await auth.start_session(svc, response, user.id, lang, mini_app=True)
    _secure_headers(response)
    return response


async def signin_page(request: web.Request) -> web.Response:
    """Shows a button; only pressing it uses the link (a link preview or prefetch must not spend it)."""
    svc = _services(request)
    token = request.match_info["token"]
    lang = _reader_language(svc, request)
    if len(token) > 100 or await svc.store.peek_signin_link(token, svc.clock.now()) is None:
        return _link_refused(svc, request, lang)
    return render(svc, request, "signin.html", lang, token=token)


async def signin(request: web.Request) -> web.Response:
    svc = _services(request)
    token = request.match_info["token"]
    lang = _reader_language(svc, request)
    taken = await svc.store.use_signin_link(token, svc.clock.now()) if len(token) <= 100 else None
    if taken is None or not auth.same_origin(svc, request) or not svc.hubs_coordinated_by(taken[0]):
        return _link_refused(svc, request, lang)
    response = _redirect(f"{ROOT}/")
    await auth.start_session(svc, response, taken[0], taken[1], mini_app=False)
    return response


def _link_refused(svc: Services, request: web.Request, lang: str) -> web.Response:
    return render(svc, request, "message.html", lang, status=403, heading=svc.texts.get("dashboard.link_used", lang),
                  body=svc.texts.get("dashboard.link_used_hint", lang))


async def signout(request: web.Request) -> web.Response:
    svc = _services(request)
    who = await auth.visitor(svc, request)
    form = await _form(request)
    if who is None or not auth.csrf_ok(who, form.get("csrf", "")) or not auth.same_origin(svc, request):
        return refuse(svc, request)
    await svc.store.end_dashboard_session(who.session_token)
    response = render(svc, request, "message.html", who.language, heading=svc.texts.get("dashboard.signed_out",
                                                                                         who.language), body="")
    # Expired at once; Secure as when it was set, or a browser keeps a __Host- cookie (the session is gone anyway).
    response.set_cookie(auth.cookie_name(svc), "", max_age=0, path="/", httponly=True,
                        secure=svc.settings.dashboard.secure, samesite="Lax")
    return response


async def hub_list(request: web.Request) -> web.Response:
    svc = _services(request)
    who = await auth.visitor(svc, request)
    hubs = svc.hubs_coordinated_by(who.user_id) if who else []
    if who is None or not hubs:
        return refuse(svc, request, who.language if who else "en")
    if len(hubs) == 1:
        return _redirect(f"{ROOT}/h/{hubs[0].id}/")
    return render(svc, request, "hubs.html", who.language, hubs=hubs, csrf=who.csrf_token, hub=None, page="hubs")


# ------------------------------------------------------------------------------------------ the hub's pages

PageMaker = Callable[["pages.Page"], Awaitable[web.StreamResponse | dict[str, Any]]]


def _allowed(svc: Services, user_id: int, hub: HubSettings, *, lead: bool) -> bool:
    return may_acknowledge(svc, user_id, hub.id) if lead else svc.coordinates(user_id, hub.id)


def _hub_page(make: PageMaker, *, lead: bool = False) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        svc = _services(request)
        who = await auth.visitor(svc, request)
        hub = svc.hub(request.match_info["hub"])
        if who is None or hub is None or not _allowed(svc, who.user_id, hub, lead=lead):
            return refuse(svc, request, who.language if who else "en")
        page = pages.Page(svc, request, who, hub)
        result = await make(page)
        if isinstance(result, web.StreamResponse):
            return result
        template = result.pop("template")
        return render(svc, request, template, who.language, hub=hub, csrf=who.csrf_token,
                      may_see_alerts=may_acknowledge(svc, who.user_id, hub.id),
                      coordinates=svc.coordinates(who.user_id, hub.id), **result)
    return handle


def _hub_post(act: Callable[[pages.Page, dict[str, str]], Awaitable[str | None]], *, lead: bool = False) -> Handler:
    """A change: session, hub, CSRF token and origin checked; then back to the page (303), or a kind refusal."""
    async def handle(request: web.Request) -> web.StreamResponse:
        svc = _services(request)
        who = await auth.visitor(svc, request)
        hub = svc.hub(request.match_info["hub"])
        if who is None or hub is None or not _allowed(svc, who.user_id, hub, lead=lead):
            return refuse(svc, request, who.language if who else "en")
        form = await _form(request)
        if not auth.csrf_ok(who, form.get("csrf", "")) or not auth.same_origin(svc, request):
            return refuse(svc, request, who.language)
        page = pages.Page(svc, request, who, hub)
        try:
            where = await act(page, form)
        except pages.Refusal as refusal:
            return render(svc, request, "message.html", who.language, status=refusal.status,
                          heading=svc.texts.get(refusal.key, who.language), body="", hub=hub,
                          back=refusal.back)
        return _redirect(where or request.path)
    return handle


async def _form(request: web.Request) -> dict[str, str]:
    if request.content_length is not None and request.content_length > MAX_FORM:
        return {}
    try:
        data = await request.post()
    except (ValueError, web.HTTPException):
        return {}
    form: dict[str, str] = {}
    for key in data:
        value = data.getall(key)
        form[key] = ",".join(v for v in value if isinstance(v, str))
    return form


async def _contacted(page: pages.Page, form: dict[str, str]) -> str:
    member = _int(page.request.match_info["member"])
    if member is None or not await page.svc.store.mark_contacted(page.hub.id, member, page.who.user_id, page.now):
        raise pages.Refusal("dashboard.not_found", 404, page.url("follow-ups"))
    return page.url("follow-ups")


async def _open_register(page: pages.Page, form: dict[str, str]) -> str:
    session = await page.register_session(page.request.match_info["session"])
    await page.svc.store.open_register(session.id, page.who.user_id, page.now)
    return page.url(f"register/{session.id}")


async def _save_register(page: pages.Page, form: dict[str, str]) -> str:
    session = await page.register_session(page.request.match_info["session"])
    shown = {n for n in (_int(v) for v in form.get("shown", "").split(",")) if n is not None}
    present = {n for n in (_int(v) for v in form.get("came", "").split(",")) if n is not None}
    if len(shown) > 1000:
        raise pages.Refusal("dashboard.not_found", 400, page.url(f"register/{session.id}"))
    store = page.svc.store
    taken = await store.register(session.id)
    if taken is None or not taken.entries:
        await store.open_register(session.id, page.who.user_id, page.now)
    await store.mark_register(session.id, shown, present & shown, page.who.user_id, page.now)
    await store.save_register(session.id, page.who.user_id, page.now)
    suffix = f"?page={form['page']}&saved=1" if form.get("page", "").isdigit() else "?saved=1"
    return page.url(f"register/{session.id}") + suffix


async def _walk_in(page: pages.Page, form: dict[str, str]) -> str:
    session = await page.register_session(page.request.match_info["session"])
    text = form.get("name", "")
    back = page.url(f"register/{session.id}")
    if name_problem(text) is not None:
        raise pages.Refusal("dashboard.walk_in_bad_name", 400, back)
    band = form.get("band", "")
    if band and band not in pages.AGE_BANDS:
        raise pages.Refusal("dashboard.walk_in_bad_name", 400, back)
    name = clean_name(text)
    assert name is not None
    await page.svc.store.open_register(session.id, page.who.user_id, page.now)
    await page.svc.store.add_walk_in(session.id, name, page.who.user_id, page.now, band or None)
    await page.svc.store.save_register(session.id, page.who.user_id, page.now)
    return back + "?page=last"


async def _acknowledge(page: pages.Page, form: dict[str, str]) -> str:
    alert_id = _int(page.request.match_info["alert"])
    alert = await page.svc.store.alert(alert_id) if alert_id is not None else None
    if alert is None or alert.hub_id != page.hub.id:
        raise pages.Refusal("dashboard.not_found", 404, page.url("alerts"))
    await page.svc.store.acknowledge_alert(alert.id, page.who.user_id, page.now)
    return page.url("alerts")


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 12 else None
