"""After-session check-ins over real HTTP: who is asked, when, what is stored, changes, carers, forged taps."""

from __future__ import annotations

from datetime import timedelta

from bot.domain import checkins as checkin_rules
from bot.jobs import checkins
from tests.conftest import hub_settings, make_settings
from tests.wellbeing_support import CHECKIN_QUESTION, checkin_due, join, next_session, session_ends_and_checkins_go_out

FEELING_BUTTONS = [["😀 Happier"], ["😐 About the same"], ["🙁 Less happy"], ["I couldn't come today"],
                   ["💬 I'd like someone to talk to"]]


async def test_reminder_yes_session_ends_checkin_arrives_and_both_taps_are_stored(bot, api, clock):
    anna = api.user(601, "Anna")
    member = await join(bot, anna, via_chat=True)
    session = await next_session(bot)
    clock.set(session.starts_at - timedelta(hours=1))  # the morning reminder
    await bot.dispatch()
    assert "Are you coming?" in anna.last_text()
    await anna.tap("Yes")
    assert (await bot.store.rsvp(session.id, member.id)).answer == "yes"

    clock.set(checkin_due(session) - timedelta(minutes=1))
    await bot.dispatch()
    assert not any(CHECKIN_QUESTION in text for text in anna.texts()), "too early"

    clock.set(checkin_due(session))
    await bot.dispatch()
    assert await checkin_states(bot) == ["sent"]
    assert CHECKIN_QUESTION in anna.last_text()
    assert "Woking Community Hub" in anna.last_text() and "Tuesday 24 November" in anna.last_text()
    assert anna.buttons() == FEELING_BUTTONS

    await anna.tap("😀 Happier")
    assert "Do you feel more connected to people here?" in anna.last_text()
    assert anna.buttons() == [["Yes", "A little", "Not really"], ["💬 I'd like someone to talk to"]]
    stored = await bot.store.checkin_of(session.id, member.id)
    assert (stored.feeling, stored.connected) == ("happier", None)

    await anna.tap("A little")
    assert "Thank you! Your answer is saved." in anna.last_text()
    assert "You can change it until 11:45 on Wednesday 25 November." in anna.last_text()
    stored = await bot.store.checkin_of(session.id, member.id)
    assert (stored.session_id, stored.hub_id, stored.feeling, stored.connected, stored.absent, stored.answered_as) == (
        session.id, "woking", "happier", "a_little", False, "self")
    assert stored.first_answered_at == checkin_due(session)
    # One message, edited at each step: nothing new piled up in the chat.
    assert sum(CHECKIN_QUESTION in text or "Your answer is saved" in text for text in anna.texts()) == 1


async def test_maybe_is_asked_too_and_no_is_not(bot, api, clock):
    may, nora = api.user(602, "May"), api.user(603, "Nora")
    maybe_member, no_member = await join(bot, may), await join(bot, nora)
    session = await next_session(bot)
    await bot.store.record_rsvp(session.id, maybe_member.id, "maybe", clock.now())
    await bot.store.record_rsvp(session.id, no_member.id, "no", clock.now())
    await session_ends_and_checkins_go_out(bot, clock, session)
    assert CHECKIN_QUESTION in may.last_text()
    assert not any(CHECKIN_QUESTION in text for text in nora.texts())


async def test_without_wellbeing_consent_there_is_no_checkin(bot, api, clock):
    ben = api.user(604, "Ben")
    member = await join(bot, ben, wellbeing=False)
    session = await next_session(bot)
    await bot.store.record_rsvp(session.id, member.id, "yes", clock.now())
    await session_ends_and_checkins_go_out(bot, clock, session)
    assert not any(CHECKIN_QUESTION in text for text in ben.texts())
    assert await bot.store.deliveries_where(kind=checkins.KIND) == []


