"""Distress typed as free text is heard: help numbers at once, in the reader's language, and a way to a person.

Over real HTTP against the local Bot API. The sentence is the one a tester typed after a check-in, in English,
Ukrainian and Arabic; every phrase list is read in every language, since people often write in another.
"""

from __future__ import annotations

import pytest

from bot.domain.distress import normalise, parse_phrases, phrase_lists, reads_as_distress
from bot.jobs import safeguarding
from tests.conftest import LEAD_ID
from tests.wellbeing_support import join

SENTENCES = {
    "en": "I feel very alone and I do not want to be here anymore",
    "uk": "Я почуваюся дуже самотньою і більше не хочу тут бути",
    "ar": "أشعر بالوحدة الشديدة ولا أريد أن أكون هنا بعد الآن",
}
TALK = {"en": "💬 I'd like someone to talk to", "uk": "💬 Я хочу з кимось поговорити",
        "ar": "\u200f💬 أودّ التحدث مع أحد"}  # right to left: a leading RLM


@pytest.mark.parametrize("lang", sorted(SENTENCES))
async def test_distress_in_free_text_gets_help_numbers_and_a_talk_button_in_the_readers_language(bot, api, lang):
    user = api.user(901, "Olena", language_code=lang)
    await join(bot, user, language=lang)
    await user.send(SENTENCES[lang])
    reply = user.last_text()
    assert "116 123" in reply, "Samaritans' number"
    assert "999" in reply
    assert reply == user.texts()[-1] and "/help" not in reply, "not the 'I only understand buttons' reply"
    assert user.buttons() == [[TALK[lang]]]
    if lang != "en":
        assert "Samaritans: call" not in reply, "the help numbers are in the reader's language"


async def test_the_talk_button_under_the_distress_reply_alerts_the_hubs_lead(bot, api):
    user = api.user(902, "Sam")
    member = await join(bot, user)
    await user.send("help")
    await user.tap("💬 I'd like someone to talk to")
    assert "I have told the safeguarding lead at Woking Community Hub." in user.last_text()
    alerts = await bot.store.unacknowledged_alerts(safeguarding.TALK)
    assert [(a.member_id, a.hub_id, a.session_id) for a in alerts] == [(member.id, "woking", None)]
    await bot.dispatch()
    assert any("Sam" in m.get("text", "") for m in api.chat_messages(LEAD_ID))


async def test_a_stranger_in_distress_gets_the_help_numbers_without_a_button(bot, api):
    stranger = api.user(903, "Kim")
    await stranger.send("I want to die")
    assert "116 123" in stranger.last_text()
    assert stranger.buttons() == []


async def test_a_forged_talk_button_for_a_hub_they_are_not_in_raises_nothing(bot, api):
    user = api.user(904, "Noor")
    await join(bot, user)
    await user.tap_data("sg:talk:h7")
    await user.tap_data("sg:talk:hx")
    assert await bot.store.unacknowledged_alerts(safeguarding.TALK) == []


async def test_other_text_says_nobody_reads_the_chat(bot, api):
    user = api.user(905, "Lou")
    await join(bot, user)
    await user.send("see you on Tuesday")
    assert "Nobody reads this chat" in user.last_text()
    assert "116 123" not in user.last_text()


async def test_help_typed_where_a_companions_name_was_asked_is_answered_not_stored(bot, api):
    user = api.user(906, "Ada")
    await user.send("/start woking")
    for label in ("English", "Yes, 16 or older", "Yes, that is fine", "Yes, ask me", "Family member"):
        await user.tap(label)
    await user.tap("➕ Add someone")
    await user.send("help")
    assert "116 123" in user.last_text()
    draft = await bot.store.join_draft(user.id)
    assert draft is not None and draft.data.get("companions", []) == []


async def test_any_command_ends_an_abandoned_announcement(bot, api):
    from tests.conftest import COORDINATOR_ID

    coordinator = api.user(COORDINATOR_ID, "Cora")
    await coordinator.send("/announce")
    await coordinator.send("/sessions")
    await coordinator.send("hello everyone")
    assert "Send to" not in coordinator.last_text() and "preview" not in coordinator.last_text().lower()
    assert await bot.store.awaited_input(COORDINATOR_ID) is None


async def test_a_question_left_for_hours_no_longer_takes_the_next_text(bot, api, clock):
    from datetime import timedelta

    from tests.conftest import COORDINATOR_ID

    coordinator = api.user(COORDINATOR_ID, "Cora")
    await coordinator.send("/announce")
    assert await bot.store.awaited_input(COORDINATOR_ID) is not None
    clock.advance(timedelta(hours=3))
    await coordinator.send("hello everyone")
    assert "Nobody reads this chat" in coordinator.last_text()


def test_phrases_match_whole_words_and_stems_after_normalising():
    lists = {"xx": parse_phrases(["# a comment", "", "want to die", "самотн*", "help"])}
    assert reads_as_distress("I WANT to die!!", lists)
    assert reads_as_distress("Я дуже самотня", lists)
    assert not reads_as_distress("helpful", lists) and not reads_as_distress("want to dine", lists)
    assert normalise("أريد") == normalise("اريد"), "hamza seats folded"
    assert normalise("نمی‌خواهم") == ["نمي", "خواهم"], "the Persian half-space separates words"


def test_every_catalog_language_has_a_phrase_list_with_help():
    lists = phrase_lists()
    assert set(lists) == {"en", "uk", "ar", "fa", "ur"}
    for words in (["help"], ["допоможіть"], normalise("مساعدة"), normalise("کمک"), normalise("مدد")):
        assert any(phrase == tuple(words) for language in lists.values() for phrase in language), words


async def test_help_numbers_in_arabic_have_no_english_fragments_only_what_is_typed_or_dialled(bot, api):
    user = api.user(907, "أمل", language_code="ar")
    await join(bot, user, language="ar")
    await user.send("ساعدني")
    reply = user.last_text()
    assert "SHOUT" in reply and "85258" in reply and "116 123" in reply and "111" in reply
    assert "SHOUT to" not in reply and "option" not in reply and " to 85258" not in reply


def test_configurations_with_the_old_combined_help_keys_still_load():
    from bot.config import SignpostSettings

    old = SignpostSettings.model_validate({"shout_text": "SHOUT to 85258", "nhs": "111, option 2"})
    assert (old.shout_keyword, old.shout_number, old.nhs, old.nhs_option) == ("SHOUT", "85258", "111", "2")
