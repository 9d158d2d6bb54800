"""Activator volunteers over the local Bot API (issue 17): their own reminder with the open tasks, taking a task with
a tap and giving it back, the coordinators' notice of untaken tasks two days before, /sessions showing the gaps,
hours from the register, pathway steps ticked in /volunteers and seen in the report; forged buttons change nothing.

The hub's next session is Tuesday 24 November, 10:00 (London = UTC in November). Volunteers are reminded three days
before at 10:00 (Saturday 21 November, 10:00) and coordinators told of gaps two days before the start (Sunday 22
November, 10:00).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.reports.funder_report import gather_report, render_report
from bot.reports.weekly_summary import Period
from tests.conftest import COORDINATOR_ID, OTHER_COORDINATOR_ID, hub_settings, make_settings
from tests.test_coordinator_commands import REFUSAL
from tests.wellbeing_support import join

FRIDAY = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
REMINDER_AT = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
GAP_AT = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TASKS = [{"id": "welcome", "name": "Welcome desk"}, {"id": "tea", "name": "Tea"}]
STEPS = [{"id": "induction", "name": "Induction"}, {"id": "co_led", "name": "Co-led a session"},
         {"id": "led", "name": "Led a session"}]
CARD_TITLE = "🙋 Volunteer tasks"
OLD_BUTTON = "This button is old. Please use the newest message."


def volunteering(**overrides):
    return hub_settings(volunteers={"tasks": TASKS, "steps": STEPS}, **overrides)


@pytest.fixture
async def vbot(start_bot, api, db_path, clock):
    clock.set(FRIDAY)
    camden = hub_settings(id="camden", name="Camden Hub", coordinators=[OTHER_COORDINATOR_ID],
                          safeguarding_lead=OTHER_COORDINATOR_ID, weekly=[{"weekday": "thursday", "start": "16:00"}],
                          volunteers={"tasks": TASKS})
    return await start_bot(make_settings(api, db_path, hubs=[volunteering(), camden]))


async def volunteer(bot, api, user_id: int, name: str, *, hub: str = "woking"):
    user = api.user(user_id, name)
    return user, await join(bot, user, role="volunteer", hub=hub)


async def next_session(bot, hub: str = "woking"):
    return (await bot.store.upcoming_sessions(hub, bot.services.clock.now(), 1))[0]


def cards(user) -> list[str]:
    return [text for text in user.texts() if text.startswith(CARD_TITLE)]


async def test_a_volunteer_chooses_volunteer_when_joining(vbot, api):
    vera = api.user(601, "Vera")
    await vera.send("/start woking")
    await vera.tap("English")
    await vera.tap("Yes, 16 or older")
    await vera.tap("Yes, that is fine")
    await vera.tap("Yes, ask me")
    await vera.tap("Volunteer")
    await vera.tap("Just me")
    member = await vbot.store.member_by_user(601)
    assert member.role == "volunteer" and await vbot.store.is_volunteer_of(member.id, "woking")


async def test_a_volunteer_takes_a_task_and_gives_it_back(vbot, api, clock):
    vera, vera_member = await volunteer(vbot, api, 601, "Vera")
    walt, walt_member = await volunteer(vbot, api, 602, "Walt")
    pat = api.user(603, "Pat")
    await join(vbot, pat)  # takes part, not a volunteer
    session = await next_session(vbot)

    await vbot.dispatch()
    assert cards(vera) == [], "not before Saturday 10:00"
    clock.set(REMINDER_AT)
    await vbot.dispatch()
    [card] = cards(vera)
    assert "Woking Community Hub" in card and "Still needed: Welcome desk, Tea" in card
    assert vera.buttons() == [["Take: Welcome desk"], ["Take: Tea"]]
    assert len(cards(walt)) == 1 and cards(pat) == []

    await vera.tap("Take: Tea")
    assert (await vbot.store.tasks_taken([session.id]))[session.id]["tea"].member_id == vera_member.id
    assert "Your task: Tea" in vera.last_text() and "Still needed: Welcome desk" in vera.last_text()
    assert vera.buttons() == [["Give back: Tea"]], "one task each: no more Take buttons"

    calls = await walt.tap("Take: Tea")  # his card is older: Vera has it
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params["text"].startswith("Sorry, this task is taken")
    assert walt.buttons() == [["Take: Welcome desk"]]
    await walt.tap("Take: Welcome desk")
    taken = (await vbot.store.tasks_taken([session.id]))[session.id]
    assert {task: holder.member_id for task, holder in taken.items()} == {"tea": vera_member.id,
                                                                          "welcome": walt_member.id}

    await vera.tap("Give back: Tea")
    assert "Still needed: Tea" in vera.last_text()
    assert vera.buttons() == [["Take: Tea"]]
    assert set((await vbot.store.tasks_taken([session.id]))[session.id]) == {"welcome"}

    await vbot.dispatch()
    clock.advance(timedelta(hours=1))
    await vbot.dispatch()
    assert len(cards(vera)) == 1 and len(cards(walt)) == 1, "the reminder goes once"


async def test_two_volunteers_tapping_at_once_cannot_both_take_a_task(vbot, api):
    _, one = await volunteer(vbot, api, 611, "Uma")
    _, two = await volunteer(vbot, api, 612, "Ola")
    session = await next_session(vbot)
    now = vbot.services.clock.now()
    results = await asyncio.gather(*(vbot.store.take_task(session.id, "tea", member.id, 1, now)
                                     for member in (one, two) for _ in range(3)))
    assert sorted(results) == [False] * 5 + [True]
    assert not await vbot.store.take_task(session.id, "welcome", (await vbot.store.tasks_taken(
        [session.id]))[session.id]["tea"].member_id, 1, now), "one task each"


async def test_forged_task_buttons_change_nothing(vbot, api):
    vera, vera_member = await volunteer(vbot, api, 621, "Vera")
    pat = api.user(622, "Pat")
    await join(vbot, pat)
    cam, _ = await volunteer(vbot, api, 623, "Cam", hub="camden")
    session = await next_session(vbot)
    camden_session = await next_session(vbot, "camden")
    await vbot.store.take_task(session.id, "welcome", vera_member.id, 1, vbot.services.clock.now())
    cases = [
        (pat, f"vt:t:{session.id}:tea", REFUSAL),  # not a volunteer
        (cam, f"vt:t:{session.id}:tea", REFUSAL),  # a volunteer of another hub
        (vera, f"vt:t:{camden_session.id}:tea", REFUSAL),  # a session of another hub
        (vera, f"vt:t:{session.id}:sound", OLD_BUTTON),  # no such task
        (vera, "vt:t:abc:tea", OLD_BUTTON),
        (vera, "vt:t:99999:tea", OLD_BUTTON),
        (vera, f"vt:x:{session.id}:tea", OLD_BUTTON),
        (vera, f"vt:t:{session.id}:tea:extra", OLD_BUTTON),
        (cam, f"vt:g:{session.id}:welcome", REFUSAL),  # giving back someone else's task
    ]
    for person, data, expected in cases:
        calls = await person.tap_data(data)
        answers = [c for c in calls if c.method == "answerCallbackQuery"]
        assert answers and answers[0].params.get("text") == expected, data
    taken = (await vbot.store.tasks_taken([session.id]))[session.id]
    assert {task: holder.member_id for task, holder in taken.items()} == {"welcome": vera_member.id}
    stranger = api.user(624, "Sam")
    await stranger.tap_data(f"vp:s:0:{vera_member.id}:induction")
    await pat.tap_data(f"vp:s:0:{vera_member.id}:induction")
    await api.user(OTHER_COORDINATOR_ID, "Other").tap_data(f"vp:s:0:{vera_member.id}:induction")
    coordinator = api.user(COORDINATOR_ID, "Cleo")
    await coordinator.tap_data(f"vp:s:0:{vera_member.id}:nosuch")
    await coordinator.tap_data("vp:s:0:99999:induction")
    assert (await vbot.store.steps_of("woking", [vera_member.id]))[vera_member.id] == set()


async def test_coordinators_are_told_of_untaken_tasks_two_days_before_once(vbot, api, clock, start_bot):
    vera, vera_member = await volunteer(vbot, api, 631, "Vera")
    session = await next_session(vbot)
    cleo = api.user(COORDINATOR_ID, "Cleo")
    clock.set(REMINDER_AT)
    await vbot.dispatch()
    await vera.tap("Take: Tea")
    await vbot.dispatch()
    assert not [t for t in cleo.texts() if "not taken yet" in t], "not before Sunday 10:00"

    clock.set(GAP_AT)
    await vbot.dispatch()
    notices = [t for t in cleo.texts() if "not taken yet" in t]
    assert notices == ["🙋 Woking Community Hub, Tue 24 Nov, 10:00: some volunteer tasks are not taken yet.\n"
                       "Volunteer tasks not taken: Welcome desk\n"
                       "You could ask a volunteer, or plan to do it yourself."]
    assert api.sent_ok("sendMessage", OTHER_COORDINATOR_ID) == [], "Camden's coordinator is not told of Woking"

    settings = vbot.services.settings
    await vbot.stop()
    bot = await start_bot(settings)
    clock.set(GAP_AT + timedelta(hours=2))
    await bot.dispatch()
    assert len([t for t in cleo.texts() if "not taken yet" in t]) == 1, "a restart does not repeat it"

    await cleo.send("/sessions")
    assert "Volunteer tasks not taken: Welcome desk" in cleo.last_text()
    await bot.store.take_task(session.id, "welcome", vera_member.id, 2, clock.now())
    await cleo.send("/sessions")
    assert "Volunteer tasks: all taken" in cleo.last_text().split("\n\n")[1]


async def test_no_gap_notice_when_every_task_is_taken_in_time(vbot, api, clock):
    _, one = await volunteer(vbot, api, 641, "Uma")
    _, two = await volunteer(vbot, api, 642, "Ola")
    session = await next_session(vbot)
    await vbot.store.take_task(session.id, "tea", one.id, 1, clock.now())
    await vbot.store.take_task(session.id, "welcome", two.id, 1, clock.now())
    clock.set(GAP_AT)
    await vbot.dispatch()
    assert not [t for t in api.user(COORDINATOR_ID, "Cleo").texts() if "not taken yet" in t]


async def test_hours_come_from_the_register_and_a_ticked_step_reaches_the_report(vbot, api, clock):
    _, vera_member = await volunteer(vbot, api, 651, "Vera")
    session = await next_session(vbot)
    cleo = api.user(COORDINATOR_ID, "Cleo")
    period = Period(session.local_date - timedelta(days=1), session.local_date + timedelta(days=1))

    before = render_report(await gather_report(vbot.store, vbot.services.hub("woking"), period,
                                               session.ends_at + timedelta(hours=1)), vbot.services.texts)
    assert "| Induction | 0 |" in before

    clock.set(session.starts_at + timedelta(minutes=20))
    await cleo.send("/register")
    await cleo.tap("Tuesday 24 November, 10:00")
    await cleo.tap("⬜ Vera")
    await cleo.tap("💾 Save")
    assert await vbot.store.volunteer_minutes("woking", session.starts_at, session.ends_at) == {vera_member.id: 90}

    await cleo.send("/volunteers")
    assert cleo.last_text().split("\n")[:2] == ["🙋 Woking Community Hub: 1 volunteers",
                                                "• Vera: no steps yet. Hours this term: 1.5"]
    await cleo.tap("Vera")
    assert cleo.buttons() == [["⬜ Induction"], ["⬜ Co-led a session"], ["⬜ Led a session"], ["◀ All volunteers"]]
    await cleo.tap("⬜ Induction")
    assert cleo.buttons()[0] == ["✅ Induction"]
    assert (await vbot.store.steps_of("woking", [vera_member.id]))[vera_member.id] == {"induction"}
    await cleo.tap("◀ All volunteers")
    assert "• Vera: Induction. Hours this term: 1.5" in cleo.last_text()

    after = render_report(await gather_report(vbot.store, vbot.services.hub("woking"), period,
                                              session.ends_at + timedelta(hours=1)), vbot.services.texts)
    assert "| Induction | <5 |" in after and "| Co-led a session | 0 |" in after
    assert "- Active in this period (took a task or came): <5" in after

    await cleo.tap("Vera")
    await cleo.tap("✅ Induction")  # a mistaken tick can be taken back
    assert (await vbot.store.steps_of("woking", [vera_member.id]))[vera_member.id] == set()


async def test_only_coordinators_see_volunteers(vbot, api):
    await volunteer(vbot, api, 661, "Vera")
    calls = await api.user(661, "Vera").send("/volunteers")
    assert [c.text for c in calls if c.method == "sendMessage"] == [REFUSAL]


async def test_tasks_shows_a_volunteer_the_next_sessions_and_refuses_others(vbot, api):
    vera, _ = await volunteer(vbot, api, 671, "Vera")
    await vera.send("/tasks")
    assert len(cards(vera)) == 3 and vera.buttons() == [["Take: Welcome desk"], ["Take: Tea"]]
    pat = api.user(672, "Pat")
    await join(vbot, pat)
    await pat.send("/tasks")
    assert pat.last_text().startswith("Only volunteers of a hub can take tasks.")