async def test_withdrawing_consent_before_it_goes_out_skips_the_checkin(bot, api, clock):
    cara = api.user(605, "Cara")
    member = await join(bot, cara)
    session = await next_session(bot)
    await bot.store.record_rsvp(session.id, member.id, "yes", clock.now())
    clock.set(checkin_due(session) - timedelta(minutes=5))
    await bot.store.enqueue_deliveries([_row(member, session)], clock.now())  # planned, not yet sent
    await bot.store.withdraw_consent(member.id, "wellbeing", clock.now())
    clock.set(checkin_due(session))
    await bot.dispatch()
    assert await checkin_states(bot) == ["skipped"]
    assert not any(CHECKIN_QUESTION in text for text in cara.texts())


async def test_withdrawing_consent_after_it_arrived_means_taps_are_not_stored(bot, api, clock):
    dev = api.user(606, "Dev")
    member = await join(bot, dev)
    session = await next_session(bot)
    await bot.store.record_rsvp(session.id, member.id, "yes", clock.now())
    await session_ends_and_checkins_go_out(bot, clock, session)
    await bot.store.withdraw_consent(member.id, "wellbeing", clock.now())
    calls = await dev.tap("😀 Happier")
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert "did not save" in answer.params["text"]
    assert await bot.store.checkin_of(session.id, member.id) is None


async def test_i_couldnt_come_today_is_stored_as_an_absence(bot, api, clock):
    eli = api.user(607, "Eli")
    member = await join(bot, eli)
    session = await next_session(bot)
    await bot.store.record_rsvp(session.id, member.id, "yes", clock.now())
    await session_ends_and_checkins_go_out(bot, clock, session)
    await eli.tap("I couldn't come today")
    assert "We hope to see you next time." in eli.last_text()
    stored = await bot.store.checkin_of(session.id, member.id)
    assert (stored.absent, stored.feeling, stored.connected) == (True, None, None)


async def test_an_answer_can_be_changed_within_24_hours_and_not_after(bot, api, clock):
    fay = api.user(608, "Fay")
    member = await join(bot, fay)
    session = await next_session(bot)
    await bot.store.record_rsvp(session.id, member.id, "yes", clock.now())
    await session_ends_and_checkins_go_out(bot, clock, session)
    await fay.tap("😐 About the same")
    await fay.tap("Yes")

    clock.advance(timedelta(hours=23, minutes=59))
    await fay.tap("Change my answer")
    assert CHECKIN_QUESTION in fay.last_text()
    assert ["✓ 😐 About the same"] in fay.buttons()
    await fay.tap("😀 Happier")
    await fay.tap("✓ Yes")
    stored = await bot.store.checkin_of(session.id, member.id)
    assert (stored.feeling, stored.connected) == ("happier", "yes")
    assert stored.first_answered_at == checkin_due(session)

    clock.advance(timedelta(minutes=1))  # exactly 24 hours after the first answer
    calls = await fay.tap("Change my answer")
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert "can no longer be changed" in answer.params["text"]
    assert "Answers can only be changed for 24 hours." in fay.last_text()
    assert fay.buttons() == [] or "Change my answer" not in str(fay.buttons())
    # An old button on the message (a forged replay of it) is refused too, and nothing changes.
    await fay.tap_data(f"ci:{session.id}:f:less_happy")
    stored = await bot.store.checkin_of(session.id, member.id)
    assert (stored.feeling, stored.connected) == ("happier", "yes")


async def test_a_first_answer_days_later_is_kindly_refused(bot, api, clock):
    lia = api.user(615, "Lia")
    member = await join(bot, lia)
    session = await next_session(bot)
    await bot.store.record_rsvp(session.id, member.id, "yes", clock.now())
    await session_ends_and_checkins_go_out(bot, clock, session)
    clock.set(session.ends_at + checkin_rules.ANSWER_WITHIN)
    calls = await lia.tap("😀 Happier")
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert "this check-in has closed" in answer.params["text"]
    assert "this check-in has closed" in lia.last_text() and lia.buttons() == []
    assert await bot.store.checkin_of(session.id, member.id) is None


