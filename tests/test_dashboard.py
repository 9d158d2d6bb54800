"""The dashboard over real HTTP (no browser): who gets in, the sign-in link, CSRF, and the same data as the chat.

The browser tests (tests/test_dashboard_browser.py) drive the same pages in Chromium; these run everywhere.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import COORDINATOR_ID, LEAD_ID, OTHER_COORDINATOR_ID
from tests.dashboard_support import client, csrf_of, dashboard_bot, init_data, sign_in

PAGES = ("", "term", "follow-ups", "register", "alerts", "downloads")


@pytest.fixture
async def dash(start_bot, api, db_path, clock):
    return await dashboard_bot(start_bot, api, db_path, clock)


async def test_a_coordinator_signs_in_with_init_data_and_sees_every_page(dash):
    async with client() as http:
        status, body = await sign_in(http, dash, COORDINATOR_ID)
        assert (status, body) == (200, {"ok": True, "next": "/dashboard/h/woking/"})
        cookie = next(c for c in http.cookie_jar if c.key == "imm_dashboard")
        assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
        for path in PAGES:
            async with http.get(f"{dash.base}/dashboard/h/woking/{path}") as response:
                page = await response.text()
                assert response.status == 200, path
                assert '<html lang="en" dir="ltr">' in page and "Woking Community Hub" in page
                assert "nonce-" in response.headers["Content-Security-Policy"]
        async with http.get(f"{dash.base}/dashboard/h/woking/term") as response:
            term = await response.text()
        assert 'role="img"' in term and "<title id=\"term-chart-title\">" in term
        assert "Autumn 2026" in term and "Happier leaving:" in term


@pytest.mark.parametrize("case", ["forged", "expired", "other_hub", "not_a_coordinator", "member", "empty"])
async def test_bad_init_data_gets_403_and_no_data(dash, case):
    user, kwargs = {
        "forged": (COORDINATOR_ID, {"token": "123:not-the-bot-token"}),
        "expired": (COORDINATOR_ID, {"age": 3601}),
        "other_hub": (OTHER_COORDINATOR_ID, {}),
        "not_a_coordinator": (4242, {}),
        "member": (1001, {}),
        "empty": (COORDINATOR_ID, {}),
    }[case]
    async with client() as http:
        if case == "empty":
            async with http.post(f"{dash.base}/dashboard/auth", data={"init_data": "", "hub": "woking"}) as response:
                status, body = response.status, await response.json()
        else:
            status, body = await sign_in(http, dash, user, **kwargs)
        assert (status, body) == (403, {"ok": False})
        assert not list(http.cookie_jar)
        for path in PAGES:
            async with http.get(f"{dash.base}/dashboard/h/woking/{path}") as response:
                page = await response.text()
                assert response.status == 403
                assert "Woking" not in page and "Anna" not in page


async def test_a_session_for_one_hub_is_refused_another(dash):
    async with client() as http:
        assert (await sign_in(http, dash, OTHER_COORDINATOR_ID, hub="camden"))[0] == 200
        async with http.get(f"{dash.base}/dashboard/h/camden/") as response:
            assert response.status == 200
        for path in PAGES:
            async with http.get(f"{dash.base}/dashboard/h/woking/{path}") as response:
                assert response.status == 403 and "Anna" not in await response.text()
        async with http.get(f"{dash.base}/dashboard/h/nowhere/") as response:
            assert response.status == 403


async def test_the_lead_sees_alerts_only_and_acknowledges(dash, api):
    async with client() as http:
        # The lead (not a coordinator) cannot sign in to the dashboard at all: it is for coordinators and admins.
        assert (await sign_in(http, dash, LEAD_ID))[0] == 403
    async with client() as http:
        await sign_in(http, dash, COORDINATOR_ID)
        async with http.get(f"{dash.base}/dashboard/h/woking/alerts") as response:
            page = await response.text()
        assert "Hana: asked to talk to someone" in page
        alert_id = re.search(r"/alerts/(\d+)/acknowledge", page).group(1)
        action = f"{dash.base}/dashboard/h/woking/alerts/{alert_id}/acknowledge"
        async with http.post(action, data={"csrf": "wrong"}) as response:
            assert response.status == 403
        assert not (await dash.store.alert(int(alert_id))).acknowledged
        async with http.post(action, data={"csrf": csrf_of(page)}) as response:
            assert response.status == 200 and "No alerts are waiting." in await response.text()
        alert = await dash.store.alert(int(alert_id))
        assert alert.acknowledged and alert.acknowledged_by == COORDINATOR_ID


async def test_a_sign_in_link_works_once_for_ten_minutes(dash, api, clock):
    from datetime import timedelta

    cleo = api.user(COORDINATOR_ID, "Cleo")
    await cleo.send("/dashboard")
    link = re.search(r"http://\S+/dashboard/signin/\S+", cleo.last_text()).group(0)
    async with client() as http:
        async with http.get(link) as response:  # a link preview opening it spends nothing
            assert response.status == 200 and "Sign in" in await response.text()
        async with http.post(link) as response:
            assert response.status == 200 and "Woking Community Hub: next sessions" in await response.text()
    async with client() as http:
        for method in (http.get, http.post):
            async with method(link) as response:
                assert response.status == 403 and "used or has expired" in await response.text()
        async with http.get(f"{dash.base}/dashboard/h/woking/") as response:
            assert response.status == 403
    await cleo.send("/dashboard")
    late = re.search(r"http://\S+/dashboard/signin/\S+", cleo.last_text()).group(0)
    clock.advance(timedelta(minutes=10, seconds=1))
    async with client() as http, http.post(late) as response:
        assert response.status == 403
    stranger = api.user(4242, "Stranger")
    await stranger.send("/dashboard")
    assert "signin" not in stranger.last_text()


async def test_a_register_tick_is_what_the_chat_and_the_term_see(dash, api):
    week9 = dash.seeded.weeks[8]
    async with client() as http:
        await sign_in(http, dash, COORDINATOR_ID)
        async with http.get(f"{dash.base}/dashboard/h/woking/term") as response:
            before = await response.text()
        assert re.search(r"<th scope=\"row\">9</th><td>[^<]+</td><td>14</td>", before)
        register = f"{dash.base}/dashboard/h/woking/register/{week9}"
        async with http.get(register) as response:
            page = await response.text()
        async with http.post(f"{register}/open", data={"csrf": csrf_of(page)}) as response:
            page = await response.text()
        lines = dict(re.findall(r'value="(\d+)"(?: checked)?> ([^<]+)</label>', page))
        ticked = set(re.findall(r'value="(\d+)" checked>', page))
        ivan = next(line for line, label in lines.items() if label.strip() == "Ivan")
        shown = re.search(r'name="shown" value="([^"]+)"', page).group(1)
        came = [*sorted(ticked), ivan]
        async with http.post(register, data=[("csrf", csrf_of(page)), ("shown", shown), ("page", "0"),
                                             *[("came", line) for line in came]]) as response:
            saved = await response.text()
        assert "Saved." in saved and "Came: 15 (walk-ins: 0)." in saved
        async with http.get(f"{dash.base}/dashboard/h/woking/term") as response:
            after = await response.text()
        assert re.search(r"<th scope=\"row\">9</th><td>[^<]+</td><td>15</td>", after)
    cleo = api.user(COORDINATOR_ID, "Cleo")
    await cleo.send("/register")
    await cleo.tap("Tuesday 10 November, 10:00")
    assert "Came: 15 (walk-ins: 0)." in cleo.last_text()
    assert "✅ Ivan" in [label for row in cleo.buttons() for label in row]


async def test_walk_ins_and_contacted_marks_need_the_csrf_token(dash):
    week10 = dash.seeded.weeks[9]
    async with client() as http:
        await sign_in(http, dash, COORDINATOR_ID)
        register = f"{dash.base}/dashboard/h/woking/register/{week10}"
        async with http.get(register) as response:
            page = await response.text()
        token = csrf_of(page)
        async with http.post(f"{register}/walk-in", data={"csrf": token, "name": "<b>Zed</b>"}) as response:
            assert response.status == 400 and "first name only" in await response.text()
        async with http.post(f"{register}/walk-in", data={"name": "Zed"}) as response:
            assert response.status == 403
        async with http.post(f"{register}/walk-in", data={"csrf": token, "name": "Zed", "band": "age_5_11"},
                             headers={"Origin": "https://evil.example"}) as response:
            assert response.status == 403
        zed = {"csrf": token, "name": "Zed", "band": "age_5_11"}
        async with http.post(f"{register}/walk-in", data=zed) as response:
            assert response.status == 200 and "Zed (walk-in)" in await response.text()
        taken = await dash.store.register(week10)
        assert [(e.name, e.age_band, e.present) for e in taken.entries if e.kind == "walk_in"][-1] == \
            ("Zed", "age_5_11", True)
        async with http.get(f"{dash.base}/dashboard/h/woking/follow-ups") as response:
            page = await response.text()
        member = re.search(r"/follow-ups/(\d+)/contacted", page)
        assert member, "the seeded term has people to follow up"
        url = f"{dash.base}/dashboard/h/woking/follow-ups/{member.group(1)}/contacted"
        async with http.post(url, data={"csrf": csrf_of(page)}) as response:
            assert "Contacted Wednesday 18 November." in await response.text()
        async with http.post(f"{dash.base}/dashboard/h/woking/follow-ups/999999/contacted",
                             data={"csrf": token}) as response:
            assert response.status == 404


async def test_downloads_are_the_chat_files_and_the_report(dash):
    from bot.reports.csv_export import export_files
    from bot.reports.weekly_summary import term_period

    async with client() as http:
        await sign_in(http, dash, COORDINATOR_ID)
        base = f"{dash.base}/dashboard/h/woking/downloads/term"
        hub = dash.services.hub("woking")
        period = term_period(hub, dash.services.clock.now().date())[1]
        expected = await export_files(dash.store, hub, period.window(hub, dash.services.clock.now()))
        for name in ("sessions.csv", "attendance.csv", "answers.csv"):
            async with http.get(f"{base}/{name}") as response:
                assert response.status == 200 and await response.read() == expected[name]
        async with http.get(f"{base}/report.md") as response:
            markdown = await response.text()
        assert markdown.startswith("# Woking Community Hub: report for")
        async with http.get(f"{base}/report.html") as response:
            html = await response.text()
        assert "<table>" in html and "<h1>Woking Community Hub: report for" in html
        async with http.get(f"{base}/nope.csv") as response:
            assert response.status == 404


async def test_the_pdf_report_reads_back_with_its_headline_figures(dash):
    """The PDF's text (read back with pypdf) holds the report's headline figures with their denominators."""
    import io

    from pypdf import PdfReader

    async with client() as http:
        await sign_in(http, dash, COORDINATOR_ID)
        base = f"{dash.base}/dashboard/h/woking/downloads/term"
        async with http.get(f"{base}/report.md") as response:
            markdown = await response.text()
        async with http.get(f"{base}/report.pdf") as response:
            assert response.status == 200 and response.content_type == "application/pdf"
            pdf = await response.read()
    assert pdf.startswith(b"%PDF-")
    text = " ".join("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    headlines = [line.removeprefix("- ") for line in markdown.splitlines()
                 if line.startswith(("- Happier leaving", "- More connected", "- Response rate", "- People reached",
                                     "- Sessions held", "- Came again the next week"))]
    assert len(headlines) >= 6, markdown
    assert any(re.search(r"\d+% \(\d+ of \d+ answers\)", line) for line in headlines), headlines
    for line in headlines:
        assert " ".join(line.split()) in text, line


async def test_follow_ups_and_term_are_the_weekly_summarys_figures(dash):
    from bot.reports.weekly_summary import gather, week_so_far

    hub, now = dash.services.hub("woking"), dash.services.clock.now()
    figures = await gather(dash.store, hub, week_so_far(hub, now), now, so_far=True)
    assert figures.follow_ups, "the seeded term has people to follow up"
    async with client() as http:
        await sign_in(http, dash, COORDINATOR_ID)
        async with http.get(f"{dash.base}/dashboard/h/woking/follow-ups") as response:
            page = await response.text()
        async with http.get(f"{dash.base}/dashboard/h/woking/term") as response:
            term = await response.text()
    shown = re.findall(r"<span>([^<:]+): (missed the last two sessions|has gone quiet)", page)
    reasons = {"missed_two": "missed the last two sessions", "quiet": "has gone quiet"}
    assert shown == [(f.first_name, reasons[f.reason]) for f in figures.follow_ups]
    came = re.findall(r'<th scope="row">(\d+)</th><td>[^<]+</td><td>([^<]+)</td>', term)
    assert came == [(str(w.week), str(w.attended) if w.attended >= 5 or not w.attended else "&lt;5")
                    for w in figures.term_weeks]


async def test_over_https_the_cookie_is_secure_and_coordinators_get_the_mini_app_buttons(start_bot, api, db_path,
                                                                                          clock):
    bot = await dashboard_bot(start_bot, api, db_path, clock, public_url="https://hub.example.org")
    # The menu button of each coordinator's and admin's chat opens the Mini App; nobody else's is touched.
    assert api.menu_buttons[COORDINATOR_ID] == {
        "type": "web_app", "text": "Dashboard", "web_app": {"url": "https://hub.example.org/dashboard/app"}}
    assert OTHER_COORDINATOR_ID in api.menu_buttons and LEAD_ID not in api.menu_buttons
    cleo = api.user(COORDINATOR_ID, "Cleo")
    await cleo.send("/dashboard")
    markup = cleo.messages()[-1]["reply_markup"]["inline_keyboard"]
    assert markup[0][0]["web_app"] == {"url": "https://hub.example.org/dashboard/app?hub=woking"}
    assert markup[1][0]["url"].startswith("https://hub.example.org/dashboard/signin/")
    async with client() as http:
        async with http.post(f"{bot.base}/dashboard/auth", data={"init_data": init_data(bot, COORDINATOR_ID),
                                                                 "hub": "woking"}) as response:
            assert response.status == 200
            cookie = response.headers.getall("Set-Cookie")
        async with http.post(f"{bot.base}/dashboard/auth", data={"init_data": init_data(bot, COORDINATOR_ID)},
                             headers={"Origin": "https://evil.example"}) as response:
            assert response.status == 403
    assert len(cookie) == 1 and cookie[0].startswith("__Host-imm_dashboard=")
    for part in ("HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/", "Max-Age=28800"):
        assert part in cookie[0], part
    link = markup[1][0]["url"].replace("https://hub.example.org", bot.base)
    async with client() as http, http.post(link, allow_redirects=False) as response:
        assert response.status == 303
        cookie = response.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "Secure" in cookie and "HttpOnly" in cookie


async def test_in_webhook_mode_the_dashboard_is_on_the_webhooks_server(api, db_path, tmp_path):
    from bot.app import build_application
    from bot.domain.clock import ManualClock
    from bot.runtime import running
    from bot.transport.webhook import webhook_settings
    from tests.conftest import START, make_settings
    from tests.dashboard_support import free_port

    port, unused = free_port(), free_port()
    settings = make_settings(api, db_path, dashboard={"enabled": True, "port": unused,
                                                      "public_url": "https://hub.example.org"})
    data = settings.model_dump()
    data["telegram"]["webhook"] = {"url": "https://hub.example.org/telegram/hook", "listen": "127.0.0.1",
                                   "port": port, "secret_token": "s3cret-token-for-tests_0123456789"}
    settings = type(settings).model_validate(data)
    application = build_application(settings, clock=ManualClock(START))
    async with running(application, dispatcher=False, webhook=webhook_settings(settings)), client() as http:
        base = f"http://127.0.0.1:{port}"
        async with http.get(f"{base}/healthz") as response:
            assert "database" in await response.json()  # 503 here: no dispatcher in this test
        async with http.post(f"{base}/dashboard/auth", data={"init_data": "", "hub": "woking"}) as response:
            assert response.status == 403
        async with http.get(f"{base}/dashboard/app") as response:
            assert response.status == 200 and "/dashboard/auth" in await response.text()
        async with http.post(f"{base}/telegram/hook", data=b"{}") as response:
            assert response.status == 403  # the webhook is still there, secret and all


async def test_signing_out_ends_the_session(dash):
    async with client() as http:
        await sign_in(http, dash, COORDINATOR_ID)
        async with http.get(f"{dash.base}/dashboard/h/woking/") as response:
            page = await response.text()
        token = next(c.value for c in http.cookie_jar if c.key == "imm_dashboard")
        async with http.post(f"{dash.base}/dashboard/signout", data={"csrf": "forged"}) as response:
            assert response.status == 403
        async with http.post(f"{dash.base}/dashboard/signout", data={"csrf": csrf_of(page)}) as response:
            assert response.status == 200 and "You are signed out." in await response.text()
        async with http.get(f"{dash.base}/dashboard/h/woking/") as response:
            assert response.status == 403
    async with client() as http, http.get(f"{dash.base}/dashboard/h/woking/",
                                          headers={"Cookie": f"imm_dashboard={token}"}) as response:
        assert response.status == 403  # the session is gone on the server too, not only the cookie
