"""/register: a coordinator ticks who came, adds walk-ins, saves; the figures then follow the register."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.reports.weekly_summary import week_before
from tests.conftest import COORDINATOR_ID, OTHER_COORDINATOR_ID, hub_settings, make_settings
from tests.seed_term import seed_term, term_hub
from tests.test_coordinator_commands import REFUSAL, WEDNESDAY


@pytest.fixture
async def term_bot(start_bot, api, db_path, clock):
    clock.set(WEDNESDAY)
    camden = hub_settings(id="camden", name="Camden Hub", coordinators=[OTHER_COORDINATOR_ID],
                          safeguarding_lead=OTHER_COORDINATOR_ID, weekly=[{"weekday": "thursday", "start": "16:00"}])
    settings = make_settings(api, db_path, hubs=[term_hub(), camden])
    bot = await start_bot(settings)
    bot.seeded = await seed_term(bot.store, settings.hubs[0])
    return bot


async def week_nine(bot, rows: list | None = None):
    window = week_before(date(2026, 11, 16)).window(bot.services.hub("woking"), WEDNESDAY)
    async with bot.store.attendance_snapshot(window) as snapshot:
        if rows is not None:
            rows += await snapshot.attendance_rows(window)
        return next(t for t in await snapshot.session_tallies(window) if t.kind == "weekly")


async def test_a_coordinator_takes_the_register_with_a_walk_in(term_bot, api):
    before = await week_nine(term_bot)
    assert (before.register_taken, before.attended, before.no_shows) == (False, 14, 1)
    cleo = api.user(COORDINATOR_ID, "Cleo")
    await cleo.send("/register")
    assert cleo.last_text() == "Which session is the register for?"
    assert cleo.buttons() == [["Tuesday 17 November, 10:00"], ["Saturday 14 November, 14:00 (Autumn sharing)"],
                              ["Tuesday 10 November, 10:00"]]
    await cleo.tap("Tuesday 10 November, 10:00")
    assert cleo.last_text().split("\n") == [
        "Register: Woking Community Hub, Tuesday 10 November, 10:00",
        "✅ came. ⬜ did not come. Tap a name to change it.",
        "The ticks start from RSVPs and check-ins. Please check them.",
        "Came: 14 (walk-ins: 0).",
    ]
    names = [label for row in cleo.buttons() for label in row]
    assert names[:4] == ["✅ Anna", "✅ Leo (with Anna)", "✅ Mia (with Anna)", "✅ Bob"]
    assert "⬜ Ivan" in names and "✅ Rose (with Cara)" in names
    assert names[-2:] == ["➕ Add a walk-in", "💾 Save"]

    await cleo.tap("⬜ Ivan")  # he came after all, though he said he could not
    await cleo.tap("✅ Mia (with Anna)")  # Mia stayed at home
    await cleo.tap("➕ Add a walk-in")
    assert "first name" in cleo.last_text()
    await cleo.send("<b>Zoe</b>")
    assert cleo.last_text().startswith("A name can have letters, emoji, spaces, hyphens and apostrophes, but no")
    await cleo.send("Zoe")
    assert cleo.last_text() == "Added Zoe. How old is Zoe? You can skip this."
    await cleo.tap("5 to 11")
    assert "Came: 15 (walk-ins: 1)." in cleo.last_text()
    assert "✅ Zoe (walk-in)" in [label for row in cleo.buttons() for label in row]
    await cleo.tap("💾 Save")
    assert cleo.last_text() == "Register saved. Came: 15 (walk-ins: 1)."

    rows: list = []
    after = await week_nine(term_bot, rows)
    assert (after.register_taken, after.attended, after.walk_ins, after.no_shows) == (True, 15, 1, 0)
    assert ("walk_in", "age_5_11", "register") in {(r.what, r.age_band, r.source) for r in rows}


async def test_the_register_survives_a_restart_before_it_is_saved(term_bot, api, start_bot):
    cleo = api.user(COORDINATOR_ID, "Cleo")
    await cleo.send("/register")
    await cleo.tap("Tuesday 10 November, 10:00")
    await cleo.tap("✅ Bob")
    settings = term_bot.services.settings
    await term_bot.stop()
    bot = await start_bot(settings)
    assert (await week_nine(bot)).register_taken is False  # not saved: still inferred
    await cleo.tap("💾 Save")
    assert cleo.last_text() == "Register saved. Came: 13 (walk-ins: 0)."
    assert (await week_nine(bot)).attended == 13


async def test_register_buttons_from_anyone_else_change_nothing(term_bot, api):
    week9 = term_bot.seeded.weeks[8]
    cleo = api.user(COORDINATOR_ID, "Cleo")
    await cleo.send("/register")
    await cleo.tap("Tuesday 10 November, 10:00")
    line = (await term_bot.store.register(week9)).entries[0].id
    for user_id in (OTHER_COORDINATOR_ID, 1001, 4242):
        person = api.user(user_id, "Someone")
        for forged in (f"reg:o:{week9}", f"reg:t:{line}:0", f"reg:s:{week9}", f"reg:w:{week9}",
                       f"reg:b:{line}:adult", f"reg:p:{week9}:0", "reg:t:999999:0", "reg:x:1", "reg:o:abc"):
            calls = await person.tap_data(forged)
            answers = [c for c in calls if c.method == "answerCallbackQuery"]
            assert answers and answers[0].params.get("text") == REFUSAL, (user_id, forged)
    register = await term_bot.store.register(week9)
    assert register.saved_at is None and register.present_count == 14
    assert await term_bot.store.awaited_input(OTHER_COORDINATOR_ID) is None


async def test_a_member_who_said_no_and_came_anyway_can_be_ticked(term_bot, api):
    cleo = api.user(COORDINATOR_ID, "Cleo")
    await cleo.send("/register")
    await cleo.tap("Tuesday 17 November, 10:00")
    labels = [label for row in cleo.buttons() for label in row]
    while "⬜ Finn" not in labels and any(label.startswith("Next") or "▶" in label for label in labels):
        await cleo.tap(next(label for label in labels if label.startswith("Next") or "▶" in label))
        labels = [label for row in cleo.buttons() for label in row]
    assert "⬜ Finn" in labels, "every member of the hub is on the register, unticked unless they said Yes"
    await cleo.tap("⬜ Finn")
    labels = [label for row in cleo.buttons() for label in row]
    assert "✅ Finn" in labels
    now = term_bot.services.clock.now()
    sessions = await term_bot.store.sessions_for_register(["woking"], now - timedelta(days=30), now)
    taken = await term_bot.store.register(next(s for s in sessions if s.starts_at.day == 17).id)
    finn = next(entry for entry in taken.entries if entry.name == "Finn")
    assert finn.present
    said_yes_first = [entry.name for entry in taken.entries if entry.kind == "member"]
    assert said_yes_first.index("Anna") < said_yes_first.index("Finn"), "those who answered come first"
