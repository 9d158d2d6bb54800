"""The hubs' languages: right-to-left layout, dates in the reader's language, /language for anyone,
and the command list registered in every language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from babel.dates import get_day_names, get_month_names

from bot.messages.catalog import FSI, LANGUAGES, PDI, RLM, Catalog
from bot.messages.i18n import format_clock, format_day

TEXTS = Catalog.load()
RTL = [code for code, language in LANGUAGES.items() if language.rtl and TEXTS.supports(code)]
A_TUESDAY_IN_NOVEMBER = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line]


@pytest.mark.parametrize("lang", RTL)
def test_every_line_of_a_right_to_left_message_starts_with_a_right_to_left_mark(lang: str) -> None:
    """Telegram lays out each line by its first strong character: '/next …' or a name would flip it."""
    text = TEXTS.get("common.help", lang, emergency="999", samaritans="116 123")
    assert len(lines(text)) >= 5
    assert all(line.startswith(RLM) for line in lines(text)), [line[:12] for line in lines(text)]
    assert f"{FSI}116 123{PDI}" in text


@pytest.mark.parametrize("lang", RTL)
def test_a_multi_line_value_is_isolated_line_by_line(lang: str) -> None:
    """An isolate cannot cross a line break; each line of an inserted block is isolated and starts RTL."""
    consents = TEXTS.get("rights.consent_contact", lang) + "\n" + TEXTS.get("rights.consent_never", lang)
    text = TEXTS.get("rights.mydata_summary", lang, name="Anna", language="English", hubs="Woking Hub",
                     companions="Mia (5 to 11)", rsvps=3, answers=2, consents=consents)
    for line in lines(text):
        assert line.startswith(RLM)
        assert line.count(FSI) == line.count(PDI)
    assert f"{FSI}Woking Hub{PDI}" in text


def test_left_to_right_languages_get_no_marks() -> None:
    text = TEXTS.get("common.help", "en", emergency="999", samaritans="116 123")
    assert RLM not in text and FSI not in text


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if TEXTS.supports(code)])
def test_a_reminder_shows_weekday_and_month_in_the_readers_language(lang: str) -> None:
    day = format_day(A_TUESDAY_IN_NOVEMBER, "Europe/London", lang)
    clock = format_clock(A_TUESDAY_IN_NOVEMBER, "Europe/London", lang)
    card = TEXTS.get("reminder.card", lang, hub="Woking Community Hub", day=day, time=clock)
    weekday = get_day_names("wide", locale=lang)[1]  # Babel counts from Monday = 0
    month = get_month_names("wide", locale=lang)[11]
    assert weekday in card and month in card and "24" in card
    if lang != "en":
        assert "Tuesday" not in card and "November" not in card


def test_the_reminder_time_is_the_hubs_local_time_across_the_clock_change() -> None:
    summer = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)  # 10:00 in London (BST)
    assert format_clock(summer, "Europe/London", "ar") == format_clock(A_TUESDAY_IN_NOVEMBER, "Europe/London", "ar")


async def test_an_arabic_reader_gets_every_line_right_to_left_over_telegram(bot, api):
    amal = api.user(701, "أمل", language_code="ar")
    await amal.send("/help")
    text = amal.last_text()
    assert text.startswith(RLM) and all(line.startswith(RLM) for line in lines(text))


async def test_language_works_for_someone_who_has_not_joined(bot, api):
    sara = api.user(702, "Sara", language_code="en")
    await sara.send("/language")
    await sara.tap("فارسی")
    text = sara.last_text()
    assert text.startswith(RLM) and TEXTS.get("common.language_set", "fa") in text
    assert TEXTS.get("common.how_to_join", "fa").split("\n")[0] in text
    assert await bot.store.member_by_user(702) is None, "nothing is stored about someone who has not joined"


async def test_changing_language_half_way_through_joining_carries_on_in_it(bot, api):
    omar = api.user(703, "Omar", language_code="en")
    await omar.send("/start woking")
    await omar.send("/language")
    await omar.tap("اردو")
    assert (await bot.store.join_draft(703)).data["lang"] == "ur"
    await omar.tap("English")  # the join's own language question, still on screen
    assert (await bot.store.join_draft(703)).data["lang"] == "en"


async def test_the_command_list_is_registered_in_every_language(bot, api):
    for code in (language.code for language in TEXTS.languages):
        scope = ('{"type": "default"}', "" if code == "en" else code)
        commands = {c["command"]: c["description"] for c in api.commands[scope]}
        for name in ("mydata", "consent", "stop", "forget", "language"):
            assert commands[name] == TEXTS.get(f"commands.{name}", code), (code, name)
