"""Attendance kept as answers arrive (the `presence` table, migration 016) is always what storage.presence's
definition works out from scratch, whatever happens to the answers in between.

A fixed-seed random walk of the things that change attendance, through the Store's own methods where they exist
(RSVPs with and without chosen companions, check-ins, registers with ticks and walk-ins, cancelling, moving a
session, /forget, withdrawing wellbeing consent, retention) and plain SQL where the bot has no method (a
companion removed or their age band corrected). After every few steps the kept table, brought up to date, must
equal the definition's answer row for row; erasure and retention must leave nothing of the person in it before
they commit.
"""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.retention import RetentionCutoffs
from bot.reports.weekly_summary import Period, term_period
from storage import Store
from storage.db import to_db
from storage.presence import Window, presence, refresh_presence, session_counts
from storage.snapshot import BandCount, ReachTally
from tests.conftest import COORDINATOR_ID
from tests.seed_term import JOINED, SUMMARY_DUE, seed_term, term_hub

COLUMNS = "session_id, hub_id, starts_at, local_date, kind, person, member, band, what, registered"


async def worked_out(store: Store) -> list[tuple]:
    """storage.presence's definition over every session, from scratch."""
    rows = await store.db.fetchall(f"WITH {presence('1')} SELECT {COLUMNS} FROM present")
    return sorted((tuple(row) for row in rows), key=repr)


async def kept(store: Store) -> list[tuple]:
    await refresh_presence(store.db)
    rows = await store.db.fetchall(f"SELECT {COLUMNS} FROM presence")
    return sorted((tuple(row) for row in rows), key=repr)


async def first_visits_worked_out(store: Store) -> list[tuple]:
    """Each person's first visit to each hub (the earliest by start, then session), from the definition."""
    rows = await store.db.fetchall(f"""
        WITH {presence('1')}
        SELECT hub_id, person, member, CASE WHEN what = 'companion' THEN -person END, starts_at, session_id FROM (
            SELECT *, ROW_NUMBER() OVER (PARTITION BY hub_id, person ORDER BY starts_at, session_id) AS nth
            FROM present WHERE person IS NOT NULL)
        WHERE nth = 1""")
    return sorted(tuple(row) for row in rows)


async def first_visits_kept(store: Store) -> list[tuple]:
    await refresh_presence(store.db)
    rows = await store.db.fetchall("SELECT hub_id, person, member, companion, starts_at, session_id FROM first_visits")
    return sorted(tuple(row) for row in rows)


COUNTS = "session_id, yes, maybe, no, no_shows, brought, attended, walk_ins, known"


async def counts_kept(store: Store) -> list[tuple]:
    await refresh_presence(store.db)
    return [tuple(row) for row in await store.db.fetchall(f"SELECT {COUNTS} FROM session_counts ORDER BY session_id")]


async def counts_worked_out(store: Store) -> list[tuple]:
    """Each session's counts from scratch (storage.presence.session_counts over attendance, which the same
    checks compare with its own definition)."""
    rows = await store.db.fetchall(f"SELECT {COUNTS} FROM ({session_counts('1')}) ORDER BY session_id")
    return [tuple(row) for row in rows]


Figures = tuple[ReachTally, dict[int, tuple[int, int, int]], int]  # reach, week: (came, happier, answers), weeks


