"""Attendance counted many ways: the summary's, the dashboard's and the report's per-person figures.

Who came is kept in the `presence` table as answers arrive (storage.presence, migration 016). An
AttendanceSnapshot brings it up to date once, then reads one hub's window through its two covering indexes (in
session order, grouped by person); every figure is a GROUP BY over those. Whether someone is new or returning
asks their first visit to the hub, kept beside attendance in `first_visits` (migration 018).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from itertools import compress
from typing import Any

import aiosqlite

from storage.db import Database, from_db
from storage.presence import (
    Window,
    named_fetchall,
    refresh_presence,
    week_numbers,
)

EVENT_KINDS = frozenset({"sharing", "celebration"})  # reach through these is indirect


@dataclass(frozen=True, slots=True)
class HeldSessionTally:
    session_id: int
    kind: str
    title: str
    starts_at: datetime
    local_date: date
    register_taken: bool
    yes: int
    maybe: int
    no: int
    yes_people: int
    attended: int
    walk_ins: int
    new: int
    returning: int
    no_shows: int


@dataclass(frozen=True, slots=True)
class WeekTally:
    week: int
    first_day: date
    attended: int
    happier: int
    answers: int


@dataclass(frozen=True, slots=True)
class ReturnTally:
    weeks: int  # weeks with a held weekly session
    next_week_back: int  # person-weeks followed by the same person the next week
    next_week_of: int  # person-weeks that had a next week
    starters: int  # people in week 1
    last_week: int  # week 10, or the last week so far
    starters_back: int  # of the starters, came in last_week
    span: int  # weeks counted for "at least k of n" (at most 10)
    need: int  # k: 80 % of span, rounded up
    regulars: int  # people who came to at least `need` of the first `span` weeks
    people: int  # people who came at least once in those weeks


@dataclass(frozen=True, slots=True)
class FollowUp:
    member_id: int
    first_name: str
    reason: str  # missed_two | quiet


@dataclass(frozen=True, slots=True)
class BandCount:
    what: str  # member | companion | walk_in | anonymous
    band: str | None
    people: int  # distinct people (members, companions)
    visits: int  # walk-ins and anonymous attendances, counted per visit


@dataclass(frozen=True, slots=True)
class ReachTally:
    direct_people: int  # distinct people at weekly sessions and other events
    direct_visits: int  # walk-in and anonymous visits there
    indirect_people: int  # distinct people seen only at sharing and celebration events
    indirect_visits: int
    new: int  # people first seen in the window
    returning: int  # people seen at the hub before the window
    by_band: tuple[BandCount, ...]


@dataclass(frozen=True, slots=True)
class AttendanceRow:
    session_id: int
    local_date: date
    person: str  # m<id> or c<id>; "" for walk-ins and anonymised answers
    what: str
    age_band: str
    source: str  # register | inferred


def _n(value: Any) -> int:
    return int(value or 0)


# The snapshot's rows: the kept-up-to-date attendance (storage.presence) of one hub's held sessions in a window,
# read through one covering index or the other (in session order, or grouped by person).
_ROWS = """(SELECT * FROM presence INDEXED BY {index} WHERE hub_id = :snap_hub AND starts_at >= :snap_start
              AND starts_at < :snap_end AND starts_at <= :snap_now)"""
BY_SESSION = _ROWS.format(index="presence_by_session")
BY_PERSON = _ROWS.format(index="presence_by_person")


@asynccontextmanager
async def open_snapshot(db: Database, window: Window) -> AsyncIterator[AttendanceSnapshot]:
    await refresh_presence(db)
    yield AttendanceSnapshot(db, window)


class AttendanceSnapshot:
    """Who came to one hub's sessions in `window`; each method counts within a sub-window of it.

    The rows are the `presence` table's (worked out as answers arrive, brought up to date when the snapshot
    opens); `table` and `people` are them as sub-queries of the window (in session order, grouped by person), with
    their own :snap_ parameters.
    """

    def __init__(self, db: Database, window: Window) -> None:
        self.db, self.window = db, window
        self.table, self.people = BY_SESSION, BY_PERSON
        self._people: dict[tuple[str, str, str], WindowPeople] = {}
        self._snap = {f"snap_{key}": value for key, value in window.params().items() if key != "anchor"}

    def _params(self, window: Window, **extra: Any) -> dict[str, Any]:
        if window.start < self.window.start or window.end > self.window.end:
            raise ValueError("the window reaches outside the snapshot")
        return {**window.params(), **extra, **self._snap}

    async def session_tallies(self, window: Window) -> list[HeldSessionTally]:
        """Each held session in the window: answers against who came, new and returning people, no-shows.

        The counts are kept per session (`session_counts`, storage.presence.session_counts, brought up to date
        with attendance when the snapshot opened); new people are those whose first visit it was."""
        rows = await named_fetchall(self.db, """
            WITH win AS (
                SELECT id, kind, title, starts_at, local_date, EXISTS (SELECT 1 FROM registers g
                    WHERE g.session_id = sessions.id AND g.saved_at IS NOT NULL) AS saved
                FROM sessions WHERE hub_id = :hub
                AND cancelled_at IS NULL AND starts_at >= :start AND starts_at < :end AND starts_at <= :now
            ),
            -- New at a session: the people whose first visit to the hub it was (kept in first_visits, a range
            -- of its index). Everyone else known there is returning.
            fresh AS (
                SELECT f.session_id, COUNT(*) AS n FROM first_visits f INDEXED BY first_visits_by_start
                WHERE f.hub_id = :hub AND f.starts_at >= :start AND f.starts_at < :end AND f.starts_at <= :now
                GROUP BY f.session_id
            )
            SELECT w.id, w.kind, w.title, w.starts_at, w.local_date, k.yes, k.maybe, k.no, k.no_shows, k.brought,
                   k.attended, k.walk_ins, k.known, k.known - COALESCE(fresh.n, 0) AS returners, w.saved
            FROM win w LEFT JOIN session_counts k ON k.session_id = w.id LEFT JOIN fresh ON fresh.session_id = w.id
            ORDER BY w.starts_at, w.id""", self._params(window))
        return [
            HeldSessionTally(
                session_id=row["id"], kind=row["kind"], title=row["title"],
                starts_at=from_db(row["starts_at"]),  # type: ignore[arg-type]
                local_date=date.fromisoformat(row["local_date"]), register_taken=bool(row["saved"]),
                yes=_n(row["yes"]), maybe=_n(row["maybe"]), no=_n(row["no"]),
                yes_people=_n(row["yes"]) + _n(row["brought"]), attended=_n(row["attended"]),
                walk_ins=_n(row["walk_ins"]), new=_n(row["known"]) - _n(row["returners"]),
                returning=_n(row["returners"]), no_shows=_n(row["no_shows"]),
            )
            for row in rows
        ]

    async def _window_people(self, window: Window) -> WindowPeople:
        """Who came to each session of the window (people we can recognise, and the visits of those we cannot),
        gathered on the reader's thread in one pass over the window's rows in session order; once per window
        and snapshot."""
        params = self._params(window)
        key = (params["start"], params["end"], params["anchor"])
        if key not in self._people:
            self._people[key] = await self.db.read(lambda conn: _gather_window_people(conn, params))
        return self._people[key]

    async def week_tallies(self, window: Window) -> list[WeekTally]:
        """Week by week over the window (weekly sessions): people who came, and happier answers (of the check-in
        counts kept per session, checkin_counts: every answer has one of the three feelings or none)."""
        people = await self._window_people(window)
        known = people.weeks.people_by_week()
        rows = await named_fetchall(self.db, f"""
            WITH {week_numbers()}
            SELECT w.week, MIN(w.local_date) AS first_day, SUM(k.happier) AS happier,
                   SUM(k.happier + k.same + k.less_happy) AS answers
            FROM wk w LEFT JOIN checkin_counts k ON k.session_id = w.id
            GROUP BY w.week ORDER BY w.week""", self._params(window))
        return [WeekTally(row["week"], date.fromisoformat(row["first_day"]),
                          known.get(row["week"], 0) + people.unknown_by_week.get(row["week"], 0),
                          _n(row["happier"]), _n(row["answers"]))
                for row in rows]

    async def return_tally(self, window: Window) -> ReturnTally:
        """The three return measures over the window's weeks, for people we can recognise week to week."""
        return (await self._window_people(window)).weeks.returns()

    async def follow_ups(self, window: Window) -> list[FollowUp]:
        """Members who came earlier in the window but not to its last two weekly sessions.

        `quiet`: nothing from them at all (no RSVP, no check-in, not there) in the last three weekly sessions;
        otherwise `missed_two`.
        """
        rows = await named_fetchall(self.db, f"""
            WITH recent AS (
                SELECT id, starts_at, ROW_NUMBER() OVER (ORDER BY starts_at DESC, id DESC) AS back
                FROM sessions WHERE hub_id = :hub AND kind = 'weekly' AND cancelled_at IS NULL
                AND starts_at >= :start AND starts_at < :end AND starts_at <= :now
            ),
            cutoff AS (SELECT starts_at FROM recent WHERE back = 2),
            flags AS (
                SELECT p.person,
                       MAX(p.starts_at < (SELECT starts_at FROM cutoff)) AS earlier,
                       MAX(p.session_id IN (SELECT id FROM recent WHERE back <= 2)) AS last_two,
                       MAX(p.session_id IN (SELECT id FROM recent WHERE back <= 3)) AS last_three
                FROM {self.people} p WHERE p.person > 0 AND p.starts_at >= :start AND p.starts_at < :end
                GROUP BY p.person
            ),
            answered AS (
                SELECT member_id FROM rsvps WHERE session_id IN (SELECT id FROM recent WHERE back <= 3)
                UNION SELECT member_id FROM checkins WHERE session_id IN (SELECT id FROM recent WHERE back <= 3)
            )
            SELECT m.id, m.first_name,
                   CASE WHEN f.last_three OR m.id IN (SELECT member_id FROM answered) THEN 'missed_two'
                        ELSE 'quiet' END AS reason
            FROM flags f JOIN members m ON m.id = f.person
            JOIN memberships ms ON ms.member_id = m.id AND ms.hub_id = :hub AND ms.left_at IS NULL
            WHERE f.earlier = 1 AND f.last_two = 0 AND EXISTS (SELECT 1 FROM cutoff)
            ORDER BY reason, m.first_name COLLATE NOCASE, m.id""", self._params(window))
        return [FollowUp(row["id"], row["first_name"], row["reason"]) for row in rows]

    async def reach_tally(self, window: Window) -> ReachTally:
        """People reached in the window, directly and through sharing and celebration events; new and returning.

        From the window's people gathered in one pass (WindowPeople): people are sets of ids, bands the distinct
        people in each; new people are those whose first visit to the hub (first_visits) is in the window."""
        return (await self._window_people(window)).reach()

    async def attendance_rows(self, window: Window) -> list[AttendanceRow]:
        return [attendance_row(row) for row in await self.attendance_records(window)]

    async def attendance_records(self, window: Window) -> list[aiosqlite.Row]:
        """The rows of attendance_rows as fetched, for a caller that turns a year of them into AttendanceRows
        (attendance_row) away from the event loop."""
        return await named_fetchall(self.db, f"""
            SELECT session_id, local_date, person, what, band, registered FROM {self.table}
            WHERE starts_at >= :start AND starts_at < :end ORDER BY starts_at, session_id, what, person""",
            self._params(window))


