"""Referrals from link workers over the local Bot API (issue 17): a coordinator makes a link for an organisation, a
person joins through it and is asked, separately, whether the referrer may be told once that they came; the referrer
registers their chat with their own link and gets that one notice only with consent, never twice; the report counts
referrals by organisation; erasure, /mydata and forged input.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from bot.jobs.referrals import plan_referral_notices
from bot.reports.funder_report import gather_report, render_report
from bot.reports.weekly_summary import Period
from tests.conftest import COORDINATOR_ID, OTHER_COORDINATOR_ID
from tests.test_coordinator_commands import REFUSAL

LINK = re.compile(r"https://t\.me/imm_hub_bot\?start=((?:ref|rfw)_[A-Za-z0-9]{12})")
REFERRER_ID = 701
CONSENT_QUESTION = "May we tell them when you first come to a session?"
NOT_WORKING = "Sorry, this link does not work. Please ask the person who gave it to you for a new one."


async def make_link(api, organisation: str = "Woking Surgery link worker") -> tuple[str, str]:
    cleo = api.user(COORDINATOR_ID, "Cleo")
    await cleo.send(f"/referral {organisation}")
    people, referrer = LINK.findall(cleo.last_text())
    assert people.startswith("ref_") and referrer.startswith("rfw_")
    return people, referrer


async def join_referred(bot, api, user_id: int, name: str, payload: str, *, tell: bool) -> None:
    person = api.user(user_id, name)
    await person.send(f"/start {payload}")
    await person.tap("English")
    await person.tap("Yes, 16 or older")
    await person.tap("Yes, that is fine")
    await person.tap("Yes, ask me")
    await person.tap("I take part myself")
    assert CONSENT_QUESTION in person.last_text() and "Woking Surgery link worker" in person.last_text()
    assert person.buttons() == [["Yes, tell them", "No, do not tell them"]]
    await person.tap("Yes, tell them" if tell else "No, do not tell them")
    await person.tap("Just me")
    assert "You have joined Woking Community Hub" in person.texts()[-2]  # then the next session's card


async def came(bot, api, clock, session, names: list[str]) -> None:
    """The coordinator ticks these people on the session's register and saves it."""
    clock.set(session.starts_at + timedelta(minutes=20))
    cleo = api.user(COORDINATOR_ID, "Cleo")
    await cleo.send("/register")
    await cleo.tap(next(label for row in cleo.buttons() for label in row))  # the newest session first
    for name in names:
        await cleo.tap(f"⬜ {name}")
    await cleo.tap("💾 Save")


def notices(api) -> list[str]:
    return [call.text for call in api.sent_ok("sendMessage", REFERRER_ID) if " came to " in call.text]


@pytest.fixture
async def referred(bot, api):
    """A link for the surgery, its referrer registered, Rita (who says yes) and Noor (who says no) joined."""
    people, referrer_link = await make_link(api)
    lw = api.user(REFERRER_ID, "Linda")
    await lw.send(f"/start {referrer_link}")
    assert lw.last_text().startswith("Thank you. This chat is now linked to Woking Surgery link worker")
    await join_referred(bot, api, 711, "Rita", people, tell=True)
    await join_referred(bot, api, 712, "Noor", people, tell=False)
    return people


async def test_a_referral_link_records_the_organisation_and_the_separate_consent(bot, api, referred):
    rita = await bot.store.member_by_user(711)
    noor = await bot.store.member_by_user(712)
    for member, consent in ((rita, 1), (noor, 0)):
        row = await bot.store.db.fetchone("SELECT mr.notify_consent, mr.consent_version, rl.organisation"
                                          " FROM member_referrals mr JOIN referral_links rl ON rl.id = mr.link_id"
                                          " WHERE mr.member_id = ?", (member.id,))
        assert tuple(row) == (consent, "referral-notice-v1", "Woking Surgery link worker")
    # The referrer is not a member, and their name is stored nowhere.
    assert await bot.store.member_by_user(REFERRER_ID) is None
    assert [f.table for f in await bot.store.where_values_appear(["Linda"])] == []
    link = await bot.store.db.fetchone("SELECT referrer_chat_id, organisation FROM referral_links")
    assert tuple(link) == (REFERRER_ID, "Woking Surgery link worker")
    # Members who joined with the plain hub link are not asked.
    plain = api.user(713, "Pia")
    await plain.send("/start woking")
    await plain.tap("English")
    await plain.tap("Yes, 16 or older")
    await plain.tap("Yes, that is fine")
    await plain.tap("Yes, ask me")
    await plain.tap("I take part myself")
    assert CONSENT_QUESTION not in plain.last_text()