async def window_figures_read_plainly(store: Store, window: Window) -> Figures:
    """Reach, who came each week (and their happier answers), and the last week of `window`, read in plain Python
    from the definition's rows (not the kept tables): a person is new when their first visit to the hub is in the
    window."""
    params = window.params()
    rows = [row for row in await worked_out(store)
            if row[1] == window.hub_id and params["start"] <= row[2] < params["end"] and row[2] <= params["now"]]
    first = {(hub, person): starts for hub, person, _, _, starts, _ in await first_visits_worked_out(store)}
    held = await store.db.fetchall(
        "SELECT id, local_date FROM sessions WHERE hub_id = ? AND kind = 'weekly' AND cancelled_at IS NULL"
        " AND starts_at >= ? AND starts_at < ? AND starts_at <= ?",
        (window.hub_id, params["start"], params["end"], params["now"]))
    calendar_weeks = {row[0]: (date.fromisoformat(row[1]) - window.anchor).days // 7 for row in held}
    numbered = {week: n for n, week in enumerate(sorted(set(calendar_weeks.values())), 1)}
    week_of = {session: numbered[week] for session, week in calendar_weeks.items()}
    everyone, direct, bands, visits = set(), set(), {}, {}
    by_week: dict[int, set[int]] = {}
    unknown: Counter[int] = Counter()  # walk-in and anonymous visits at each week's weekly sessions
    for session, _, _, _, kind, person, _, band, what, _ in rows:
        event = kind in ("sharing", "celebration")
        if person is None:
            visits.setdefault((what, band), [0, 0])[event] += 1
            if session in week_of:
                unknown[week_of[session]] += 1
            continue
        everyone.add(person)
        if not event:
            direct.add(person)
        bands.setdefault((what, band), set()).add(person)
        if session in week_of:
            by_week.setdefault(week_of[session], set()).add(person)
    new = sum(1 for person in everyone if first[(window.hub_id, person)] >= params["start"])
    keys = sorted(set(bands) | set(visits), key=lambda key: (key[0], key[1] is not None, key[1] or ""))
    reach = ReachTally(
        direct_people=len(direct), direct_visits=sum(v[0] for v in visits.values()),
        indirect_people=len(everyone - direct), indirect_visits=sum(v[1] for v in visits.values()),
        new=new, returning=len(everyone) - new,
        by_band=tuple(BandCount(what, band, len(bands.get((what, band), ())), sum(visits.get((what, band), ())))
                      for what, band in keys))
    feelings: dict[int, list[int]] = {week: [0, 0] for week in numbered.values()}  # [happier, answers]
    for session, feeling in await store.db.fetchall("SELECT session_id, feeling FROM checkins"):
        if session in week_of and feeling is not None:
            feelings[week_of[session]][0] += feeling == "happier"
            feelings[week_of[session]][1] += 1
    weeks = {week: (len(by_week.get(week, ())) + unknown[week], *feelings[week]) for week in numbered.values()}
    return reach, weeks, max(numbered.values(), default=0)


async def window_figures_as_counted(store: Store, window: Window) -> Figures:
    async with store.attendance_snapshot(window) as snapshot:
        reach = await snapshot.reach_tally(window)
        weeks = await snapshot.week_tallies(window)
        returns = await snapshot.return_tally(window)
    return reach, {w.week: (w.attended, w.happier, w.answers) for w in weeks}, returns.weeks


async def all_kept_equal_their_definitions(store: Store) -> bool:
    return (await kept(store) == await worked_out(store)
            and await first_visits_kept(store) == await first_visits_worked_out(store)
            and await counts_kept(store) == await counts_worked_out(store))


@pytest.fixture
async def term(tmp_path):
    hub = term_hub()
    async with Store(tmp_path / "term.sqlite3") as store:
        await store.sync_hubs([hub], JOINED)
        seeded = await seed_term(store, hub)
        yield store, hub, seeded


async def test_the_seeded_term_is_kept_exactly_as_worked_out(term):
    store, _, seeded = term
    rows = await kept(store)
    assert await all_kept_equal_their_definitions(store)
    assert any(row[1] and row[6] for row in await counts_kept(store))  # Yes answers and people who came
    # and it is the term's attendance, not nothing: every week had people, the register's walk-ins are there
    assert {row[0] for row in rows} >= set(seeded.weeks)
    assert any(row[8] == "walk_in" for row in rows) and any(row[8] == "companion" for row in rows)
    assert not await store.db.fetchall("SELECT 1 FROM presence WHERE session_id = ?", (seeded.cancelled,))


async def test_a_random_walk_of_changes_keeps_it_equal_to_the_definition(term):
    store, hub, seeded = term
    rng = random.Random(16)
    members = list(seeded.members.values())
    companions = await store.db.fetchall("SELECT id, member_id FROM companions")
    sessions = [*seeded.weeks, seeded.sharing, seeded.summer, seeded.next_week]
    now = SUMMARY_DUE
    checked = 0
    autumn = term_period(hub, date(2026, 11, 17))
    assert autumn is not None
    windows = [autumn[1].window(hub, now), Period(date(2026, 6, 1), date(2026, 11, 30)).window(hub, now)]

    async def rsvp() -> None:
        session, member = rng.choice(sessions), rng.choice(members)
        own = [c for c, m in companions if m == member]
        chosen = None if not own or rng.random() < 0.5 else rng.sample(own, rng.randint(0, len(own)))
        await store.record_rsvp(session, member, rng.choice(["yes", "yes", "maybe", "no"]), now,
                                companion_ids=chosen)

    async def rsvp_within_capacity() -> None:  # as a tap answers: a full session puts a Yes on the waiting list
        session, member = rng.choice(sessions), rng.choice(members)
        await store.answer_rsvp(session, member, rng.choice(["yes", "yes", "no"]), now, capacity=rng.choice([4, 12]))

    async def checkin() -> None:
        session, member = rng.choice(sessions), rng.choice(members)
        changes = {"absent": True} if rng.random() < 0.3 else {"feeling": rng.choice(["happier", "same"])}
        await store.record_checkin_answer(session_id=session, hub_id=hub.id, member_id=member, changes=changes,
                                          answered_as="self", changeable_after=now - timedelta(days=400), now=now)

    async def register() -> None:
        session = rng.choice(seeded.weeks)
        await store.open_register(session, COORDINATOR_ID, now)
        lines = await store.db.fetchall("SELECT id FROM attendance WHERE session_id = ?", (session,))
        for (line,) in rng.sample(lines, min(len(lines), 3)):
            await store.toggle_attendance(line, COORDINATOR_ID, now)
        if rng.random() < 0.5:
            await store.add_walk_in(session, rng.choice(["Zed", "Uma"]), COORDINATOR_ID, now)
        if rng.random() < 0.7:
            await store.save_register(session, COORDINATOR_ID, now)

    async def companion_changes() -> None:  # no bot method yet: as a later feature would write it
        companion, _ = rng.choice(companions)
        if rng.random() < 0.5:
            await store.db.write("UPDATE companions SET age_band = ? WHERE id = ?",
                                 (rng.choice(["under_5", "age_5_11", "older"]), companion))
        else:
            await store.db.write("UPDATE companions SET removed_at = ? WHERE id = ?",
                                 (to_db(datetime(2026, 10, rng.randint(1, 28), tzinfo=UTC)), companion))

    async def move_or_cancel() -> None:
        session = rng.choice(sessions)
        if rng.random() < 0.3:
            await store.cancel_session(session, "roof", now)
        else:  # the timetable moved it (sync_sessions does this for sessions not yet begun)
            await store.db.write("UPDATE sessions SET starts_at = ?, kind = ? WHERE id = ?",
                                 (to_db(now + timedelta(days=rng.choice([-60, -3, 2]))),
                                  rng.choice(["weekly", "sharing", "event"]), session))

    steps = [rsvp] * 5 + [rsvp_within_capacity] * 2 + [checkin] * 4 + [register] * 2 + [companion_changes,
                                                                                       move_or_cancel]
    for step in range(160):
        await rng.choice(steps)()
        if step % 8 == 7:
            assert await all_kept_equal_their_definitions(store), step
            for window in windows:  # and the figures read from it are what a plain reading of the definition says
                assert await window_figures_as_counted(store, window) == await window_figures_read_plainly(
                    store, window), (step, window)
            checked += 1
    assert checked == 20
    # The walk really changed things: some of every kind of row is still there, and some Yes waits for a place.
    assert await store.db.fetchall("SELECT 1 FROM rsvps WHERE waitlisted_at IS NOT NULL")
    rows = await kept(store)
    assert {row[8] for row in rows} >= {"member", "companion", "walk_in"}
    # and first visits moved: some people's first visit is no longer the term's first week
    assert {row[5] for row in await first_visits_kept(store)} - {seeded.weeks[0]}


async def test_forget_withdrawal_and_retention_leave_nothing_behind_before_they_commit(term):
    store, _, seeded = term
    anna, cara = seeded.members["Anna"], seeded.members["Cara"]
    mia = seeded.companions["Mia"]
    await store.record_rsvp(seeded.weeks[9], anna, "yes", SUMMARY_DUE)  # left stale, not read yet
    assert await store.db.fetchall("SELECT 1 FROM presence_stale")
    user = (await store.member_by_id(anna)).telegram_user_id

    await store.forget_person(user, SUMMARY_DUE)
    # In the same transaction: nothing stale is left, and no row names Anna or her children.
    assert not await store.db.fetchall("SELECT 1 FROM presence_stale")
    assert not await store.db.fetchall("SELECT 1 FROM presence WHERE member = ? OR person IN (?, ?)",
                                       (anna, anna, -mia))
    assert not await store.db.fetchall("SELECT 1 FROM first_visits WHERE member = ? OR person IN (?, ?)",
                                       (anna, anna, -mia))
    assert await all_kept_equal_their_definitions(store)

    # Withdrawing wellbeing consent deletes Cara's check-ins: the sessions she came to only by checking in
    # no longer count her.
    await store.delete_wellbeing_answers(cara)
    assert not await store.db.fetchall("SELECT 1 FROM presence_stale")
    assert await all_kept_equal_their_definitions(store)

    # Retention detaches every old check-in: they still count as someone who came, nobody in particular.
    before = len(await store.db.fetchall("SELECT 1 FROM presence WHERE what = 'anonymous'"))
    late = datetime(2027, 12, 1, tzinfo=UTC)
    await store.retention_once(date(2027, 12, 1), RetentionCutoffs(late, late, late, late, late), late)
    assert not await store.db.fetchall("SELECT 1 FROM presence_stale")
    assert len(await store.db.fetchall("SELECT 1 FROM presence WHERE what = 'anonymous'")) > before
    assert await all_kept_equal_their_definitions(store)


async def test_migration_016_works_out_a_database_that_had_answers_before_it(tmp_path):
    """A database from before the table: every session is worked out on first use."""
    path = tmp_path / "old.sqlite3"
    hub = term_hub()
    async with Store(path) as store:
        await store.sync_hubs([hub], JOINED)
        await seed_term(store, hub)
        expected = await worked_out(store)
    with sqlite3.connect(path) as conn:  # as it was at 015: no table, no triggers, no record of 016
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute("DROP TABLE presence")
        conn.execute("DROP TABLE presence_stale")
        conn.execute("DELETE FROM schema_migrations WHERE number = 16")
    async with Store(path) as store:
        assert await kept(store) == expected


async def test_migration_018_finds_first_visits_in_attendance_kept_before_it(tmp_path):
    """A database from before first visits were kept: they are found in the attendance already worked out, and
    kept from then on."""
    path = tmp_path / "old.sqlite3"
    hub = term_hub()
    async with Store(path) as store:
        await store.sync_hubs([hub], JOINED)
        seeded = await seed_term(store, hub)
        await refresh_presence(store.db)
        expected = await first_visits_worked_out(store)
    assert expected
    with sqlite3.connect(path) as conn:  # as it was at 017: no table, no triggers, no record of 018
        conn.execute("DROP TABLE first_visits")  # its triggers are on presence: dropped on their own
        conn.execute("DROP TRIGGER first_visit_added")
        conn.execute("DROP TRIGGER first_visit_removed")
        conn.execute("DELETE FROM schema_migrations WHERE number = 18")
    async with Store(path) as store:
        assert await first_visits_kept(store) == expected
        # and kept from then on: everyone who came to the term's first week says No to it afterwards
        firsts = await store.db.fetchall("SELECT member FROM first_visits WHERE session_id = ? AND companion IS NULL",
                                         (seeded.weeks[0],))
        assert firsts
        for row in firsts:
            await store.record_rsvp(seeded.weeks[0], row["member"], "no", SUMMARY_DUE)
        assert await first_visits_kept(store) == await first_visits_worked_out(store) != expected


async def test_migration_019_counts_every_session_of_a_database_that_had_answers_before_it(tmp_path):
    path = tmp_path / "old.sqlite3"
    hub = term_hub()
    async with Store(path) as store:
        await store.sync_hubs([hub], JOINED)
        await seed_term(store, hub)
        expected = await counts_kept(store)
        assert expected == await counts_worked_out(store) and any(row[6] for row in expected)
    with sqlite3.connect(path) as conn:  # as it was at 018: no tables, no triggers, no record of 019
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                    " AND name LIKE 'session_counts_%'").fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute("DROP TABLE session_counts")
        conn.execute("DROP TABLE session_counts_stale")
        conn.execute("DELETE FROM schema_migrations WHERE number = 19")
    async with Store(path) as store:
        assert await counts_kept(store) == expected