async def test_a_carer_is_asked_once_who_answers_and_every_answer_records_it(bot, api, clock):
    gwen = api.user(609, "Gwen")
    member = await join(bot, gwen, role="carer")
    first = await next_session(bot)
    await bot.store.record_rsvp(first.id, member.id, "yes", clock.now())
    await session_ends_and_checkins_go_out(bot, clock, first)
    assert "who answers these questions?" in gwen.last_text()
    assert gwen.buttons() == [["I answer for myself"], ["We answer together"], ["I answer for the person I support"]]
    await gwen.tap("I answer for the person I support")
    assert "How does the person you support feel now" in gwen.last_text(), "not 'how do you feel'"
    await gwen.tap("🙁 Less happy")
    await gwen.tap("Not really")
    assert (await bot.store.checkin_of(first.id, member.id)).answered_as == "on_behalf"

    second = await next_session(bot)
    await bot.store.record_rsvp(second.id, member.id, "yes", clock.now())
    await session_ends_and_checkins_go_out(bot, clock, second)
    assert "How does the person you support feel now" in gwen.last_text(), "asked once: the question comes first"
    await gwen.tap("😀 Happier")
    stored = await bot.store.checkin_of(second.id, member.id)
    assert (stored.feeling, stored.answered_as) == ("happier", "on_behalf")


async def test_a_hub_that_turns_off_the_connected_question_thanks_after_one_tap(start_bot, api, clock, db_path):
    settings = make_settings(api, db_path, hubs=[hub_settings(ask_connected=False, checkin_after_minutes=30)])
    bot = await start_bot(settings)
    hana = api.user(610, "Hana")
    member = await join(bot, hana)
    session = await next_session(bot)
    await bot.store.record_rsvp(session.id, member.id, "yes", clock.now())
    clock.set(checkin_due(session, minutes=29))
    await bot.dispatch()
    assert await checkin_states(bot) == []
    clock.set(checkin_due(session, minutes=30))
    await bot.dispatch()
    assert await checkin_states(bot) == ["sent"]
    await hana.tap("😀 Happier")
    assert "Thank you! Your answer is saved." in hana.last_text()
    assert "connected" not in hana.last_text()


async def test_the_checkin_is_sent_once_across_dispatches_and_a_restart(start_bot, settings, api, clock):
    first = await start_bot(settings)
    ivy = api.user(611, "Ivy")
    member = await join(first, ivy)
    session = await next_session(first)
    await first.store.record_rsvp(session.id, member.id, "yes", clock.now())
    await session_ends_and_checkins_go_out(first, clock, session)
    await first.dispatch()
    await first.stop()
    second = await start_bot(settings)
    clock.advance(timedelta(minutes=5))
    await second.dispatch()
    assert sum(CHECKIN_QUESTION in text for text in ivy.texts()) == 1
    assert len(await second.store.deliveries_where(kind=checkins.KIND)) == 1


async def test_a_cancelled_session_gets_no_checkin(bot, api, clock):
    jo = api.user(612, "Jo")
    member = await join(bot, jo)
    session = await next_session(bot)
    await bot.store.record_rsvp(session.id, member.id, "yes", clock.now())
    await bot.store.cancel_session(session.id, "snow", clock.now())
    await session_ends_and_checkins_go_out(bot, clock, session)
    assert await checkin_states(bot) == []
    assert not any(CHECKIN_QUESTION in text for text in jo.texts())


