"""Invite links with a per-hub code (/invite: the link, its QR code, a new code on request), approval of new
members by a coordinator, and max_party (companions per answer), over real HTTP against the local Bot API."""

from __future__ import annotations

import re

import pytest

from bot.messages.qr import qr_png
from bot.reports.charts import PNG_SIGNATURE
from tests.conftest import COORDINATOR_ID, OTHER_COORDINATOR_ID, hub_settings, make_settings
from tests.reminder_helpers import add_member, next_session

LINK = re.compile(r"https://t\.me/imm_hub_bot\?start=([a-z0-9]{12})")
NOT_VALID = "Sorry, this invite link has expired or is not right.\nPlease ask your hub coordinator for the new link."
REFUSAL = "Sorry, that is not available to you."
CAMDEN = {"id": "camden", "name": "Camden Hub", "coordinators": [OTHER_COORDINATOR_ID],
          "weekly": [{"weekday": "thursday", "start": "16:00"}]}


def settings_with(api, db_path, **woking):
    """Woking closed to its plain link (the default for a real hub), with the given settings."""
    return make_settings(api, db_path, hubs=[hub_settings(open_link=False, **woking), hub_settings(**CAMDEN)])


@pytest.fixture
async def closed(start_bot, api, db_path):
    return await start_bot(settings_with(api, db_path))


async def invite(api, coordinator) -> str:
    """/invite as the coordinator: the code of the link shown (checked to come with its QR code)."""
    before, after = len(api.sent_ok("sendPhoto", coordinator.id)), len(api.calls)
    await coordinator.send("/invite")
    # The QR code is drawn in a worker thread (the first one also loads the library): wait for it.
    await api.wait_for(lambda c: c.method == "sendPhoto" and c.chat_id == coordinator.id, after=after)
    await api.wait_quiet(coordinator.id, coordinator.quiet, 5.0)
    text = next(t for t in reversed(coordinator.texts()) if LINK.search(t))
    link = LINK.search(text).group(0)
    photos = api.sent_ok("sendPhoto", coordinator.id)
    assert len(photos) == before + 1, "the link comes with its QR code"
    picture = photos[-1].params["photo"]["content"]
    assert picture.startswith(PNG_SIGNATURE) and picture == qr_png(link), "the QR code encodes this very link"
    assert "Woking Community Hub" in photos[-1].params.get("caption", "")
    return LINK.search(text).group(1)


async def join(user, payload: str) -> None:
    await user.send(f"/start {payload}")
    for label in ("English", "Yes, 16 or older", "Yes, that is fine", "No, thank you", "Family member"):
        await user.tap(label)
    await user.tap("Just me")


async def nothing_kept(bot, user_id: int) -> bool:
    return await bot.store.member_by_user(user_id) is None and await bot.store.join_draft(user_id) is None


async def test_invite_shows_the_link_and_its_qr_code_and_the_link_lets_people_join(closed, api):
    bot, cleo = closed, api.user(COORDINATOR_ID, "Cleo")
    code = await invite(api, cleo)
    assert "Invite link for Woking Community Hub" in next(t for t in cleo.texts() if LINK.search(t))
    shown = next(c for c in api.sent_ok("sendMessage", COORDINATOR_ID) if LINK.search(c.text or ""))
    assert _labels(shown) == [["🔄 Make a new link"]]
    assert await invite(api, cleo) == code, "the link stays the same until a coordinator asks for a new one"

    anna = api.user(601, "Anna")
    await join(anna, code)
    assert "You have joined Woking Community Hub" in anna.texts()[-2]  # then the next session's card
    member = await bot.store.member_by_user(601)
    assert await bot.store.hub_ids_of_member(member.id) == ["woking"]


async def test_a_hubs_plain_name_no_longer_lets_anyone_in(closed, api):
    bot = closed
    guesser = api.user(602, "Guess")
    await guesser.send("/start woking")
    assert guesser.last_text() == NOT_VALID
    await guesser.send("/start nowhere")
    assert guesser.last_text() == NOT_VALID, "the same words as an unknown link"
    await guesser.send("/start " + "a" * 12)  # shaped like a code, but nobody's
    assert guesser.last_text() == NOT_VALID
    assert await nothing_kept(bot, 602)


