"""Co-design over the local Bot API: a coordinator asks the hub a question, members answer and change their answers
with one tap, it closes (at its time, across a restart, or by the coordinator), the results reach the coordinators
and the weekly summary; members send ideas, a distressed "idea" is answered with the help numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.jobs.codesign import IDEA_KIND, QUESTION_KIND, RESULTS_KIND
from tests.conftest import COORDINATOR_ID, OTHER_COORDINATOR_ID, hub_settings, make_settings
from tests.reminder_helpers import add_member, answered

QUESTION = "What shall we play next week?"
OPTIONS = ("Beatles", "Folk songs", "Sea shanties")
THURSDAY = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # three days after the fixtures' Monday 08:00
NEXT_MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CARD = f"""🗳️ Woking Community Hub asks:
{QUESTION}

Tap one answer. You can change it until Thursday 26 November at 08:00."""


@pytest.fixture
def summary_settings(api, db_path):
    woking = hub_settings(weekly_summary={"enabled": True})
    camden = hub_settings(id="camden", name="Camden Hub", coordinators=[OTHER_COORDINATOR_ID],
                          safeguarding_lead=OTHER_COORDINATOR_ID, weekly=[{"weekday": "thursday", "start": "16:00"}])
    return make_settings(api, db_path, hubs=[woking, camden])


async def ask(api, *, closing: str = "In 3 days", question: str = QUESTION, options=OPTIONS):
    coordinator = api.user(COORDINATOR_ID, "Coordinator")
    await coordinator.send("/ask")
    assert "Type your question for everyone in Woking Community Hub" in coordinator.last_text()
    await coordinator.send(question)
    assert coordinator.last_text().startswith("Now type the answers people can tap")
    await coordinator.send("\n".join(options))
    assert coordinator.last_text() == "When should the question close? You will get the results then."
    await coordinator.tap(closing)
    return coordinator


def cards(api, chat_id: int) -> list[str]:
    return [c.text for c in api.sent_ok("sendMessage", chat_id) if c.text and c.text.startswith("🗳️ Woking")]


def toast(calls) -> str:
    return next(c for c in calls if c.method == "answerCallbackQuery").params.get("text", "")


async def test_a_question_is_answered_and_changed_by_members_closed_and_in_the_weekly_summary(
        start_bot, summary_settings, api, clock):
    bot = await start_bot(summary_settings)
    people = {user_id: await add_member(bot, user_id, f"M{user_id}") for user_id in range(1101, 1108)}
    await add_member(bot, 1150, "Cam", hubs=("camden",))
    coordinator = await ask(api)
    assert coordinator.texts()[-3:] == ["This is how it will look:",
                                        f"{CARD}\n\n• Beatles\n• Folk songs\n• Sea shanties",
                                        "Send this to 7 members of Woking Community Hub?\n"
                                        "It closes Thursday 26 November at 08:00."]
    await coordinator.tap("Send it")
    assert coordinator.last_text() == ("Sending to 7 members of Woking Community Hub now.\nIt closes Thursday "
                                       "26 November at 08:00. To close it sooner, send /questions.")
    await bot.dispatch()
    for user_id in people:
        assert cards(api, user_id) == [CARD]
        assert api.user(user_id, "x").buttons() == [["Beatles"], ["Folk songs"], ["Sea shanties"]]
    assert cards(api, 1150) == []  # another hub's member is not asked
    [question] = await bot.store.open_questions(["woking"])

    taps = {1101: "Beatles", 1102: "Beatles", 1103: "Folk songs", 1104: "Beatles", 1105: "Sea shanties",
            1106: "Folk songs", 1107: "Beatles"}
    for user_id, label in taps.items():
        calls = await api.user(user_id, "x").tap(label)
        assert toast(calls) == f"Thank you! Your answer is saved: {label}."
    member = api.user(1103, "x")
    assert member.last_text().endswith("✓ Your answer: Folk songs. To change it, tap another one.")
    assert member.buttons() == [["Beatles"], ["✓ Folk songs"], ["Sea shanties"]]
    calls = await member.tap("Beatles")  # a second tap changes it
    assert toast(calls) == "Changed. Your answer is now: Beatles."
    assert member.buttons() == [["✓ Beatles"], ["Folk songs"], ["Sea shanties"]]
    calls = await api.user(1101, "x").tap("✓ Beatles")  # the same answer again changes nothing
    assert toast(calls) == "You already chose Beatles. Nothing has changed."
    assert not [c for c in calls if c.method.startswith("editMessage")]

    # Forged or stale buttons change nothing: no such answer, no such question, another hub's member, nonsense.
    for user_id, data in ((1105, f"cq:{question.id}:5"), (1105, "cq:999999:0"), (1150, f"cq:{question.id}:0"),
                          (1105, "cq:x:0"), (1105, f"cq:{question.id}:0:1"), (1105, f"cq:{question.id}:-1")):
        calls = await api.user(user_id, "x").tap_data(data)
        assert answered(calls), data
    tally = await bot.store.question_tally(question.id)
    assert tally.counts == (5, 1, 1) and tally.answered == 7

    clock.set(THURSDAY)
    await bot.dispatch()
    public, private = [c.text for c in api.sent_ok("sendMessage", COORDINATOR_ID)
                       if c.text and c.text.startswith("🗳️ Results")]
    assert public == ("🗳️ Results from Woking Community Hub: What shall we play next week?\n"
                      "Numbers under 5 show as <5, so you can forward this message.\n\n"
                      "Asked 7 members. 7 answered.\n• Beatles: 5\n• Folk songs: <5\n• Sea shanties: <5")
    assert private.endswith("🔒 For you only. The exact counts:\n\n"
                            "Asked 7 members. 7 answered.\n• Beatles: 5\n• Folk songs: 1\n• Sea shanties: 1")
    assert not any("Results" in (c.text or "") for c in api.sent_ok("sendMessage", OTHER_COORDINATOR_ID))
    late = api.user(1105, "x")
    card = next(m for m in reversed(late.messages()) if m.get("text", "").startswith("🗳️"))["message_id"]
    calls = await late.tap("Folk songs", message_id=card)  # after it closed
    assert toast(calls) == "This question has closed. Nothing has changed."
    closed = next(m for m in late.messages() if m["message_id"] == card)
    assert closed["text"] == ("🗳️ Woking Community Hub asked:\nWhat shall we play next week?\n\n"
                              "✓ Your answer: Sea shanties.\n\nThis question has closed. Thank you.")
    assert late.buttons(card) == []
    assert (await bot.store.question_tally(question.id)).counts == (5, 1, 1)

    clock.set(NEXT_MONDAY)
    await bot.dispatch()
    summary = next(c.text for c in api.sent_ok("sendMessage", COORDINATOR_ID)
                   if c.text and c.text.startswith("📊 Woking Community Hub: the week of Monday 23 November"))
    assert ("Co-design\nWhat shall we play next week? (7 answered)\n• Beatles: 5\n• Folk songs: <5\n"
            "• Sea shanties: <5\nIdeas from members: 0") in summary
    results = [c for c in api.sent_ok("sendMessage", COORDINATOR_ID) if (c.text or "").startswith("🗳️ Results")]
    assert len(results) == 2  # once, whatever the later ticks


async def test_closing_at_its_time_survives_a_restart_and_the_results_come_once(start_bot, settings, api, clock):
    bot = await start_bot(settings)
    for user_id in (1201, 1202):
        await add_member(bot, user_id, f"M{user_id}")
    coordinator = await ask(api, closing="In 1 day")
    await coordinator.tap("Send it")
    await bot.dispatch()
    await api.user(1201, "x").tap("Sea shanties")
    await bot.stop()
    clock.set(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))  # the bot was down when it should have closed
    bot = await start_bot(settings)
    await bot.dispatch()
    await bot.dispatch()
    results = [c.text for c in api.sent_ok("sendMessage", COORDINATOR_ID) if (c.text or "").startswith("🗳️ Results")]
    assert len(results) == 2 and results[1].endswith("Asked 2 members. 1 answered.\n• Beatles: 0\n• Folk songs: 0\n"
                                                      "• Sea shanties: 1")
    [question] = await bot.store.closed_question_tallies("woking", datetime(2026, 11, 1, tzinfo=UTC), clock.now())
    assert question.question.closed_at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # closed at its time
    assert question.question.closed_by is None
    rows = await bot.store.deliveries_where(kind=RESULTS_KIND)
    assert len(rows) == 2 and {row.state for row in rows} == {"sent"}


async def test_a_coordinator_closes_a_question_early_with_questions_once(bot, api):
    for user_id in (1301, 1302, 1303):
        await add_member(bot, user_id, f"M{user_id}")
    coordinator = await ask(api, closing="When I close it")
    assert "It closes Monday 21 December at 08:00." in coordinator.last_text()  # by itself after four weeks
    await coordinator.tap("Send it")
    await bot.dispatch()
    await api.user(1302, "x").tap("Folk songs")
    await coordinator.send("/questions")
    assert coordinator.last_text() == ("🗳️ Woking Community Hub: What shall we play next week?\n"
                                       "Answered so far: 1 of 3. Closes Monday 21 December at 08:00.")
    await coordinator.tap("Close it now")
    await coordinator.tap("No, keep it open")
    assert coordinator.last_text() == "It stays open. Nothing has changed."
    await coordinator.send("/questions")
    await coordinator.tap("Close it now")
    confirm = coordinator.messages()[-1]["message_id"]
    await coordinator.tap("Yes, close it", message_id=confirm)
    assert coordinator.last_text() == "Closed. The results are on their way to you."
    [question] = await bot.store.closed_question_tallies("woking", datetime(2026, 11, 1, tzinfo=UTC),
                                                          datetime(2026, 12, 31, tzinfo=UTC))
    calls = await coordinator.tap_data(f"ca:k:{question.question.id}", message_id=confirm)
    assert answered(calls)
    assert question.question.closed_by == COORDINATOR_ID
    await bot.dispatch()
    results = [c.text for c in api.sent_ok("sendMessage", COORDINATOR_ID) if (c.text or "").startswith("🗳️ Results")]
    assert len(results) == 2
    await coordinator.send("/questions")
    assert coordinator.last_text() == "No questions are open in your hubs. To ask one, send /ask."
    other = api.user(OTHER_COORDINATOR_ID, "Other")  # another hub's coordinator cannot close Woking's question
    calls = await other.tap_data(f"ca:k:{question.question.id}")
    assert "not available" in toast(calls)


async def test_bad_answers_and_bad_buttons_in_ask_are_refused_kindly(bot, api):
    await add_member(bot, 1401, "Ann")
    ann = api.user(1401, "Ann")
    await ann.send("/ask")
    assert ann.last_text() == "Sorry, that is not available to you."
    for data in ("ca:y:0", "ca:k:1", "ca:c:1"):
        assert "not available" in toast(await ann.tap_data(data))
    coordinator = api.user(COORDINATOR_ID, "Coordinator")
    await coordinator.send("/ask")
    await coordinator.send("x" * 201)
    assert coordinator.last_text() == "Please keep the question under 200 characters."
    await coordinator.send(QUESTION)
    await coordinator.send("Only one")
    assert coordinator.last_text() == "Please give 2 to 6 answers, one on each line."
    await coordinator.send("\n".join(f"Song {n}" for n in range(7)))
    assert coordinator.last_text() == "Please give 2 to 6 answers, one on each line."
    await coordinator.send("Folk\nfolk")
    assert coordinator.last_text() == "Two answers are the same. Please make each one different."
    await coordinator.send("Folk\n" + "y" * 41)
    assert coordinator.last_text() == "Please keep each answer under 40 characters."
    await coordinator.send("Folk\nJazz")
    assert coordinator.buttons()[0] == ["At the next session (Tuesday 24 November at 10:00)"]
    closing = coordinator.messages()[-1]["message_id"]
    await coordinator.send("tomorrow please")
    assert coordinator.last_text() == "Please tap one of the buttons above."
    for data in ("ca:c:99", "ca:c:x", "ca:z:abc", "ca:q:1"):
        assert answered(await coordinator.tap_data(data))
    await coordinator.tap("Cancel", message_id=closing)
    assert next(m for m in coordinator.messages() if m["message_id"] == closing)["text"] == "Stopped. Nothing was sent."
    assert await bot.store.open_questions(["woking"]) == []
    assert await bot.store.awaited_input(COORDINATOR_ID) is None


async def test_the_next_session_choice_closes_the_question_when_the_session_starts(bot, api):
    await add_member(bot, 1451, "Ann")
    coordinator = await ask(api, closing="At the next session")
    await coordinator.tap("Send it")
    [question] = await bot.store.open_questions(["woking"])
    assert question.closes_at == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def test_an_idea_from_help_reaches_the_hubs_coordinators(bot, api):
    await add_member(bot, 1501, "Ann")
    ann = api.user(1501, "Ann")
    await ann.send("/help")
    assert ann.buttons() == [["💡 I have an idea"]]
    await ann.tap("💡 I have an idea")
    assert ann.last_text().startswith("💡 Tell us your idea for Woking Community Hub, in your own words.")
    await ann.send("Could we sing in the park in the summer?")
    assert ann.last_text() == "Thank you! Your idea has gone to the coordinators of Woking Community Hub."
    assert await bot.store.awaited_input(1501) is None
    await bot.dispatch()
    coordinator = api.user(COORDINATOR_ID, "Coordinator")
    assert coordinator.texts() == ["💡 An idea from Ann for Woking Community Hub:\n\n"
                                   "Could we sing in the park in the summer?"]
    assert api.sent_ok("sendMessage", OTHER_COORDINATOR_ID) == []
    await ann.send("see you on Tuesday")  # the question has ended: other text is not another idea
    assert "Nobody reads this chat" in ann.last_text()
    rows = await bot.store.deliveries_where(kind=IDEA_KIND)
    assert len(rows) == 1 and rows[0].state == "sent"


async def test_a_member_of_two_hubs_picks_one_and_can_cancel(bot, api):
    await add_member(bot, 1502, "Bea", hubs=("woking", "camden"))
    bea = api.user(1502, "Bea")
    await bea.send("/idea")
    assert bea.buttons() == [["Woking Community Hub"], ["Camden Hub"]]
    await bea.tap("Camden Hub")
    await bea.tap("Cancel")
    assert bea.last_text() == "OK. Nothing was sent."
    await bea.send("A choir for dads")
    assert "Nobody reads this chat" in bea.last_text()
    await bea.send("/idea")
    await bea.tap("Camden Hub")
    await bea.send("A choir for dads")
    await bot.dispatch()
    assert api.user(OTHER_COORDINATOR_ID, "x").texts() == ["💡 An idea from Bea for Camden Hub:\n\nA choir for dads"]
    assert api.sent_ok("sendMessage", COORDINATOR_ID) == []
    for data in ("idea:h:7", "idea:zz:0", "idea:h:x"):
        assert answered(await bea.tap_data(data))


async def test_a_distressed_idea_is_answered_with_the_help_numbers_and_not_passed_on(bot, api):
    await add_member(bot, 1503, "Cy")
    cy = api.user(1503, "Cy")
    await cy.send("/idea")
    calls = await cy.send("I feel very alone and I do not want to be here anymore")
    replies = [c.text for c in calls if c.method == "sendMessage"]
    assert "116 123" in replies[0] and "999" in replies[0]
    assert replies[1] == "I have not passed this on as an idea.\nWhen you have an idea for your hub, send /idea."
    assert cy.buttons() == [["💬 I'd like someone to talk to"]]
    assert await bot.store.awaited_input(1503) is None
    assert await bot.store.member_codesign_counts((await bot.store.member_by_user(1503)).id) == (0, 0)
    await bot.dispatch()
    assert api.sent_ok("sendMessage", COORDINATOR_ID) == []


async def test_ideas_need_a_hub_that_takes_them_and_a_member(start_bot, api, db_path):
    settings = make_settings(api, db_path, hubs=[hub_settings(codesign={"ideas": False})])
    bot = await start_bot(settings)
    stranger = api.user(1601, "Stranger")
    await stranger.send("/idea")
    assert stranger.last_text() == "Please join a hub first.\nTap the invite link your hub gave you."
    await stranger.send("/help")
    assert stranger.buttons() == []
    await add_member(bot, 1602, "Dee")
    dee = api.user(1602, "Dee")
    await dee.send("/idea")
    assert dee.last_text() == ("Woking Community Hub is not taking ideas here just now. "
                               "Please tell a coordinator at a session.")


async def test_members_see_questions_and_ideas_in_their_language(bot, api):
    await add_member(bot, 1701, "Olena", language="uk")
    coordinator = await ask(api)
    await coordinator.tap("Send it")
    await bot.dispatch()
    olena = api.user(1701, "Olena")
    assert olena.last_text().startswith("🗳️ Woking Community Hub питає:\nWhat shall we play next week?")
    assert "четвер" in olena.last_text().lower()
    calls = await olena.tap("Folk songs")
    assert toast(calls) == "Дякуємо! Вашу відповідь збережено: Folk songs."


async def test_forgetting_a_member_removes_their_answers_and_ideas_and_only_theirs(bot, api):
    for user_id, name in ((1801, "Zed"), (1802, "Yan")):
        await add_member(bot, user_id, name)
    coordinator = await ask(api)
    await coordinator.tap("Send it")
    await bot.dispatch()
    await api.user(1801, "Zed").tap("Beatles")
    await api.user(1802, "Yan").tap("Beatles")
    for user_id, words in ((1801, "Zed's idea: a ceilidh"), (1802, "Yan's idea: more drums")):
        person = api.user(user_id, "x")
        await person.send("/idea")
        await person.send(words)
    zed = await bot.store.member_by_user(1801)
    yan = await bot.store.member_by_user(1802)
    [question] = await bot.store.open_questions(["woking"])
    zed_api = api.user(1801, "Zed")
    await zed_api.send("/mydata")
    assert zed_api.last_text().endswith("Answers to hub questions: 1\nIdeas you sent: 1")

    await zed_api.send("/forget")
    await zed_api.tap("Yes, delete everything")
    assert (await bot.store.question_tally(question.id)).counts == (1, 0, 0)
    assert await bot.store.member_codesign_counts(yan.id) == (1, 1)
    assert await bot.store.member_codesign_counts(zed.id) == (0, 0)
    assert await bot.store.where_values_appear(["a ceilidh"]) == []
    assert await bot.store.where_values_appear(["more drums"]) != []
    # Zed's idea, not yet delivered, is not delivered now; Yan's is.
    await bot.dispatch()
    texts = api.user(COORDINATOR_ID, "x").texts()
    assert not any("ceilidh" in text for text in texts) and any("more drums" in text for text in texts)
    assert [row.member_id for row in await bot.store.deliveries_where(kind=QUESTION_KIND)] == [yan.id]


async def test_retention_detaches_old_answers_and_removes_old_ideas_words(bot, api, clock):
    from bot.domain.retention import cutoffs

    await add_member(bot, 1901, "Old")
    coordinator = await ask(api)
    await coordinator.tap("Send it")
    await bot.dispatch()
    old = api.user(1901, "Old")
    await old.tap("Beatles")
    await old.send("/idea")
    await old.send("An old idea")
    member = await bot.store.member_by_user(1901)
    [question] = await bot.store.open_questions(["woking"])
    later = clock.now() + timedelta(days=bot.services.settings.retention.anonymise_answers_after_days + 1)
    done = await bot.store.retention_once(later.date(), cutoffs(later, bot.services.settings.retention), later)
    assert done.other_rows_detached == 2
    assert (await bot.store.question_tally(question.id)).counts == (1, 0, 0)  # the count stays
    assert await bot.store.member_codesign_counts(member.id) == (0, 0)
    assert await bot.store.idea_count("woking", datetime(2026, 1, 1, tzinfo=UTC), later) == (1, 0)
    assert await bot.store.where_values_appear(["An old idea"]) == []


async def test_a_question_goes_only_to_members_who_want_messages(bot, api):
    await add_member(bot, 2001, "Pia")
    paused = await add_member(bot, 2002, "Pat")
    await bot.store.set_paused(paused.id, True, bot.services.clock.now())
    coordinator = await ask(api)
    assert "Send this to 1 members of Woking Community Hub?" in coordinator.last_text()
    await coordinator.tap("Send it")
    await bot.dispatch()
    assert len(cards(api, 2001)) == 1 and cards(api, 2002) == []
    [question] = await bot.store.open_questions(["woking"])
    assert question.recipients == 1


async def test_an_answer_forged_onto_another_message_does_not_turn_it_into_the_question(bot, api):
    await add_member(bot, 2101, "Flo")
    coordinator = await ask(api)
    await coordinator.tap("Send it")
    await bot.dispatch()
    flo = api.user(2101, "Flo")
    [question] = await bot.store.open_questions(["woking"])
    reminder = next(m for m in flo.messages() if not m.get("text", "").startswith("🗳️"))
    calls = await flo.tap_data(f"cq:{question.id}:2", message_id=reminder["message_id"])
    assert toast(calls) == "Thank you! Your answer is saved: Sea shanties."  # her own answer: it counts
    assert not [c for c in calls if c.method.startswith("editMessage")]
    assert next(m for m in flo.messages() if m["message_id"] == reminder["message_id"])["text"] == reminder["text"]
