"""The dashboard in a real browser: Playwright driving Debian's Chromium (.ci/run installs it when missing).

Skipped only when Chromium or Playwright is absent on this machine; CI installs both, so there they run.
Screenshots (360x740 and 1280x800) go to a temporary folder; with IMM_SCREENSHOTS=1 into docs/dashboard/.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import COORDINATOR_ID, OTHER_COORDINATOR_ID
from tests.dashboard_support import dashboard_bot, init_data

CHROMIUM = os.environ.get("IMM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SIZES = {"phone": (360, 740), "desktop": (1280, 800)}
PAGES = {"today": "", "term": "term", "follow-ups": "follow-ups", "register": "register", "alerts": "alerts",
         "downloads": "downloads"}
DOCS = Path(__file__).resolve().parent.parent / "docs" / "dashboard"

playwright_api = pytest.importorskip("playwright.async_api", reason="pip install playwright")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed here (.ci/run installs it)", allow_module_level=True)


@pytest.fixture
async def dash(start_bot, api, db_path, clock):
    return await dashboard_bot(start_bot, api, db_path, clock)


@pytest.fixture
async def browser():
    async with playwright_api.async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        await chromium.close()


async def new_page(browser, size: str = "phone", locale: str = "en-GB"):
    width, height = SIZES[size]
    context = await browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    # Telegram's own script (theme colours, ready()) is not reachable here: the pages must work without it.
    await context.route("https://telegram.org/**", lambda route: route.abort())
    return context, await context.new_page()


async def open_mini_app(page, dash, user_id: int, hub: str = "woking", **kwargs) -> int:
    """Open the Mini App as Telegram does: the launch parameters in the URL's fragment; returns /auth's status."""
    fragment = f"tgWebAppData={quote(init_data(dash, user_id, **kwargs), safe='')}&tgWebAppVersion=8.0" \
               "&tgWebAppPlatform=android"
    async with page.expect_response(lambda r: r.url.endswith("/dashboard/auth")) as answer:
        await page.goto(f"{dash.base}/dashboard/app?hub={hub}#{fragment}")
    return (await answer.value).status


async def serious_violations(page) -> list[str]:
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


async def test_a_coordinator_ticks_the_register_and_the_chat_and_term_show_it(dash, browser, api):
    context, page = await new_page(browser)
    assert await open_mini_app(page, dash, COORDINATOR_ID) == 200
    await page.wait_for_url(re.compile(r"/dashboard/h/woking/$"))
    assert await page.locator("h1").inner_text() == "Woking Community Hub: next sessions"

    await page.get_by_role("link", name="Term").click()
    week9 = page.locator("tbody tr", has=page.locator("th", has_text=re.compile(r"^9$")))
    assert (await week9.locator("td").nth(1).inner_text()) == "14"

    await page.get_by_role("link", name="Register").click()
    await page.get_by_role("link", name="Tuesday 10 November, 10:00").click()
    await page.get_by_role("button", name="Take the register").click()
    ivan = page.get_by_role("checkbox", name="Ivan", exact=True)
    assert not await ivan.is_checked()
    await ivan.focus()
    await page.keyboard.press("Space")  # by keyboard
    assert await ivan.is_checked()
    await page.get_by_role("button", name="Save").click()
    await page.get_by_role("status").wait_for()
    assert "Came: 15 (walk-ins: 0)." in await page.locator("main").inner_text()

    await page.get_by_role("link", name="Term").click()
    assert (await week9.locator("td").nth(1).inner_text()) == "15"
    await context.close()

    cleo = api.user(COORDINATOR_ID, "Cleo")
    await cleo.send("/register")
    await cleo.tap("Tuesday 10 November, 10:00")
    assert "Came: 15 (walk-ins: 0)." in cleo.last_text()
    assert "✅ Ivan" in [label for row in cleo.buttons() for label in row]


async def test_a_desktop_sign_in_link_works_once(dash, browser, api):
    cleo = api.user(COORDINATOR_ID, "Cleo")
    await cleo.send("/dashboard")
    link = re.search(r"http://\S+/dashboard/signin/\S+", cleo.last_text()).group(0)
    context, page = await new_page(browser, "desktop")
    await page.goto(link)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/dashboard/h/woking/$"))
    assert "Woking Community Hub" in await page.locator("h1").inner_text()
    await context.close()

    context, page = await new_page(browser, "desktop")
    response = await page.goto(link)
    assert response.status == 403
    assert "This sign-in link has been used or has expired." in await page.locator("h1").inner_text()
    response = await page.goto(f"{dash.base}/dashboard/h/woking/")
    assert response.status == 403 and "Anna" not in await page.content()
    await context.close()


@pytest.mark.parametrize("case", ["forged", "expired", "other_hub", "not_a_coordinator"])
async def test_bad_init_data_gets_403_and_no_data(dash, browser, case):
    user, kwargs = {
        "forged": (COORDINATOR_ID, {"token": "123:not-the-bot-token"}),
        "expired": (COORDINATOR_ID, {"age": 3601}),
        "other_hub": (OTHER_COORDINATOR_ID, {}),
        "not_a_coordinator": (4242, {}),
    }[case]
    context, page = await new_page(browser)
    assert await open_mini_app(page, dash, user, **kwargs) == 403
    await page.locator("#refused").wait_for(state="visible")
    assert "not available to you" in await page.locator("#refused").inner_text()
    for path in PAGES.values():
        response = await page.goto(f"{dash.base}/dashboard/h/woking/{path}")
        assert response.status == 403
        text = await page.content()
        assert "Woking" not in text and "Anna" not in text and "Hana" not in text
    await context.close()


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_every_page_passes_axe_and_fits_a_phone(dash, browser, language, tmp_path):
    shots = DOCS if os.environ.get("IMM_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        context, page = await new_page(browser, size, locale=language)
        assert await open_mini_app(page, dash, COORDINATOR_ID, language=language) == 200
        await page.wait_for_url(re.compile(r"/dashboard/h/woking/$"))
        week10 = f"register/{dash.seeded.weeks[9]}"
        for name, path in {**PAGES, "register-session": week10}.items():
            response = await page.goto(f"{dash.base}/dashboard/h/woking/{path}")
            assert response.status == 200, name
            html = page.locator("html")
            assert await html.get_attribute("lang") == language
            assert await html.get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
            assert await serious_violations(page) == [], (language, size, name)
            if size == "phone":  # nothing wider than the phone: no sideways scrolling
                overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, (name, overflow)
            if language == "en" or name == "term":
                await page.screenshot(path=str(shots / f"{name}-{language}-{size}.png"), full_page=False)
        await context.close()


async def test_pages_work_at_200_percent_zoom(dash, browser):
    """200% zoom of a 360 px phone is a 180 CSS px viewport at device scale 2: still no sideways scrolling."""
    context = await browser.new_context(viewport={"width": 180, "height": 370}, device_scale_factor=2)
    await context.route("https://telegram.org/**", lambda route: route.abort())
    page = await context.new_page()
    assert await open_mini_app(page, dash, COORDINATOR_ID) == 200
    await page.wait_for_url(re.compile(r"/dashboard/h/woking/$"))
    for name, path in PAGES.items():
        await page.goto(f"{dash.base}/dashboard/h/woking/{path}")
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (name, overflow)
    await context.close()