async def test_a_new_link_retires_the_old_one_which_is_refused_kindly(closed, api):
    bot, cleo = closed, api.user(COORDINATOR_ID, "Cleo")
    old = await invite(api, cleo)
    await cleo.tap("Make a new link")
    assert "The old link and its QR code will stop working at once" in cleo.last_text()
    await cleo.tap("No, keep this link")
    assert cleo.last_text() == "The invite link for Woking Community Hub has not changed."
    assert await bot.store.current_invite_code("woking") == old

    await invite(api, cleo)
    await cleo.tap("Make a new link")
    await cleo.tap("Yes, make a new link")
    new = next(LINK.search(t).group(1) for t in reversed(cleo.texts()) if LINK.search(t))
    assert new != old and await bot.store.current_invite_code("woking") == new
    assert any("The old link for Woking Community Hub no longer works" in t for t in cleo.texts())
    photo = api.sent_ok("sendPhoto", COORDINATOR_ID)[-1].params["photo"]["content"]
    assert photo == qr_png(f"https://t.me/imm_hub_bot?start={new}"), "a new QR code for the new link"

    late = api.user(603, "Late")
    await late.send(f"/start {old}")
    assert late.last_text() == NOT_VALID
    assert await nothing_kept(bot, 603), "the old link changed nothing"
    await join(late, new)
    assert "You have joined Woking Community Hub" in late.texts()[-2]


async def test_forged_invite_buttons_change_nothing(closed, api):
    bot, cleo = closed, api.user(COORDINATOR_ID, "Cleo")
    code = await invite(api, cleo)
    for user in (api.user(604, "Member"), api.user(OTHER_COORDINATOR_ID, "Olu")):
        for forged in ("inv:0:yes", "inv:0", "inv:0:new", "inv:9:yes", "inv:x:yes", "inv:0:yes:1"):
            calls = await user.tap_data(forged)
            answer = next(c for c in calls if c.method == "answerCallbackQuery")
            assert answer.params.get("text") == REFUSAL, forged
        assert not any(LINK.search(t) for t in user.texts())
    assert await bot.store.current_invite_code("woking") == code
    member = api.user(604, "Member")
    await member.send("/invite")
    assert member.last_text() == REFUSAL and api.sent_ok("sendPhoto", 604) == []


