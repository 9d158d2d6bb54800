"""Access: every keyboard the bot shows in the journeys we can drive carries words on every button,
at most three buttons a row, and nothing that relies on colour."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import pytest

from bot.messages.catalog import LANGUAGES
from tests.conftest import START
from tests.test_join import join_as_family
from tests.test_rights import seed_a_term

COLOUR_ONLY = re.compile("[\U0001f7e0-\U0001f7eb\U0001f534-\U0001f535\u26aa\u26ab\u2b1b\u2b1c]")


def keyboards(api) -> list[list[list[dict[str, Any]]]]:
    """Every inline keyboard in every message the bot sent or edited."""
    found = []
    for call in api.calls:
        markup = call.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            found.append(markup["inline_keyboard"])
    return found


def words_in(label: str) -> str:
    """The label without emoji, symbols and marks: what a screen reader says besides emoji names."""
    return "".join(char for char in label if unicodedata.category(char)[0] in "LN")


def check_keyboards(api) -> int:
    seen = 0
    for keyboard in keyboards(api):
        for row in keyboard:
            assert 1 <= len(row) <= 3, [b["text"] for b in row]
            for button in row:
                label = button["text"]
                assert words_in(label), f"button without words: {label!r}"
                if COLOUR_ONLY.search(label):
                    assert len(words_in(label)) >= 2, f"a colour carries the meaning of {label!r}"
                assert len(button.get("callback_data", "").encode()) <= 64
                seen += 1
    return seen


@pytest.mark.parametrize("language", ["en", "ar", "uk", "fa", "ur"])
async def test_every_button_in_the_rights_journeys_has_words_and_rows_are_short(bot, api, language):
    user = api.user(720, "Rania", language_code="en")
    await user.send("/start woking")
    await user.tap(LANGUAGES[language].name)
    # Now in the chosen language: tap through by position, since labels are translated.
    for _ in range(3):  # age, contact consent, wellbeing consent: the first button says yes
        await user.tap_data(api.chat_messages(720)[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    await user.tap_data("j:role:carer")
    await user.tap_data("j:comp:done")
    member = await bot.store.member_by_user(720)
    assert member is not None and member.language == language
    assert await bot.store.has_consent(member.id, "wellbeing")
    await seed_a_term(bot, member)
    await user.send("/language")
    await user.send("/consent")
    await user.tap_data("rt:wellbeing:no")
    await user.tap_data("rt:answers:keep")
    await user.tap_data("rt:wellbeing:yes")
    await user.tap_data("rt:contact:no")
    await user.send("/mydata")
    await user.send("/forget")
    assert check_keyboards(api) >= 25


async def test_the_join_and_reminder_journeys_keep_to_the_rules(bot, api, clock):
    anna = api.user(721, "Anna")
    await join_as_family(bot, anna, companions=(("Mia", "5 to 11", "My child"), ("Leo", "Under 5", "My child")))
    clock.set(START.replace(day=24, hour=9, minute=1))  # Tuesday: the day's reminder is due
    await bot.dispatch()
    await api.wait_quiet(721)
    assert "Are you coming?" in anna.last_text()
    await anna.tap("Yes")
    await anna.tap("Who is coming?")
    assert check_keyboards(api) >= 25


def test_the_rules_catch_an_emoji_only_button_and_a_wide_row(api) -> None:
    api.calls.append(type("Call", (), {"params": {"reply_markup": {"inline_keyboard": [[{"text": "✅"}]]}}})())
    with pytest.raises(AssertionError, match="without words"):
        check_keyboards(api)
    api.calls[-1].params["reply_markup"] = {"inline_keyboard": [[{"text": "Yes"}] * 4]}
    with pytest.raises(AssertionError):
        check_keyboards(api)
