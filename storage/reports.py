"""Aggregate queries behind the weekly summary, the chart and the funder report.

Every figure is counted by SQLite (GROUP BY, window functions), never by looping over rows in Python,
so a hub with thousands of members and years of answers stays quick. Attendance is the `present` relation
of storage.presence (register where one was saved, else inferred from check-ins and RSVPs), kept in the
`presence` table as answers arrive and read through an AttendanceSnapshot (storage.snapshot). Check-in totals are
kept per session in `checkin_counts` (migration 017), exact at every commit.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import Database, from_db, to_db
from storage.presence import (
    CHILD_BANDS,
    COMPANION_COMES,
    Window,
    named_fetchall,
    named_fetchone,
    refresh_presence,
)
from storage.snapshot import AttendanceSnapshot, open_snapshot


@dataclass(frozen=True, slots=True)
class CheckinTally:
    session_id: int
    starts_at: datetime
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

    def attendance_snapshot(self, window: Window) -> AbstractAsyncContextManager[AttendanceSnapshot]:
        """Who came to the hub's sessions in the window, worked out once for several figures:

            async with store.attendance_snapshot(window) as snapshot:
                weeks = await snapshot.week_tallies(term)
        """
        return open_snapshot(self.db, window)

    async def bring_attendance_up_to_date(self) -> int:
        """Work out again the attendance that answers changed since it was last read (storage.presence): a
        commit when there was something to do, nothing otherwise. Returns how many entries were stale."""
        return await refresh_presence(self.db)

    async def checkin_tallies(self, window: Window) -> list[CheckinTally]:
        """Each held session in the window: who was asked to check in, and what they answered.

        Read from `checkin_counts` (migration 017), which triggers keep exact as answers and check-in messages
        change; a session with nothing counted has no row there and counts zero."""
        rows = await named_fetchall(
            self.db,
            """SELECT s.id, s.starts_at, k.asked, k.responses, k.happier, k.same, k.less_happy, k.absent,
                      k.connected_yes, k.connected_little, k.connected_not, k.on_behalf
            FROM sessions s LEFT JOIN checkin_counts k ON k.session_id = s.id
            WHERE s.hub_id = :hub AND s.cancelled_at IS NULL
              AND s.starts_at <= :now AND s.starts_at >= :start AND s.starts_at < :end
            ORDER BY s.id""",
            window.params(),
        )
        tallies = []
        for row in rows:
            responses = _n(row["responses"])
            tallies.append(CheckinTally(
                session_id=row["id"], starts_at=from_db(row["starts_at"]),  # type: ignore[arg-type]
                asked=max(_n(row["asked"]), responses), responses=responses,
                happier=_n(row["happier"]), same=_n(row["same"]), less_happy=_n(row["less_happy"]),
                absent=_n(row["absent"]), connected_yes=_n(row["connected_yes"]),
                connected_little=_n(row["connected_little"]), connected_not=_n(row["connected_not"]),
                on_behalf=_n(row["on_behalf"]),
            ))
        return tallies

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
