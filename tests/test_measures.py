"""Term measures over real HTTP: invitations at term start and end, ONS4 and loneliness step by step, pause and
resume, help numbers after low scores, languages without a validated translation, forged taps, extra sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app import build_application
from bot.domain.questionsets import QuestionSetError
from bot.jobs import measures
from tests.conftest import hub_settings, make_settings
from tests.wellbeing_support import join, taps_answered_too_late

WINTER = {"name": "Winter 2026", "start": "2026-11-24", "end": "2026-12-18"}
FIRST_SESSION_ENDS = datetime(2026, 11, 24, 11, 30, tzinfo=UTC)  # Tuesday 10:00-11:30, Europe/London = UTC
LAST_SESSION_ENDS = datetime(2026, 12, 15, 11, 30, tzinfo=UTC)
START_INVITE = FIRST_SESSION_ENDS + timedelta(hours=2)
KEYPAD = [["0", "1", "2"], ["3", "4", "5"], ["6", "7", "8"], ["9", "10"], ["Skip this question"],
          ["⏸ Pause — finish later"]]
SATISFACTION = "Overall, how satisfied are you with your life nowadays?"


@pytest.fixture
def term_settings(api, db_path):
    return make_settings(api, db_path, hubs=[hub_settings(terms=[WINTER])])


@pytest.fixture
async def term_bot(start_bot, term_settings):
    return await start_bot(term_settings)


async def invited(bot, api, clock, user_id: int, name: str, **join_options):
    user = api.user(user_id, name)
    member = await join(bot, user, **join_options)
    clock.set(START_INVITE)
    await bot.dispatch()
    return user, member


async def answers_of(bot, member, question_set: str):
    runs = await bot.store.measure_runs_for(member.id, "woking", "Winter 2026", "start")
    run = next(r for r in runs if r.question_set == question_set)
    return run, [(a.item, a.scale, a.value, a.skipped) for a in await bot.store.measure_answers(run.id)]


async def test_term_start_invites_members_with_consent_two_hours_after_the_first_session(term_bot, api, clock):
    asked, not_asked = api.user(801, "Ada"), api.user(802, "Bo")
    await join(term_bot, asked)
    await join(term_bot, not_asked, wellbeing=False)
    clock.set(START_INVITE - timedelta(minutes=1))
    await term_bot.dispatch()
    assert not any("start of term" in text for text in asked.texts())
    clock.set(START_INVITE)
    await term_bot.dispatch()
    await term_bot.dispatch()
    assert sum("It is the start of term." in text for text in asked.texts()) == 1
    assert asked.buttons() == [["▶️ Start"], ["Not this time"]]
    assert not any("start of term" in text for text in not_asked.texts())


async def test_the_ons4_conversation_pauses_resumes_and_stores_each_item_with_its_scale(
    start_bot, term_settings, api, clock
):
    bot = await start_bot(term_settings)
    user, member = await invited(bot, api, clock, 803, "Cy")
    await user.tap("▶️ Start")
    text = user.last_text()
    assert text.startswith("Question 1 of 8")
    assert "Next are four questions about your feelings on aspects of your life." in text
    assert SATISFACTION in text and '0 is "not at all". 10 is "completely".' in text
    assert user.buttons() == KEYPAD
    await user.tap("7")
    assert "Question 2 of 8" in user.last_text()
    assert "Overall, to what extent do you feel that the things you do in your life are worthwhile?" in user.last_text()
    await user.tap("8")
    await user.tap("⏸ Pause — finish later")
    assert "Paused." in user.last_text() and user.buttons() == [["▶️ Continue"]]
    run, stored = await answers_of(bot, member, "ons4")
    assert run.paused_at == clock.now() and run.position == 2 and not run.complete
    assert stored == [("ons_life_satisfaction", "ons_0_10", 7, False), ("ons_worthwhile", "ons_0_10", 8, False)]

    await bot.stop()  # a restart loses nothing: the place is in the database
    clock.advance(timedelta(days=1))
    bot = await start_bot(term_settings)
    await user.send("/checkin")
    assert "Question 3 of 8" in user.last_text() and "Overall, how happy did you feel yesterday?" in user.last_text()
    await user.tap("9")
    assert 'On a scale where nought is "not at all anxious" and 10 is "completely anxious"' in user.last_text()
    await user.tap("2")
    run, stored = await answers_of(bot, member, "ons4")
    assert run.complete and run.paused_at is None and run.answered_as == "self"
    assert stored == [
        ("ons_life_satisfaction", "ons_0_10", 7, False), ("ons_worthwhile", "ons_0_10", 8, False),
        ("ons_happiness", "ons_0_10", 9, False), ("ons_anxiety", "ons_anxiety_0_10", 2, False),
    ]

    assert "Question 5 of 8" in user.last_text() and "How often do you feel lonely?" in user.last_text()
    assert user.buttons() == [["Often/always"], ["Some of the time"], ["Occasionally"], ["Hardly ever"], ["Never"],
                              ["Skip this question"], ["⏸ Pause — finish later"]]
    await user.tap("Hardly ever")
    await user.tap("Skip this question")
    await user.tap("⏸ Pause — finish later")
    await user.tap("▶️ Continue")
    assert "How often do you feel left out?" in user.last_text()
    await user.tap("Some of the time")
    await user.tap("Often")
    assert user.last_text() == "Thank you! That is all. Your answers help a lot."
    run, stored = await answers_of(bot, member, "loneliness")
    assert run.complete and stored == [
        ("loneliness_direct", "ons_loneliness_1_5", 2, False), ("ucla_lack_companionship", "ucla_1_3", None, True),
        ("ucla_left_out", "ucla_1_3", 2, False), ("ucla_isolated", "ucla_1_3", 3, False),
    ]
    await user.send("/checkin")
    assert user.last_text() == "There are no questions waiting for you right now. Thank you!"


async def test_low_wellbeing_scores_get_help_numbers_and_raise_no_alert(term_bot, api, clock):
    user, member = await invited(term_bot, api, clock, 804, "Di")
    await user.tap("▶️ Start")
    await user.tap("5")  # satisfaction: medium
    await user.tap("0")  # worthwhile: not a trigger
    assert not any("Samaritans" in text for text in user.texts())
    await user.tap("4")  # happiness 0-4: low
    texts = user.texts()
    assert "Samaritans: call 116 123" in texts[-2] and "Question 4 of 8" in texts[-1]
    await user.tap("6")  # anxiety 6-10: high
    assert sum("Samaritans" in text for text in user.texts()) == 2
    assert "Question 5 of 8" in user.last_text()
    assert await term_bot.store.unacknowledged_alerts("talk_request") == []
    # The help message offers someone to talk to; pressing it alerts the lead (without the score).
    await user.tap("💬 I'd like someone to talk to")
    (alert,) = await term_bot.store.unacknowledged_alerts("talk_request")
    assert (alert.member_id, alert.session_id, alert.hub_id) == (member.id, None, "woking")


async def test_another_language_is_told_why_and_offered_english_or_to_skip(term_bot, api, clock):
    olena, petro = api.user(805, "Olena"), api.user(806, "Petro")
    await join(term_bot, olena, language="uk")
    petro_member = await join(term_bot, petro, language="uk")
    clock.set(START_INVITE)
    await term_bot.dispatch()
    note = term_bot.services.texts.get("measure.language_note", "uk")
    for person in (olena, petro):
        assert note in person.last_text()
        assert len(person.buttons()) == 2

    await olena.tap(term_bot.services.texts.get("measure.button_english", "uk"))
    assert SATISFACTION in olena.last_text(), "the validated English wording"

    await petro.tap(term_bot.services.texts.get("measure.button_not_now", "uk"))
    runs = await term_bot.store.measure_runs_for(petro_member.id, "woking", "Winter 2026", "start")
    assert len(runs) == 2 and all(run.complete for run in runs)
    answers = [a for run in runs for a in await term_bot.store.measure_answers(run.id)]
    assert len(answers) == 8 and all(a.skipped and a.value is None for a in answers)
    await petro.send("/checkin")
    assert petro.last_text() == term_bot.services.texts.get("measure.nothing_waiting", "uk")


async def test_a_carer_says_once_who_answers_before_the_questions(term_bot, api, clock):
    user, member = await invited(term_bot, api, clock, 807, "Ema", role="carer")
    await user.tap("▶️ Start")
    assert "who answers these questions?" in user.last_text()
    await user.tap("We answer together")
    assert SATISFACTION in user.last_text()
    await user.tap("6")
    run, _ = await answers_of(term_bot, member, "ons4")
    assert run.answered_as == "with_support"


async def test_the_end_of_term_invitation_follows_the_last_session(term_bot, api, clock):
    user = api.user(808, "Fin")
    await join(term_bot, user)
    clock.set(LAST_SESSION_ENDS + timedelta(hours=2))
    await term_bot.dispatch()
    assert "It is the end of term." in user.last_text()
    assert not any("start of term" in text for text in user.texts()), "too late for the start invitation"
    (invite,) = await term_bot.store.deliveries_where(kind=measures.INVITE_KIND)
    assert invite.payload["point"] == "end" and invite.payload["term"] == "Winter 2026"


async def test_without_consent_taps_are_not_stored(term_bot, api, clock):
    user, member = await invited(term_bot, api, clock, 809, "Gil")
    await user.tap("▶️ Start")
    await term_bot.store.withdraw_consent(member.id, "wellbeing", clock.now())
    calls = await user.tap("7")
    assert any("did not save" in c.params.get("text", "") for c in calls if c.method == "answerCallbackQuery")
    _, stored = await answers_of(term_bot, member, "ons4")
    assert stored == []


async def test_forged_measure_taps_change_nothing_and_are_answered(term_bot, api, clock):
    user, member = await invited(term_bot, api, clock, 810, "Hal")
    other, _ = await invited(term_bot, api, clock, 811, "Ida")
    await user.tap("▶️ Start")
    run, _ = await answers_of(term_bot, member, "ons4")
    invites = await term_bot.store.deliveries_where(kind=measures.INVITE_KIND)
    (invite,) = [d for d in invites if d.member_id == member.id]
    for person, data in ((other, f"ms:{run.id}:0:7"), (other, f"mi:{invite.id}:go"), (other, f"mi:{invite.id}:no"),
                         (user, f"ms:{run.id}:0:11"), (user, f"ms:{run.id}:0:-1"), (user, f"ms:{run.id}:0:seven"),
                         (user, f"ms:{run.id}:1:7"), (user, f"ms:{run.id}:0"), (user, "ms:99999:0:7"),
                         (user, f"mi:{invite.id}:on_behalf"), (user, f"mi:{invite.id}:yes"), (user, "mi:99999:go")):
        calls = await person.tap_data(data)
        assert any(c.method == "answerCallbackQuery" for c in calls), data
    run, stored = await answers_of(term_bot, member, "ons4")
    assert stored == [] and run.position == 0
    assert await term_bot.store.answer_mode(member.id) is None
    await user.tap("7")
    calls = await user.tap_data(f"ms:{run.id}:0:3")  # the same question again: a double tap
    assert any(c.method == "answerCallbackQuery" for c in calls)
    _, stored = await answers_of(term_bot, member, "ons4")
    assert stored == [("ons_life_satisfaction", "ons_0_10", 7, False)]


LICENSED = """
id = "licensed_demo"
name = "A licensed scale (test stand-in, not a real instrument)"
language = "en"
intro = "Two statements about the last two weeks."
copyright = "© Example Licence Holder. Used under licence."