async def test_counts_follow_changes_that_leave_attendance_as_it_was(term):
    """Each session's counts depend on more than who came: a No taken back, a companion added to a member who
    said Yes and then could not come. Attendance does not change there, so only the counts' own triggers see it."""
    store, hub, seeded = term
    saved = {row[0] for row in await store.db.fetchall("SELECT session_id FROM registers WHERE saved_at IS NOT NULL")}
    session = next(s for s in reversed(seeded.weeks) if s not in saved)
    silent = [row[0] for row in await store.db.fetchall(
        "SELECT id FROM members WHERE id NOT IN (SELECT member_id FROM rsvps WHERE session_id = :s)"
        " AND id NOT IN (SELECT member_id FROM checkins WHERE session_id = :s AND member_id IS NOT NULL)"
        " ORDER BY id", {"s": session})]
    alone = {row[0] for row in await store.db.fetchall(
        "SELECT id FROM members WHERE id NOT IN (SELECT member_id FROM companions)")}
    quiet = next(m for m in silent if m in alone)  # no companions: nothing but the answer itself goes with it
    bob = next(m for m in silent if m != quiet)
    await store.record_rsvp(session, quiet, "no", SUMMARY_DUE)
    await store.record_rsvp(session, bob, "yes", SUMMARY_DUE)
    await store.record_checkin_answer(session_id=session, hub_id=hub.id, member_id=bob, changes={"absent": True},
                                      answered_as="self", changeable_after=SUMMARY_DUE - timedelta(days=400),
                                      now=SUMMARY_DUE)
    before = {row[0]: row for row in await counts_kept(store)}[session]
    assert await all_kept_equal_their_definitions(store)
    presence_before = [row for row in await kept(store) if row[0] == session]

    await store.db.write("DELETE FROM rsvps WHERE session_id = ? AND member_id = ?", (session, quiet))
    after = {row[0]: row for row in await counts_kept(store)}[session]
    assert after[3] == before[3] - 1  # one No fewer
    assert await all_kept_equal_their_definitions(store)

    await store.db.write("INSERT INTO companions (member_id, name, age_band, relationship, created_at)"
                         " VALUES (?, 'Nell', 'under_5', 'grandchild', ?)", (bob, to_db(JOINED)))
    later = {row[0]: row for row in await counts_kept(store)}[session]
    assert later[5] == after[5] + 1  # the Yes brings one more (though they still cannot come)
    assert [row for row in await kept(store) if row[0] == session] == presence_before  # nobody came or went
    assert await all_kept_equal_their_definitions(store)