async def test_the_referrer_gets_one_notice_only_with_consent(bot, api, clock, referred, start_bot):
    session = (await bot.store.upcoming_sessions("woking", clock.now(), 1))[0]
    await came(bot, api, clock, session, ["Rita", "Noor"])
    await bot.dispatch()
    assert notices(api) == ["Rita came to Woking Community Hub for the first time on Tuesday 24 November. "
                            "Woking Surgery link worker referred them, and they agreed that we tell you. "
                            "We share nothing else."]
    assert not any("Noor" in call.text for call in api.sent_ok("sendMessage", REFERRER_ID))

    # The next week they come again; the bot restarts in between: still one notice.
    settings = bot.services.settings
    await bot.stop()
    bot = await start_bot(settings)
    await bot.dispatch()
    clock.set(session.starts_at + timedelta(days=6))
    following = (await bot.store.upcoming_sessions("woking", clock.now(), 1))[0]
    await came(bot, api, clock, following, ["Rita", "Noor"])
    await bot.dispatch()
    assert len(notices(api)) == 1
    rows = await bot.store.db.fetchall("SELECT kind, chat_id, state FROM deliveries WHERE kind = 'referral_came'")
    assert [tuple(r) for r in rows] == [("referral_came", REFERRER_ID, "sent")]


async def test_no_notice_before_they_come_or_without_a_registered_referrer(bot, api, clock):
    people, _ = await make_link(api)
    await join_referred(bot, api, 721, "Rita", people, tell=True)  # nobody opened the referrer's link
    await bot.dispatch()
    session = (await bot.store.upcoming_sessions("woking", clock.now(), 1))[0]
    await came(bot, api, clock, session, ["Rita"])
    await bot.dispatch()
    assert await bot.store.db.fetchall("SELECT 1 FROM deliveries WHERE kind = 'referral_came'") == []


async def test_the_report_counts_referrals_by_organisation(bot, api, clock, referred):
    session = (await bot.store.upcoming_sessions("woking", clock.now(), 1))[0]
    await came(bot, api, clock, session, ["Rita"])
    hub = bot.services.hub("woking")
    report = render_report(await gather_report(bot.store, hub, Period(session.local_date, session.local_date),
                                               clock.now()), bot.services.texts)
    assert "| Woking Surgery link worker | <5 | <5 | 0 |" in report
    tally = await bot.store.referral_tallies("woking", session.starts_at, session.ends_at)
    assert [(t.organisation, t.referred, t.came_once, t.came_three) for t in tally] == [
        ("Woking Surgery link worker", 2, 1, 0)]


async def test_mydata_shows_the_referral_and_forget_removes_it_and_the_notice(bot, api, clock, referred):
    session = (await bot.store.upcoming_sessions("woking", clock.now(), 1))[0]
    await came(bot, api, clock, session, ["Rita"])
    rita = api.user(711, "Rita")
    await rita.send("/mydata")
    exported = json.loads(api.sent_ok("sendDocument", 711)[0].params["document"]["content"])
    assert [row["notify_consent"] for row in exported["tables"]["member_referrals"]] == [1]

    member = await bot.store.member_by_user(711)
    assert await plan_referral_notices(clock.now(), bot.services) == 1  # owed, not sent yet
    await bot.store.forget_person(711, clock.now())
    assert await bot.store.db.fetchall("SELECT 1 FROM deliveries WHERE kind = 'referral_came'") == []
    assert await bot.store.db.fetchall("SELECT 1 FROM member_referrals WHERE member_id = ?", (member.id,)) == []
    await bot.dispatch()
    assert notices(api) == [], "a forgotten person's notice is never sent"
    await bot.store.forget_person(REFERRER_ID, clock.now())
    link = await bot.store.db.fetchone("SELECT referrer_chat_id, organisation FROM referral_links")
    assert tuple(link) == (None, "Woking Surgery link worker")