@dataclass(frozen=True, slots=True)
class PersonWeeks:
    """The people we can recognise who came to a weekly session in each week (1, 2, ...: storage.presence.
    week_numbers) of a window, and the window's last week."""

    weeks: int
    by_week: dict[int, set[int]]

    def people_by_week(self) -> dict[int, int]:
        return {week: len(people) for week, people in self.by_week.items()}

    def returns(self) -> ReturnTally:
        """Next week back: of each week's people before the last week, how many came the week after. Starters
        back: of week 1's people, how many came in week n (the 10th, or the last if fewer). Regulars: of the
        people of weeks 1..n, how many came to at least 80 % of them. Sets of people, week against week."""
        span = min(10, self.weeks)
        need = (8 * span + 9) // 10
        weeks = self.by_week
        back = sum(len(people & weeks[week + 1]) for week, people in weeks.items() if week + 1 in weeks)
        of = sum(len(people) for week, people in weeks.items() if week < self.weeks)
        starters = weeks.get(1, set())
        early: Counter[int] = Counter()
        for week in range(1, span + 1):
            early.update(weeks.get(week, ()))
        return ReturnTally(weeks=self.weeks, next_week_back=back, next_week_of=of, starters=len(starters),
                           last_week=span, starters_back=len(starters & weeks.get(span, set())), span=span,
                           need=need, regulars=sum(1 for times in early.values() if times >= need),
                           people=len(early))


