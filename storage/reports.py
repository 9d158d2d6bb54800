"""Aggregate queries behind the weekly summary, the chart and the funder report.

Every figure is counted by SQLite (GROUP BY, window functions), never by looping over rows in Python,
so a hub with thousands of members and years of answers stays quick. Attendance is the `present` relation
of storage.presence (register where one was saved, else inferred from check-ins and RSVPs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from storage.db import Database, from_db, to_db
from storage.presence import (
    CHILD_BANDS,
    COMPANION_COMES,
    Window,
    named_fetchall,
    named_fetchone,
    presence,
    week_numbers,
)


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
class CheckinTally:
    session_id: int
    asked: int
    responses: int
    happier: int
    same: int
    less_happy: int
    absent: int
    connected_yes: int
    connected_little: int
    connected_not: int
    on_behalf: int


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
class UpcomingTally:
    session_id: int
    kind: str
    title: str
    starts_at: datetime
    yes: int
    maybe: int
    no: int
    waitlisted: int
    adults: int
    children: int


@dataclass(frozen=True, slots=True)
class AlertTally:
    raised: int
    acknowledged: int
    talk_requests: int
    low_checkins: int
    low_measures: int
    open_now: int  # not acknowledged yet, whenever raised


def _n(value: Any) -> int:
    return int(value or 0)


class ReportQueries:
    """Mixed into Store: the counts the summary and report are made of."""

    db: Database

    async def held_session_tallies(self, window: Window) -> list[HeldSessionTally]:
        """Each held session in the window: answers against who came, new and returning people, no-shows."""
        yes_companions = COMPANION_COMES.format(start="w.starts_at")
        rows = await named_fetchall(
            self.db,
            f"""WITH {presence("starts_at < :end")},
            win AS (SELECT * FROM held WHERE starts_at >= :start),
            first AS (
                SELECT p.person, MIN(h.starts_at) AS first_at FROM present p JOIN held h ON h.id = p.session_id
                WHERE p.person IS NOT NULL AND p.person IN (
                    SELECT q.person FROM present q JOIN win w ON w.id = q.session_id)
                GROUP BY p.person
            ),
            pres AS (
                SELECT w.id, COUNT(*) AS attended, SUM(p.what = 'walk_in') AS walk_ins,
                       SUM(f.first_at = w.starts_at) AS new, SUM(f.first_at < w.starts_at) AS returners
                FROM win w JOIN present p ON p.session_id = w.id LEFT JOIN first f ON f.person = p.person
                GROUP BY w.id
            ),
            ans AS (
                SELECT w.id, SUM(r.answer = 'yes' AND r.waitlisted_at IS NULL) AS yes,
                       SUM(r.answer = 'maybe') AS maybe, SUM(r.answer = 'no') AS no,
                       SUM(r.answer = 'yes' AND r.waitlisted_at IS NULL AND NOT EXISTS (
                           SELECT 1 FROM present p WHERE p.session_id = w.id AND p.person = r.member_id)) AS no_shows
                FROM win w JOIN rsvps r ON r.session_id = w.id GROUP BY w.id
            ),
            brought AS (
                SELECT w.id, COUNT(*) AS n FROM win w JOIN rsvps r ON r.session_id = w.id
                JOIN companions co ON co.member_id = r.member_id
                WHERE r.answer = 'yes' AND r.waitlisted_at IS NULL AND {yes_companions}
                GROUP BY w.id
            )
            SELECT w.id, w.kind, w.title, w.starts_at, w.local_date, w.id IN (SELECT session_id FROM marked) AS reg,
                   ans.yes, ans.maybe, ans.no, ans.no_shows, brought.n AS brought,
                   pres.attended, pres.walk_ins, pres.new, pres.returners
            FROM win w LEFT JOIN pres ON pres.id = w.id LEFT JOIN ans ON ans.id = w.id
            LEFT JOIN brought ON brought.id = w.id
            ORDER BY w.starts_at, w.id""",
            window.params(),
        )
        return [
            HeldSessionTally(
                session_id=row["id"], kind=row["kind"], title=row["title"],
                starts_at=from_db(row["starts_at"]),  # type: ignore[arg-type]
                local_date=date.fromisoformat(row["local_date"]), register_taken=bool(row["reg"]),
                yes=_n(row["yes"]), maybe=_n(row["maybe"]), no=_n(row["no"]),
                yes_people=_n(row["yes"]) + _n(row["brought"]), attended=_n(row["attended"]),
                walk_ins=_n(row["walk_ins"]), new=_n(row["new"]), returning=_n(row["returners"]),
                no_shows=_n(row["no_shows"]),
            )
            for row in rows
        ]

    async def checkin_tallies(self, window: Window) -> list[CheckinTally]:
        """Each held session in the window: who was asked to check in, and what they answered."""
        rows = await named_fetchall(
            self.db,
            """WITH held AS (
                SELECT id FROM sessions WHERE hub_id = :hub AND cancelled_at IS NULL AND starts_at <= :now
                AND starts_at >= :start AND starts_at < :end
            ),
            asked AS (
                SELECT h.id, COUNT(DISTINCT d.chat_id) AS n FROM held h
                JOIN deliveries d ON d.session_id = h.id AND d.kind = 'checkin' AND d.state = 'sent'
                GROUP BY h.id
            )
            SELECT h.id, asked.n AS asked,
                   COUNT(c.id) FILTER (WHERE c.feeling IS NOT NULL OR c.absent = 1 OR c.connected IS NOT NULL)
                       AS responses,
                   SUM(c.feeling = 'happier') AS happier, SUM(c.feeling = 'same') AS same,
                   SUM(c.feeling = 'less_happy') AS less_happy, SUM(c.absent = 1) AS absent,
                   SUM(c.connected = 'yes') AS c_yes, SUM(c.connected = 'a_little') AS c_little,
                   SUM(c.connected = 'not_really') AS c_not,
                   SUM(c.answered_as = 'on_behalf' AND c.feeling IS NOT NULL) AS on_behalf
            FROM held h LEFT JOIN asked ON asked.id = h.id LEFT JOIN checkins c ON c.session_id = h.id
            GROUP BY h.id ORDER BY h.id""",
            window.params(),
        )
        tallies = []
        for row in rows:
            responses = _n(row["responses"])
            tallies.append(CheckinTally(
                session_id=row["id"], asked=max(_n(row["asked"]), responses), responses=responses,
                happier=_n(row["happier"]), same=_n(row["same"]), less_happy=_n(row["less_happy"]),
                absent=_n(row["absent"]), connected_yes=_n(row["c_yes"]), connected_little=_n(row["c_little"]),
                connected_not=_n(row["c_not"]), on_behalf=_n(row["on_behalf"]),
            ))
        return tallies

    async def week_tallies(self, window: Window) -> list[WeekTally]:
        """Week by week over the window (weekly sessions): people who came, and happier answers."""
        rows = await named_fetchall(
            self.db,
            f"""WITH {presence("starts_at >= :start AND starts_at < :end")}, {week_numbers()},
            att AS (
                SELECT w.week, COUNT(DISTINCT p.person) + SUM(p.person IS NULL) AS n
                FROM present p JOIN wk w ON w.id = p.session_id GROUP BY w.week
            ),
            chk AS (
                SELECT w.week, SUM(c.feeling = 'happier') AS happier, COUNT(c.feeling) AS answers
                FROM wk w JOIN checkins c ON c.session_id = w.id GROUP BY w.week
            )
            SELECT w.week, MIN(w.local_date) AS first_day, att.n, chk.happier, chk.answers
            FROM wk w LEFT JOIN att ON att.week = w.week LEFT JOIN chk ON chk.week = w.week
            GROUP BY w.week ORDER BY w.week""",
            window.params(),
        )
        return [
            WeekTally(row["week"], date.fromisoformat(row["first_day"]), _n(row["n"]), _n(row["happier"]),
                      _n(row["answers"]))
            for row in rows
        ]

    async def return_tally(self, window: Window) -> ReturnTally:
        """The three return measures over the window's weeks, for people we can recognise week to week."""
        row = await named_fetchone(
            self.db,
            f"""WITH {presence("starts_at >= :start AND starts_at < :end")}, {week_numbers()},
            pw AS MATERIALIZED (
                SELECT DISTINCT p.person, w.week FROM present p JOIN wk w ON w.id = p.session_id
                WHERE p.person IS NOT NULL
            ),
            span AS (SELECT COALESCE(MAX(week), 0) AS weeks, MIN(10, COALESCE(MAX(week), 0)) AS n FROM wk)
            SELECT span.weeks, span.n,
                (SELECT COUNT(*) FROM pw a JOIN pw b ON b.person = a.person AND b.week = a.week + 1) AS w2w,
                (SELECT COUNT(*) FROM pw WHERE week < span.weeks) AS w2w_of,
                (SELECT COUNT(*) FROM pw WHERE week = 1) AS starters,
                (SELECT COUNT(*) FROM pw a JOIN pw b ON b.person = a.person AND b.week = span.n
                 WHERE a.week = 1) AS starters_back,
                (SELECT COUNT(*) FROM (SELECT person FROM pw WHERE week <= span.n GROUP BY person
                                       HAVING COUNT(*) >= (8 * span.n + 9) / 10)) AS regulars,
                (SELECT COUNT(DISTINCT person) FROM pw WHERE week <= span.n) AS people
            FROM span""",
            window.params(),
        )
        assert row is not None
        span = _n(row["n"])
        return ReturnTally(
            weeks=_n(row["weeks"]), next_week_back=_n(row["w2w"]), next_week_of=_n(row["w2w_of"]),
            starters=_n(row["starters"]), last_week=span, starters_back=_n(row["starters_back"]),
            span=span, need=(8 * span + 9) // 10, regulars=_n(row["regulars"]), people=_n(row["people"]),
        )

    async def follow_ups(self, window: Window) -> list[FollowUp]:
        """Members who came earlier in the window but not to its last two weekly sessions.

        `quiet`: nothing from them at all (no RSVP, no check-in, not there) in the last three weekly sessions;
        otherwise `missed_two`.
        """
        rows = await named_fetchall(
            self.db,
            f"""WITH {presence("starts_at >= :start AND starts_at < :end")},
            recent AS (
                SELECT id, starts_at, ROW_NUMBER() OVER (ORDER BY starts_at DESC, id DESC) AS back
                FROM held WHERE kind = 'weekly'
            ),
            cutoff AS (SELECT starts_at FROM recent WHERE back = 2),
            flags AS (
                SELECT p.person,
                       MAX(h.starts_at < (SELECT starts_at FROM cutoff)) AS earlier,
                       MAX(p.session_id IN (SELECT id FROM recent WHERE back <= 2)) AS last_two,
                       MAX(p.session_id IN (SELECT id FROM recent WHERE back <= 3)) AS last_three
                FROM present p JOIN held h ON h.id = p.session_id WHERE p.person > 0 GROUP BY p.person
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
            ORDER BY reason, m.first_name COLLATE NOCASE, m.id""",
            window.params(),
        )
        return [FollowUp(row["id"], row["first_name"], row["reason"]) for row in rows]

    async def upcoming_tallies(self, hub_id: str, start: datetime, end: datetime) -> list[UpcomingTally]:
        """Open sessions starting in [start, end): answers so far, adults and children coming, waitlist."""
        children = ", ".join(f"'{band}'" for band in CHILD_BANDS)
        comes = COMPANION_COMES.format(start="s.starts_at")
        rows = await named_fetchall(
            self.db,
            f"""WITH up AS (
                SELECT id, kind, title, starts_at FROM sessions
                WHERE hub_id = :hub AND cancelled_at IS NULL AND starts_at >= :start AND starts_at < :end
            ),
            ans AS (
                SELECT s.id, SUM(r.answer = 'yes' AND r.waitlisted_at IS NULL) AS yes,
                       SUM(r.answer = 'maybe') AS maybe, SUM(r.answer = 'no') AS no,
                       SUM(r.answer = 'yes' AND r.waitlisted_at IS NOT NULL) AS waitlisted
                FROM up s JOIN rsvps r ON r.session_id = s.id GROUP BY s.id
            ),
            brought AS (
                SELECT s.id, SUM(co.age_band NOT IN ({children})) AS adults,
                       SUM(co.age_band IN ({children})) AS children
                FROM up s JOIN rsvps r ON r.session_id = s.id JOIN companions co ON co.member_id = r.member_id
                WHERE r.answer = 'yes' AND r.waitlisted_at IS NULL AND {comes}
                GROUP BY s.id
            )
            SELECT s.id, s.kind, s.title, s.starts_at, ans.yes, ans.maybe, ans.no, ans.waitlisted,
                   brought.adults, brought.children
            FROM up s LEFT JOIN ans ON ans.id = s.id LEFT JOIN brought ON brought.id = s.id
            ORDER BY s.starts_at, s.id""",
            {"hub": hub_id, "start": to_db(start), "end": to_db(end)},
        )
        return [
            UpcomingTally(
                session_id=row["id"], kind=row["kind"], title=row["title"],
                starts_at=from_db(row["starts_at"]),  # type: ignore[arg-type]
                yes=_n(row["yes"]), maybe=_n(row["maybe"]), no=_n(row["no"]), waitlisted=_n(row["waitlisted"]),
                adults=_n(row["yes"]) + _n(row["adults"]), children=_n(row["children"]),
            )
            for row in rows
        ]

    async def alert_tally(self, hub_id: str, start: datetime, end: datetime) -> AlertTally:
        """Alerts raised in [start, end) and whether acknowledged; plus every alert still waiting."""
        row = await named_fetchone(
            self.db,
            """SELECT COUNT(*) FILTER (WHERE raised_at >= :start AND raised_at < :end) AS raised,
                      COUNT(*) FILTER (WHERE raised_at >= :start AND raised_at < :end
                                       AND acknowledged_at IS NOT NULL) AS acknowledged,
                      COUNT(*) FILTER (WHERE raised_at >= :start AND raised_at < :end
                                       AND trigger = 'talk_request') AS talk,
                      COUNT(*) FILTER (WHERE raised_at >= :start AND raised_at < :end
                                       AND trigger = 'low_checkin') AS low_checkin,
                      COUNT(*) FILTER (WHERE raised_at >= :start AND raised_at < :end
                                       AND trigger = 'low_measure') AS low_measure,
                      COUNT(*) FILTER (WHERE acknowledged_at IS NULL AND raised_at < :end) AS open_now
               FROM alerts WHERE hub_id = :hub""",
            {"hub": hub_id, "start": to_db(start), "end": to_db(end)},
        )
        assert row is not None
        return AlertTally(_n(row["raised"]), _n(row["acknowledged"]), _n(row["talk"]), _n(row["low_checkin"]),
                          _n(row["low_measure"]), _n(row["open_now"]))