async def test_bad_links_and_forged_buttons_change_nothing(bot, api):
    stranger = api.user(731, "Sam")
    for payload in ("ref_AAAAAAAAAAAA", "rfw_AAAAAAAAAAAA", "ref_short", "ref_bad!chars__", "rfw_", "ref_" + "A" * 40):
        await stranger.send(f"/start {payload}")
        assert stranger.last_text() == NOT_WORKING, payload
    assert await bot.store.join_draft(731) is None
    assert await bot.store.db.fetchall("SELECT 1 FROM referral_links") == []

    calls = await stranger.tap_data("j:refc:yes")  # no join under way
    assert [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"] == [
        "This button is old. Please use the newest message."]
    await stranger.send("/start woking")
    await stranger.tap("English")
    await stranger.tap("Yes, 16 or older")
    await stranger.tap("Yes, that is fine")
    await stranger.tap("Yes, ask me")
    await stranger.tap("I take part myself")
    await stranger.tap_data("j:refc:yes")  # not referred: the consent step is not theirs
    assert "ref_notify" not in (await bot.store.join_draft(731)).data

    for user_id in (731, OTHER_COORDINATOR_ID):
        calls = await api.user(user_id, "X").tap_data("rl:h:0")
        assert [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"] == [REFUSAL]
    calls = await api.user(731, "Sam").send("/referral Someone's surgery")
    assert [c.text for c in calls if c.method == "sendMessage"] == [REFUSAL]
    cleo = api.user(COORDINATOR_ID, "Cleo")
    await cleo.send("/referral")
    assert cleo.last_text().startswith("Please write the organisation's name after the command")
    assert await bot.store.db.fetchall("SELECT 1 FROM referral_links") == []


async def test_a_coordinator_of_several_hubs_picks_the_hub_with_a_tap(start_bot, api, db_path):
    from tests.conftest import make_settings

    admin = 9500
    bot = await start_bot(make_settings(api, db_path, admins=[admin]))
    boss = api.user(admin, "Ada")
    await boss.send("/referral Camden mental health team")
    assert boss.last_text() == "Which hub is the referral link from Camden mental health team for?"
    assert boss.buttons() == [["Woking Community Hub"], ["Camden Hub"]]
    await boss.tap("Camden Hub")
    people, _ = LINK.findall(boss.last_text())
    link = await bot.store.referral_link(people.removeprefix("ref_"))
    assert (link.hub_id, link.organisation) == ("camden", "Camden mental health team")
    calls = await boss.tap_data("rl:h:0")  # a second tap: the name was used once
    assert [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"] == [
        "This button is old. Please use the newest message."]
    assert len(await bot.store.db.fetchall("SELECT 1 FROM referral_links")) == 1


async def test_the_answer_can_be_changed_in_consent_until_the_notice_is_owed(bot, api, clock, referred):
    rita = api.user(711, "Rita")
    await rita.send("/consent")
    assert ("Telling Woking Surgery link worker once, when you first come: yes (since 23 November 2026)."
            in rita.last_text())
    assert rita.buttons()[-1] == ["Do not tell Woking Surgery link worker"]
    await rita.tap("Do not tell Woking Surgery link worker")
    assert rita.last_text().endswith("✓ Done. We will not tell Woking Surgery link worker.")
    calls = await rita.tap_data("rfc:off")  # a second tap changes nothing
    assert [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"] == [
        "This button is old. Please use the newest message."]

    noor = api.user(712, "Noor")
    await noor.send("/consent")
    assert "Telling Woking Surgery link worker once, when you first come: no." in noor.last_text()
    await noor.tap("Tell Woking Surgery link worker when I first come")
    session = (await bot.store.upcoming_sessions("woking", clock.now(), 1))[0]
    await came(bot, api, clock, session, ["Rita", "Noor"])
    await bot.dispatch()
    assert [n.split(" came to ")[0] for n in notices(api)] == ["Noor"]
    await noor.send("/consent")
    assert "We told Woking Surgery link worker on 24 November 2026 that you came." in noor.last_text()
    assert "Tell Woking Surgery link worker" not in str(noor.buttons())
    assert await api.user(731, "Sam").tap_data("rfc:on")  # not referred: refused, nothing stored