@dataclass(frozen=True, slots=True)
class WindowPeople:
    """Who came to a window's sessions, as sets: the people we can recognise (members; companions as minus
    their id), whether each came directly (not only to sharing and celebration events), the distinct people of
    each (what, band), and the visits of walk-ins and anonymised answers, which are counted per visit."""

    weeks: PersonWeeks  # weekly sessions only
    unknown_by_week: dict[int, int]  # walk-in and anonymous visits at each week's weekly sessions
    everyone: set[int]
    direct: set[int]
    new: set[int]  # whose first visit to the hub is in the window
    bands: dict[tuple[str, str | None], set[int]]
    visits: dict[tuple[str, str | None], list[int]]  # (what, band): [direct visits, visits at events]

    def reach(self) -> ReachTally:
        direct_visits = sum(direct for direct, _ in self.visits.values())
        indirect_visits = sum(events for _, events in self.visits.values())
        new = len(self.new & self.everyone)
        counts = {key: [len(people), 0] for key, people in self.bands.items()}
        for key, (direct, events) in self.visits.items():
            counts.setdefault(key, [0, 0])[1] += direct + events
        return ReachTally(
            direct_people=len(self.direct), direct_visits=direct_visits,
            indirect_people=len(self.everyone) - len(self.direct), indirect_visits=indirect_visits,
            new=new, returning=len(self.everyone) - new,
            by_band=tuple(BandCount(what, band, people, visits)
                          for (what, band), (people, visits) in sorted(counts.items(), key=_band_order)),
        )


