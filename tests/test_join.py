"""Joining a hub over real HTTP: invite link, language, age, consents, role, companions."""

from __future__ import annotations

from bot.domain.consent import TEXT_VERSIONS
from tests.conftest import START


async def join_as_family(bot, user, *, wellbeing: bool = True, companions=(("Mia", "5 to 11", "My child"),)):
    await user.send("/start woking")
    await user.tap("English")
    await user.tap("Yes, 16 or older")
    await user.tap("Yes, that is fine")
    await user.tap("Yes, ask me" if wellbeing else "No, thank you")
    await user.tap("Family member")
    for name, age, relation in companions:
        await user.tap("Add someone")
        await user.send(name)
        await user.tap(age)
        await user.tap(relation)
    await user.tap("That is everyone" if companions else "Just me")


async def test_a_family_joins_with_a_child_and_both_consents(bot, api):
    anna = api.user(501, "Anna", language_code="en-GB")
    await join_as_family(bot, anna)

    welcome, card = anna.texts()[-2:]
    assert "You have joined Woking Community Hub" in welcome and "Mia" in welcome
    # A new member sees the next session's card at once, not only at the next reminder (issue 15 item 11).
    assert card.startswith("🎶 Woking Community Hub\n📅 Tuesday 24 November, 10:00") and "Are you coming?" in card
    assert anna.buttons()[0] == ["Yes", "No", "Maybe"]
    member = await bot.store.member_by_user(501)
    assert member is not None
    assert (member.first_name, member.language, member.role, member.chat_id) == ("Anna", "en", "family", 501)
    assert await bot.store.hub_ids_of_member(member.id) == ["woking"]
    companions = await bot.store.companions_of(member.id)
    assert [(c.name, c.age_band, c.relationship) for c in companions] == [("Mia", "age_5_11", "child")]
    consents = {c.kind: c for c in await bot.store.consents_of(member.id)}
    assert consents["contact"].text_version == TEXT_VERSIONS["contact"]
    assert consents["wellbeing"].text_version == TEXT_VERSIONS["wellbeing"]
    assert consents["contact"].given_at == START and consents["contact"].active
    assert await bot.store.join_draft(501) is None


async def test_saying_no_to_wellbeing_still_makes_a_member(bot, api):
    ben = api.user(502, "Ben")
    await join_as_family(bot, ben, wellbeing=False, companions=())
    member = await bot.store.member_by_user(502)
    assert member is not None
    assert await bot.store.has_consent(member.id, "contact")
    assert not await bot.store.has_consent(member.id, "wellbeing")
    assert await bot.store.companions_of(member.id) == []


async def test_language_is_preselected_from_the_telegram_client(bot, api):
    olena = api.user(503, "Olena", language_code="uk")
    await olena.send("/start woking")
    first_row = olena.buttons()[0]
    assert first_row[0] == "✓ Українська"


async def test_choosing_a_language_switches_the_conversation(bot, api):
    olena = api.user(504, "Olena", language_code="en")
    await olena.send("/start woking")
    await olena.tap("Українська")
    assert olena.last_text() != "Are you 16 or older?"
    member_draft = await bot.store.join_draft(504)
    assert member_draft is not None and member_draft.data["lang"] == "uk"


async def test_someone_under_16_is_asked_to_join_through_a_parent(bot, api):
    kid = api.user(505, "Kid")
    await kid.send("/start woking")
    await kid.tap("English")
    await kid.tap("No, under 16")
    assert "ask a parent or carer" in kid.last_text()
    assert await bot.store.member_by_user(505) is None
    assert await bot.store.join_draft(505) is None


async def test_declining_contact_consent_keeps_nothing(bot, api):
    dan = api.user(506, "Dan")
    await dan.send("/start woking")
    await dan.tap("English")
    await dan.tap("Yes, 16 or older")
    await dan.tap("No")
    assert "We have not kept anything" in dan.last_text()
    assert await bot.store.member_by_user(506) is None
    assert await bot.store.join_draft(506) is None


async def test_start_without_or_with_unknown_payload_explains_how_to_join(bot, api):
    eve = api.user(507, "Eve")
    await eve.send("/start")
    assert "tap the invite link" in eve.last_text()
    await eve.send("/start nowhere")
    assert "invite link has expired or is not right" in eve.last_text()
    await eve.send("/start ../../etc/passwd")
    assert "invite link has expired or is not right" in eve.last_text()
    assert await bot.store.member_by_user(507) is None


