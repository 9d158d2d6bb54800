"""A changed timetable moves sessions, it does not cancel them (issue 14): answers, waiting lists and reminders
follow the session to its new time, and the people coming are told once, in their language."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.domain.calendar import PlannedSession, match_sessions
from bot.simulator.people import SimulatedUser
from tests.conftest import hub_settings, make_settings
from tests.reminder_helpers import add_member, reminders_to


def woking(start: str, **overrides: Any) -> list[Any]:
    return [hub_settings(capacity=2, weekly=[{"weekday": "tuesday", "start": start, "duration_minutes": 90}],
                         **overrides)]


async def answer(person: SimulatedUser, answers: dict[int, str]) -> None:
    """Ask /next and tap the answer (y, n or m) on each session's card, as a member does, in any language: the
    next session's card, or a later date's button, which opens that session's card in its place."""
    for wanted_session, wanted in answers.items():
        await person.send("/next")
        for action in ("s", wanted):
            for message in person.messages():
                for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                    for button in row:
                        _, session, tapped = (str(button.get("callback_data", "")) + "::").split(":")[:3]
                        if session == str(wanted_session) and tapped == action:
                            await person.tap_data(button["callback_data"], message_id=message["message_id"])


async def test_a_moved_start_time_keeps_every_answer_tells_each_person_once_and_reminds_at_the_new_time(
    start_bot, api, db_path, clock
):
    bot = await start_bot(make_settings(api, db_path, hubs=woking("10:00")))
    for uid, name, lang in [(921, "Ada", "en"), (922, "Bohdan", "uk"), (923, "Cy", "en"), (924, "Dee", "ar"),
                            (925, "Eli", "en")]:
        await add_member(bot, uid, name, language=lang)
    sessions = await bot.store.upcoming_sessions("woking", clock.now(), 10)
    s = [session.id for session in sessions]
    assert len(s) == 4  # Tuesdays 24 November to 15 December
    await answer(api.user(921, "Ada"), dict.fromkeys(s, "y"))
    await answer(api.user(924, "Dee"), {s[0]: "y"})
    await answer(api.user(923, "Cy"), {s[0]: "y", s[1]: "n"})  # the first is full: Cy waits
    await answer(api.user(922, "Bohdan"), {s[0]: "m", s[1]: "y"})
    await answer(api.user(925, "Eli"), {s[0]: "n"})
    before = {sid: [(r.member_id, r.answer, r.waitlisted_at) for r in await bot.store.rsvps_for_session(sid)]
              for sid in s}
    assert any(waiting for _, _, waiting in before[s[0]])

    await bot.stop()
    api.reset_calls()
    bot = await start_bot(make_settings(api, db_path, hubs=woking("10:30")))
    await bot.dispatch()

    stored = await bot.store.sessions_of_hub("woking", clock.now(), clock.now() + timedelta(weeks=9))
    assert [x.id for x in stored] == s and not any(x.cancelled for x in stored)
    assert [x.starts_at.astimezone(UTC).time().isoformat() for x in stored] == ["10:30:00"] * 4  # GMT
    assert {sid: [(r.member_id, r.answer, r.waitlisted_at) for r in await bot.store.rsvps_for_session(sid)]
            for sid in s} == before

    def notices(uid: int) -> list[str]:
        return [c.text or "" for c in api.sent_ok("sendMessage", uid) if "10:00" in (c.text or "")]

    for uid in (921, 922, 923, 924):
        assert len(notices(uid)) == 1, uid
        assert "10:30" in notices(uid)[0]
    assert notices(925) == []
    assert "Tuesday 1 December: now at 10:30 (was 10:00)" in notices(921)[0]
    assert "тепер о 10:30" in notices(922)[0] and "Зміни" in notices(922)[0]
    assert not any("cancelled" in (c.text or "") for c in api.sent_ok("sendMessage"))

    # Told once: another restart (the same configuration) tells nobody again.
    await bot.stop()
    bot = await start_bot(make_settings(api, db_path, hubs=woking("10:30")))
    await bot.dispatch()
    for uid in (921, 922, 923, 924):
        assert len(notices(uid)) == 1, uid

    # Reminders at the new time: two days before 1 December's session is now 10:30 on Sunday, not 10:00.
    cards = len(reminders_to(api, 921))
    clock.set(datetime(2026, 11, 29, 10, 29, tzinfo=UTC))
    await bot.dispatch()
    assert len(reminders_to(api, 921)) == cards
    clock.set(datetime(2026, 11, 29, 10, 30, tzinfo=UTC))
    await bot.dispatch()
    assert len(reminders_to(api, 921)) == cards + 1
    assert "Tuesday 1 December, 10:30" in reminders_to(api, 921)[-1]