def _band_order(item: tuple[tuple[str, str | None], list[int]]) -> tuple[str, bool, str]:
    (what, band), _ = item
    return what, band is not None, band or ""


# One row per session and kind of person (what), in the order of the session index, so SQLite groups as it
# reads and sorts nothing: the people as one JSON list of ids (which Python reads faster than any split), their
# bands as a string in the same order ('' for none). Persons are NULL exactly for walk-ins and anonymised answers,
# so a group is all one or the other.
_WINDOW_ROWS = """SELECT p.session_id, p.kind, p.what, CASE WHEN COUNT(p.person) THEN json_group_array(p.person) END,
    group_concat(COALESCE(p.band, ''), char(31)), COUNT(*)
    FROM presence p INDEXED BY presence_by_session WHERE p.hub_id = :hub AND p.starts_at >= :start
    AND p.starts_at < :end AND p.starts_at <= :now GROUP BY p.starts_at, p.session_id, p.what"""
_WEEK_OF = f"WITH {week_numbers()} SELECT id, week FROM wk"
_NEW = """SELECT person FROM first_visits INDEXED BY first_visits_by_start
    WHERE hub_id = :hub AND starts_at >= :start AND starts_at < :end AND starts_at <= :now"""


def _gather_window_people(conn: sqlite3.Connection, params: dict[str, Any]) -> WindowPeople:
    """WindowPeople from the window's rows (on the reader's thread)."""
    cursor = conn.cursor()
    cursor.row_factory = None
    week_of = dict(cursor.execute(_WEEK_OF, params).fetchall())
    by_week: dict[int, set[int]] = {}
    unknown: Counter[int] = Counter()
    everyone: set[int] = set()
    direct: set[int] = set()
    bands: dict[tuple[str, str | None], set[int]] = {}
    visits: dict[tuple[str, str | None], list[int]] = {}
    for session_id, kind, what, persons, band_list, n in cursor.execute(_WINDOW_ROWS, params).fetchall():
        week = week_of.get(session_id)
        labels = band_list.split("\x1f")
        if persons is None:  # walk-ins, anonymised answers: visits
            if week is not None:
                unknown[week] += n
            for band, count in Counter(labels).items():
                visits.setdefault((what, band or None), [0, 0])[kind in EVENT_KINDS] += count
            continue
        ids = json.loads(persons)
        people = set(ids)
        everyone |= people
        if kind not in EVENT_KINDS:
            direct |= people
        if week is not None:
            by_week.setdefault(week, set()).update(people)
        if len(labels) != len(ids):  # a band holding the separator: refuse rather than count the wrong people
            raise ValueError(f"session {session_id}: {len(ids)} people but {len(labels)} bands")
        if labels.count(labels[0]) == len(labels):
            bands.setdefault((what, labels[0] or None), set()).update(people)
        else:  # a few bands: each one's people picked out of the group in one pass (in C, not a Python loop)
            for band in set(labels):
                bands.setdefault((what, band or None), set()).update(compress(ids, map(band.__eq__, labels)))
    new = {person for (person,) in cursor.execute(_NEW, params)}
    return WindowPeople(PersonWeeks(max(week_of.values(), default=0), by_week), dict(unknown), everyone, direct, new,
                        bands, visits)


def attendance_row(row: aiosqlite.Row) -> AttendanceRow:
    """One fetched attendance record as an AttendanceRow (pure: safe in any thread)."""
    return AttendanceRow(row["session_id"], date.fromisoformat(row["local_date"]), _person(row["person"]),
                         row["what"], row["band"] or "", "register" if row["registered"] else "inferred")


def _person(person: int | None) -> str:
    if person is None:
        return ""
    return f"m{person}" if person > 0 else f"c{-person}"
