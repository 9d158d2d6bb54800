"""Issue 15 item 11, the smaller things people read and tap, over the local Bot API: /help names /consent, the
join's words in Ukrainian and Arabic, a new member's first session card, and an untick that is never lost."""

from __future__ import annotations

from tests.conftest import COORDINATOR_ID
from tests.reminder_helpers import add_member, next_session

RTL_MARKS = "\u200f\u200e\u2068\u2069"


def plain(text: str) -> str:
    return "".join(char for char in text if char not in RTL_MARKS)


async def test_help_names_consent_in_every_language(bot, api):
    for user_id, lang, says in ((1501, "en", "/consent shows or changes what you agreed to."),
                                (1502, "uk", "/consent показує або змінює, на що ви погодилися."),
                                (1503, "ar", "/consent يعرض ما وافقت عليه أو يغيّره.")):
        await add_member(bot, user_id, "Ann", language=lang)
        person = api.user(user_id, "Ann", language_code=lang)
        await person.send("/help")
        assert says in plain(person.last_text()), lang
        assert "/mydata" in person.last_text()


async def _join_until_age(person, labels: list[str], name: str) -> None:
    await person.send("/start woking")
    for label in labels:
        await person.tap(label)
    await person.send(name)


async def test_ukrainian_asks_a_companions_age_without_a_wrong_case(bot, api):
    olena = api.user(1511, "Олена", language_code="uk")
    await _join_until_age(olena, ["Українська", "Так, мені є 16", "Так, добре", "Так, питайте", "Член родини",
                                  "Додати когось"], "Микола")
    assert olena.last_text() == "Микола: скільки років?"  # not "Скільки років має Микола?"
    await olena.tap("Від 5 до 11")
    await olena.tap("Моя дитина")
    assert "✅ Це всі" in olena.buttons()[0]


async def test_arabic_says_that_is_everyone_not_that_is_everything(bot, api):
    amal = api.user(1512, "أمل", language_code="ar")
    await _join_until_age(amal, ["العربية", "نعم، 16 أو أكثر", "نعم، موافق", "نعم، اسألني", "فرد من العائلة",
                                 "أضف شخصًا"], "سامي")
    await amal.tap("من 5 إلى 11")
    await amal.tap("طفلي")
    labels = [plain(label) for row in amal.buttons() for label in row]
    assert "✅ هؤلاء هم الجميع" in labels and "✅ هذا كل شيء" not in labels
    await amal.tap("هؤلاء هم الجميع")
    welcome, card = amal.texts()[-2:]
    assert "سامي" in welcome
    # The next session's card comes at once, in Arabic, with its buttons.
    assert "Woking Community Hub" in card and len(amal.buttons()[0]) == 3


async def test_a_new_member_sees_the_next_session_card_at_once_and_can_answer_it(bot, api):
    from tests.test_join import join_as_family

    kit = api.user(1521, "Kit")
    await join_as_family(bot, kit)
    assert "Are you coming?" in kit.last_text()
    await kit.tap("Yes")
    session = await next_session(bot)
    member = await bot.store.member_by_user(1521)
    assert (await bot.store.rsvp(session.id, member.id)).answer == "yes"


async def test_an_untick_is_kept_even_without_confirm(bot, api, clock):
    """Untick someone in "Who is coming?", then leave without Confirm: the untick is saved, and the coordinator's
    count agrees."""
    session = await next_session(bot)
    mum = await add_member(bot, 1531, "Mum", companions=[("Kid", "age_5_11"), ("Gran", "older")])
    await bot.dispatch()  # the reminder card
    chat = api.user(1531, "Mum")
    await chat.tap("Yes")
    await chat.tap("Who is coming?")
    calls = await chat.tap("✓ Gran")
    note = next(c for c in calls if c.method == "answerCallbackQuery").params
    assert note.get("text") == "Saved."
    assert chat.buttons()[0] == ["✓ Kid", "Gran"]
    rsvp = await bot.store.rsvp(session.id, mum.id)
    companions = {c.name: c.id for c in await bot.store.companions_of(mum.id)}
    assert rsvp.answer == "yes" and list(rsvp.companion_ids) == [companions["Kid"]]
    # She never taps Confirm; the coordinator sees 2 people coming, not 3.
    coordinator = api.user(COORDINATOR_ID, "Coordinator")
    await coordinator.send("/sessions")
    assert "✅ Yes: 1 household, 2 people (1 adult, 1 child)" in coordinator.last_text()
    # Ticking her again is saved too.
    await chat.tap("Gran")
    assert chat.buttons()[0] == ["✓ Kid", "✓ Gran"]
    assert (await bot.store.rsvp(session.id, mum.id)).all_companions