async def test_forged_checkin_taps_change_nothing_and_are_answered(bot, api, clock):
    kim, lee = api.user(613, "Kim"), api.user(614, "Lee")
    kim_member, lee_member = await join(bot, kim), await join(bot, lee)
    session = await next_session(bot)
    await bot.store.record_rsvp(session.id, kim_member.id, "yes", clock.now())
    await session_ends_and_checkins_go_out(bot, clock, session)

    # Lee was never asked about this session: Kim's buttons, replayed by Lee, change nothing.
    for forged in (f"ci:{session.id}:f:happier", f"ci:{session.id}:x:absent", f"ci:{session.id}:a:on_behalf"):
        calls = await lee.tap_data(forged)
        assert any(c.method == "answerCallbackQuery" for c in calls), forged
    assert await bot.store.checkin_of(session.id, lee_member.id) is None
    assert await bot.store.answer_mode(lee_member.id) is None

    # Kim's own session, but answers the question does not offer, or malformed data.
    for forged in (f"ci:{session.id}:f:ecstatic", f"ci:{session.id}:c:maybe", f"ci:{session.id}:x:present",
                   f"ci:{session.id}:a:self", f"ci:{session.id}:e:delete", f"ci:{session.id}:z:happier",
                   "ci:99999:f:happier", f"ci:{session.id}:f", "ci:-1:f:happier", f"ci:{session.id}:f:happier:x"):
        calls = await kim.tap_data(forged)
        assert any(c.method == "answerCallbackQuery" for c in calls), forged
    assert await bot.store.checkin_of(session.id, kim_member.id) is None
    assert await bot.store.answer_mode(kim_member.id) is None, "only carers say who answers"


async def checkin_states(bot) -> list[str]:
    return [delivery.state for delivery in await bot.store.deliveries_where(kind=checkins.KIND)]


def _row(member, session):
    from bot.domain.ledger import NewDelivery

    due = checkin_due(session)
    return NewDelivery(kind=checkins.KIND, dedupe_key=checkins.dedupe_key(session.id, member.id),
                       chat_id=member.chat_id, due_at=due, member_id=member.id, hub_id=session.hub_id,
                       session_id=session.id, expires_at=due + checkins.SEND_WITHIN)


async def carer_supporting(bot, api, user_id: int, name: str, supported: str, language: str = "en"):
    from bot.domain.consent import CONTACT, TEXT_VERSIONS, WELLBEING
    from bot.domain.people import NewCompanion

    user = api.user(user_id, name, language_code=language)
    member = await bot.store.complete_join(
        telegram_user_id=user_id, chat_id=user_id, first_name=name, language=language, role="carer", hub_id="woking",
        consents={CONTACT: TEXT_VERSIONS[CONTACT], WELLBEING: TEXT_VERSIONS[WELLBEING]},
        companions=[NewCompanion(supported, "older", "supported")], now=bot.services.clock.now(),
    )
    return user, member


async def test_a_carer_answering_for_the_person_they_support_is_asked_about_them_by_name(bot, api, clock):
    rhys, member = await carer_supporting(bot, api, 611, "Rhys", "Mykola")
    session = await next_session(bot)
    await bot.store.record_rsvp(session.id, member.id, "yes", clock.now())
    await session_ends_and_checkins_go_out(bot, clock, session)
    await rhys.tap("I answer for the person I support")
    assert "How does Mykola feel now, compared with when Mykola arrived?" in rhys.last_text()
    assert "you feel" not in rhys.last_text()
    assert ["Mykola couldn't come today"] in rhys.buttons()
    await rhys.tap("😀 Happier")
    assert "Does Mykola feel more connected to people here?" in rhys.last_text()


async def test_a_ukrainian_carer_is_asked_about_the_person_they_support_in_ukrainian(bot, api, clock):
    oksana, member = await carer_supporting(bot, api, 612, "Oksana", "Микола", language="uk")
    session = await next_session(bot)
    await bot.store.record_rsvp(session.id, member.id, "yes", clock.now())
    await session_ends_and_checkins_go_out(bot, clock, session)
    await oksana.tap("Я відповідаю за людину, якій допомагаю")
    assert "Як почувається Микола тепер" in oksana.last_text()