async def test_a_hub_that_approves_new_members(start_bot, api, db_path):
    bot = await start_bot(settings_with(api, db_path, approval=True))
    cleo = api.user(COORDINATOR_ID, "Cleo")
    code = await invite(api, cleo)
    anna = api.user(611, "Anna")
    await anna.send(f"/start {code}")
    for label in ("English", "Yes, 16 or older", "Yes, that is fine", "No, thank you", "Family member",
                  "Add someone"):
        await anna.tap(label)
    await anna.send("Mia")
    await anna.tap("5 to 11")
    await anna.tap("My child")
    await anna.tap("That is everyone")
    assert "A coordinator of Woking Community Hub will look at your request" in anna.last_text()
    member = await bot.store.member_by_user(611)
    assert await bot.store.hub_ids_of_member(member.id) == [], "not a member until a coordinator says yes"
    await anna.send(f"/start {code}")
    assert "is with the coordinator" in anna.last_text()
    card = await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == COORDINATOR_ID
                              and "Anna would like to join" in (c.text or ""))
    assert "They are a family member. They come with: Mia." in card.text
    accept = _data(card, "Accept")

    # Forged or misplaced taps: the person themselves, another hub's coordinator, nonsense ids.
    for user in (anna, api.user(OTHER_COORDINATOR_ID, "Olu")):
        for forged in (accept, accept.replace(":y", ":x"), "jr:999:y", "jr:0:y", "jr:abc:y", "jr:1"):
            calls = await user.tap_data(forged)
            assert any(c.method == "answerCallbackQuery" for c in calls), forged
    assert await bot.store.hub_ids_of_member(member.id) == []
    assert (await bot.store.open_join_request(member.id, "woking")) is not None

    mark = len(api.calls)
    await cleo.tap("Accept")
    await told(api, 611, "You have joined Woking Community Hub", mark)
    assert "✓ Anna is now a member of Woking Community Hub." in cleo.texts()
    assert await bot.store.hub_ids_of_member(member.id) == ["woking"]
    calls = await cleo.tap_data(accept)  # a second tap on the same request
    assert next(c for c in calls if c.method == "answerCallbackQuery").params["text"] == \
        "This request has already been answered."

    ben = api.user(612, "Ben")
    await join(ben, code)
    card = await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == COORDINATOR_ID
                              and "Ben would like to join" in (c.text or ""))
    assert "They come on their own." in card.text
    await invite(api, cleo)  # the waiting request is shown again with the link
    assert sum("Ben would like to join" in t for t in cleo.texts()) == 2
    mark = len(api.calls)
    await cleo.tap_data(_data(card, "Decline"), message_id=card.result["message_id"])
    await told(api, 612, "cannot add you", mark)
    assert "Ben was not added to Woking Community Hub." in cleo.texts()
    assert "cannot add you at the moment" in ben.last_text() and "We have not kept your details" in ben.last_text()
    assert await nothing_kept(bot, 612), "a declined newcomer in no hub keeps nothing"


async def test_an_existing_member_joining_an_approving_hub_waits_too(start_bot, api, db_path):
    bot = await start_bot(settings_with(api, db_path, approval=True))
    await add_member(bot, 621, "Cai", hubs=("camden",))
    code = await invite(api, api.user(COORDINATOR_ID, "Cleo"))
    cai = api.user(621, "Cai")
    await cai.send(f"/start {code}")
    await cai.tap("Yes, join")
    assert "will look at your request" in cai.last_text()
    member = await bot.store.member_by_user(621)
    assert await bot.store.hub_ids_of_member(member.id) == ["camden"]
    card = await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == COORDINATOR_ID
                              and "Cai would like to join" in (c.text or ""))
    mark = len(api.calls)
    await api.user(COORDINATOR_ID, "Cleo").tap_data(_data(card, "Decline"), message_id=card.result["message_id"])
    await told(api, 621, "cannot add you", mark)
    assert "cannot add you" in cai.last_text() and "not kept" not in cai.last_text()
    assert await bot.store.hub_ids_of_member(member.id) == ["camden"], "still a member of Camden"


async def test_max_party_caps_the_companions_one_answer_brings(start_bot, api, db_path):
    bot = await start_bot(settings_with(api, db_path, max_party=1))
    member = await add_member(bot, 631, "Dee", companions=[("Mia", "age_5_11"), ("Leo", "under_5")])
    session = await next_session(bot)
    await bot.dispatch()
    dee = api.user(631, "Dee")
    calls = await dee.tap("Yes")
    alert = next(c for c in calls if c.method == "answerCallbackQuery")
    assert alert.params["text"].startswith("At Woking Community Hub, each member can bring up to 1 people")
    assert alert.params.get("show_alert")
    assert await bot.store.rsvp(session.id, member.id) is None, "nothing stored until the party fits"
    assert dee.buttons() == [["Mia", "Leo"], ["✅ Confirm"]]
    await dee.tap("Mia")
    assert dee.buttons() == [["✓ Mia", "Leo"], ["✅ Confirm"]]
    calls = await dee.tap("Leo")  # a second companion: one too many
    assert "up to 1 people" in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]
    assert dee.buttons() == [["✓ Mia", "Leo"], ["✅ Confirm"]]
    await dee.tap("Confirm")
    rsvp = await bot.store.rsvp(session.id, member.id)
    mia = (await bot.store.companions_of(member.id))[0]
    assert (rsvp.answer, rsvp.all_companions, rsvp.companion_ids) == ("yes", False, (mia.id,))
    assert "Coming: you and Mia." in dee.last_text()

    calls = await dee.tap_data(f"r:{session.id}:c3")  # a forged Confirm for both
    assert "up to 1 people" in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]
    assert (await bot.store.rsvp(session.id, member.id)).companion_ids == (mia.id,)