async def test_a_member_can_join_a_second_hub(bot, api):
    fay = api.user(508, "Fay")
    await join_as_family(bot, fay, companions=())
    await fay.send("/start camden")
    await fay.tap("Yes, join")
    member = await bot.store.member_by_user(508)
    assert sorted(await bot.store.hub_ids_of_member(member.id)) == ["camden", "woking"]
    await fay.send("/start camden")
    assert "already a member" in fay.last_text()


async def test_text_where_a_button_was_expected_gets_a_kind_reply(bot, api):
    gus = api.user(509, "Gus")
    await gus.send("/start woking")
    await gus.send("hello?")
    assert any("tap one of the buttons" in text for text in gus.texts())
    assert (await bot.store.join_draft(509)).step == "lang"


async def test_a_bad_companion_name_is_refused_kindly(bot, api):
    hal = api.user(510, "Hal")
    await hal.send("/start woking")
    for label in ("English", "Yes, 16 or older", "Yes, that is fine", "Yes, ask me", "Carer", "Add someone"):
        await hal.tap(label)
    await hal.send("<script>alert(1)</script>")
    assert "just a first name" in hal.last_text()
    assert "no numbers or other signs" in hal.last_text(), "the refusal says why"
    await hal.send("x" * 80)
    assert "longer than 32 letters" in hal.last_text()
    await hal.send("07700 900123")
    assert "no numbers" in hal.last_text()
    await hal.send("Gran Rose")
    assert "How old is Gran Rose" in hal.last_text()


async def test_names_with_emoji_other_scripts_hyphens_and_apostrophes_are_taken(bot, api):
    for user_id, name in ((512, "Lily 🌸"), (513, "Zoë-Jane"), (514, "O'Neill"), (515, "Микола"), (516, "أمل"),
                          (517, "👨‍👩‍👧 Sam")):
        user = api.user(user_id, "Tester")
        await join_as_family(bot, user, companions=((name, "5 to 11", "My child"),))
        assert "You have joined Woking Community Hub" in user.texts()[-2], name
        member = await bot.store.member_by_user(user_id)
        assert [c.name for c in await bot.store.companions_of(member.id)] == [name]


async def test_a_refused_name_is_explained_in_the_readers_language(bot, api):
    olena = api.user(518, "Olena", language_code="uk")
    await olena.send("/start woking")
    for label in ("Українська", "Так, мені є 16", "Так, добре", "Так, питайте", "Я доглядаю за кимось",
                  "➕ Додати когось"):
        await olena.tap(label)
    await olena.send("Микола 1")
    assert "не цифри" in olena.last_text()


async def test_forged_and_stale_join_buttons_change_nothing(bot, api):
    ivy = api.user(511, "Ivy")
    await ivy.send("/start woking")
    before = await bot.store.join_draft(511)
    forgeries = ("j:role:admin", "j:lang:xx", "j:lang", "j:age:yes:extra", "j:contact:yes", "garbage", "j:lang:en\x00")
    for forged in forgeries:
        calls = await ivy.tap_data(forged)
        assert any(c.method == "answerCallbackQuery" for c in calls), forged
    assert await bot.store.join_draft(511) == before
    assert await bot.store.member_by_user(511) is None


async def test_forged_button_from_a_stranger_is_answered(bot, api):
    stranger = api.user(512, "Stranger")
    calls = await stranger.tap_data("j:comp:done")
    answers = [c for c in calls if c.method == "answerCallbackQuery"]
    assert answers and "old" in answers[0].params.get("text", "")
    assert await bot.store.member_by_user(512) is None


async def test_the_join_survives_a_restart_half_way(start_bot, settings, api):
    first = await start_bot(settings)
    jo = api.user(513, "Jo")
    await jo.send("/start woking")
    await jo.tap("English")
    await jo.tap("Yes, 16 or older")
    await first.stop()
    second = await start_bot(settings)
    await jo.tap("Yes, that is fine")
    await jo.tap("No, thank you")
    await jo.tap("I take part myself")
    await jo.tap("Just me")
    assert (await second.store.member_by_user(513)).role == "participant"