[scales.five]
options = [
    { value = 1, label = "None of the time" },
    { value = 2, label = "Rarely" },
    { value = 3, label = "Some of the time" },
    { value = 4, label = "Often" },
    { value = 5, label = "All of the time" },
]

[[items]]
id = "demo_one"
scale = "five"
text = "Test statement one."

[[items]]
id = "demo_two"
scale = "five"
text = "Test statement two."
"""


async def test_a_licensed_set_is_added_by_configuration_with_its_copyright_line(start_bot, api, clock, db_path,
                                                                               tmp_path):
    path = tmp_path / "licensed.toml"
    path.write_text(LICENSED, encoding="utf-8")
    settings = make_settings(api, db_path, hubs=[hub_settings(terms=[WINTER])],
                             wellbeing={"extra_question_sets": [str(path)]})
    bot = await start_bot(settings)
    user, member = await invited(bot, api, clock, 812, "Jo")
    await user.tap("Not this time")
    runs = await bot.store.measure_runs_for(member.id, "woking", "Winter 2026", "start")
    assert [r.question_set for r in runs] == ["ons4", "loneliness", "licensed_demo"]

    other, _ = await invited(bot, api, clock, 813, "Kit")
    await other.tap("▶️ Start")
    for _ in range(8):
        await other.tap("Skip this question")
    assert "Question 9 of 10" in other.last_text()
    assert "Two statements about the last two weeks." in other.last_text()
    assert "© Example Licence Holder. Used under licence." in other.last_text()
    await other.tap("Rarely")
    assert "Test statement two." in other.last_text()


async def test_a_broken_extra_question_set_stops_the_bot_with_its_name(api, db_path, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(LICENSED.replace('scale = "five"', 'scale = "six"', 1), encoding="utf-8")
    settings = make_settings(api, db_path, wellbeing={"extra_question_sets": [str(path)]})
    with pytest.raises(QuestionSetError, match=r"broken\.toml.*unknown scale six"):
        build_application(settings)
    settings = make_settings(api, db_path, wellbeing={"extra_question_sets": [str(tmp_path / "missing.toml")]})
    with pytest.raises(QuestionSetError, match=r"missing\.toml"):
        build_application(settings)


async def test_a_measure_tap_is_answered_as_its_next_question_is_shown_in_one_round_trip(term_bot, api, clock):
    """Each request takes Telegram 0.4 s here: the tap's answer and the next question reach it together, so the
    person's button stops spinning as the question changes, not a round trip later."""
    user, _ = await invited(term_bot, api, clock, 807, "Ed")
    await user.tap("▶️ Start")
    api.reply_delay = 0.4
    try:
        calls = await user.tap("7")
    finally:
        api.reply_delay = 0.0
    (answer,) = [c for c in calls if c.method == "answerCallbackQuery"]
    (edit,) = [c for c in calls if c.method == "editMessageText"]
    assert abs(answer.at - edit.at) < 0.3, "sent one after the other"
    assert "Question 2 of 8" in user.last_text()


async def test_after_a_low_answer_help_and_the_next_question_go_out_even_when_the_tap_cannot_be_answered(
    term_bot, api, clock, monkeypatch
):
    user, member = await invited(term_bot, api, clock, 808, "Flo")
    await user.tap("▶️ Start")
    await user.tap("5")
    await user.tap("5")
    taps_answered_too_late(api, monkeypatch)
    await user.tap("2", wait=False)  # happiness 0-4: low
    await api.wait_for(lambda call: call.method == "sendMessage" and "Question 4 of 8" in call.params["text"])
    texts = user.texts()
    assert "Samaritans: call 116 123" in texts[-2] and "Question 4 of 8" in texts[-1]
    _, stored = await answers_of(term_bot, member, "ons4")
    assert stored[-1] == ("ons_happiness", "ons_0_10", 2, False)