async def test_max_party_zero_means_members_come_on_their_own_in_one_tap(start_bot, api, db_path):
    bot = await start_bot(settings_with(api, db_path, max_party=0))
    member = await add_member(bot, 641, "Eli", companions=[("Mia", "age_5_11")])
    session = await next_session(bot)
    await bot.dispatch()
    await api.user(641, "Eli").tap("Yes")
    rsvp = await bot.store.rsvp(session.id, member.id)
    assert (rsvp.answer, rsvp.all_companions, rsvp.companion_ids) == ("yes", False, ())


async def told(api, chat_id: int, words: str, after: int) -> None:
    """The person is told in their own chat (after the coordinator's tap was answered, so wait for it)."""
    await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == chat_id and words in (c.text or ""),
                       timeout=10, after=after)


def _labels(call) -> list[list[str]]:
    markup = call.params.get("reply_markup") or {}
    return [[b.get("text", "") for b in row] for row in markup.get("inline_keyboard", [])]


def _data(call, label: str) -> str:
    markup = call.params.get("reply_markup") or {}
    return next(b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row
                if label in b.get("text", ""))


async def test_decided_requests_go_with_retention_and_open_ones_with_the_person(start_bot, api, db_path):
    from datetime import timedelta

    from bot.config import RetentionSettings
    from bot.domain.retention import cutoffs

    bot = await start_bot(settings_with(api, db_path, approval=True))
    now = bot.services.clock.now()
    old = await add_member(bot, 651, "Old", hubs=("camden",), now=now - timedelta(days=30))
    fresh = await add_member(bot, 652, "Fresh", hubs=("camden",))
    waiting = await add_member(bot, 653, "Wait", hubs=("camden",))
    decided_long_ago = await bot.store.request_to_join(old.id, "woking", now - timedelta(days=30))
    await bot.store.decide_join_request(decided_long_ago.id, True, COORDINATOR_ID, now - timedelta(days=30))
    decided_today = await bot.store.request_to_join(fresh.id, "woking", now)
    await bot.store.decide_join_request(decided_today.id, False, COORDINATOR_ID, now)
    await bot.store.request_to_join(waiting.id, "woking", now - timedelta(days=30))

    exported = await bot.store.export_person(653)
    assert exported.count("join_requests") == 1, "/mydata shows a request waiting"
    await bot.store.retention_once(now.date(), cutoffs(now, RetentionSettings()), now)
    assert await bot.store.join_request(decided_long_ago.id) is None, "decided a week ago or more: removed"
    assert await bot.store.join_request(decided_today.id) is not None
    assert await bot.store.open_join_request(waiting.id, "woking") is not None, "still waiting: kept"
    await bot.store.forget_person(653, now)
    assert await bot.store.open_join_requests("woking") == [], "/forget takes the request with the person"


async def test_an_admin_chooses_the_hub_and_gets_its_own_link(start_bot, api, db_path):
    settings = settings_with(api, db_path).model_copy(update={"admins": [777]})
    bot = await start_bot(settings)
    ada = api.user(777, "Ada")
    await ada.send("/invite")
    assert ada.buttons() == [["Woking Community Hub"], ["Camden Hub"]]
    mark = len(api.calls)
    await ada.tap("Camden Hub")
    await api.wait_for(lambda c: c.method == "sendPhoto" and c.chat_id == 777, after=mark, timeout=10)
    await api.wait_quiet(777, ada.quiet, 5.0)
    code = next(LINK.search(t).group(1) for t in reversed(ada.texts()) if LINK.search(t))
    assert await bot.store.current_invite_code("camden") == code
    assert await bot.store.current_invite_code("woking") is None, "only the chosen hub got a code"