async def test_a_longer_session_and_a_new_venue_are_told_a_removed_date_still_cancels(start_bot, api, db_path, clock):
    bot = await start_bot(make_settings(api, db_path, hubs=woking("10:00")))
    await add_member(bot, 931, "Ada")
    s = [x.id for x in await bot.store.upcoming_sessions("woking", clock.now(), 10)]
    await answer(api.user(931, "Ada"), {s[0]: "y", s[1]: "m"})
    await bot.stop()
    api.reset_calls()
    moved = woking("10:00", venue="St Mary's Hall", skip_dates=["2026-12-01"])
    moved[0] = moved[0].model_copy(update={"weekly": [moved[0].weekly[0].model_copy(update={"duration_minutes": 120})]})
    bot = await start_bot(make_settings(api, db_path, hubs=moved))
    await bot.dispatch()
    texts = [c.text or "" for c in api.sent_ok("sendMessage", 931)]
    changed = [t for t in texts if "A change at" in t]
    assert len(changed) == 1
    assert "Tuesday 24 November: now 10:00 to 12:00" in changed[0]
    assert "Tuesday 24 November: now at St Mary's Hall" in changed[0]
    assert "1 December" not in changed[0]  # that one is cancelled, and said so
    assert sum("cancelled" in t for t in texts) == 1
    assert (await bot.store.session(s[1])).cancelled and not (await bot.store.session(s[0])).cancelled


def planned(day: date, hour: int, kind: str = "weekly") -> PlannedSession:
    starts = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return PlannedSession(f"h-{day:%Y%m%d}-{hour:02d}00", "h", kind, "", None, starts, starts + timedelta(hours=1),
                          day)


def test_matching_pairs_by_day_and_kind_in_start_order_and_by_key_when_a_slot_goes():
    day = date(2026, 12, 1)
    stored = [planned(day, 10), planned(day, 11)]
    pairs, added, gone = match_sessions(stored, [planned(day, 11), planned(day, 12)])
    assert [(a.key, b.key) for a, b in pairs] == [("h-20261201-1000", "h-20261201-1100"),
                                                  ("h-20261201-1100", "h-20261201-1200")]
    assert added == [] and gone == []
    pairs, added, gone = match_sessions(stored, [planned(day, 11)])  # the 10:00 slot removed
    assert [(a.key, b.key) for a, b in pairs] == [("h-20261201-1100", "h-20261201-1100")]
    assert [g.key for g in gone] == ["h-20261201-1000"]
    pairs, added, gone = match_sessions(stored, [planned(day, 10, "event"), *stored])
    assert [a.key for a in added] == ["h-20261201-1000"] and len(pairs) == 2


async def test_a_later_numbered_migration_does_not_hide_an_earlier_one_that_arrives_after_it(tmp_path, monkeypatch):
    """Branches number migrations in parallel: 009 may be applied before 008 exists; 008 must still run."""
    import storage.db as db_module
    from storage.db import Database

    real = db_module.migrations()
    without_008 = [m for m in real if m[0] != 8]
    late = (8, "008_late.sql", "CREATE TABLE late_arrival (x INTEGER)")
    monkeypatch.setattr(db_module, "migrations", lambda: without_008)
    db = Database(tmp_path / "m.sqlite3")
    await db.open()
    await db.close()
    monkeypatch.setattr(db_module, "migrations", lambda: sorted([*without_008, late]))
    await db.open()
    assert await db.fetchone("SELECT name FROM sqlite_master WHERE name = 'late_arrival'")
    assert (await db.fetchone("PRAGMA user_version"))[0] == max(m[0] for m in real)
    await db.close()
