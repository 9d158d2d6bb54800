"""Attendance as SQL: the `present` relation every figure is counted from, and the window it is read over.

For a session whose register was saved, the people the coordinator ticked (walk-ins included); for any other
session it is inferred: a member who checked in without saying they could not come, or who said Yes and did
not say they were absent, with the companions their answer brought. Anonymised check-ins (retention) still
count as someone who came. A person is a member (their id) or a companion (minus its id); walk-ins and
anonymised rows have no person.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiosqlite

from storage.db import Database, to_db

CHILD_BANDS = ("under_5", "age_5_11", "age_12_15", "age_16_17")

# A companion comes with the member `r` answered for, to session `{start}`: they existed then, and the
# answer brought everyone or chose them. `r` may be NULL (no RSVP): then everyone comes.
COMPANION_COMES = """co.created_at <= {start} AND (co.removed_at IS NULL OR co.removed_at > {start})
    AND (r.all_companions IS NULL OR r.all_companions = 1 OR EXISTS (SELECT 1 FROM rsvp_companions rc
         WHERE rc.session_id = r.session_id AND rc.member_id = r.member_id AND rc.companion_id = co.id))"""


def presence(held_where: str, *, members: bool = False) -> str:
    """CTEs `held`, `marked`, `came`, `present` for the hub's held sessions matching `held_where`.

    `came` has two disjoint halves (checked in without a Yes; said Yes and did not say they were absent), so
    no step has to remove duplicates. Each row carries its session's start, day and kind, so nothing has to
    look the session up again.

    `present` has one row per person at a session:
    (session_id, starts_at, local_date, kind, person, member, band, what, registered).
    Parameters: :hub, :now, whatever `held_where` names, and with `members` a JSON list :members: then only
    those members (and their companions) are looked at, each through the member indexes, so asking about a
    few people's whole history is quick however long the history is.
    """
    companion_comes = COMPANION_COMES.format(start="k.starts_at")
    checkins = ("json_each(:members) j CROSS JOIN checkins c ON c.member_id = j.value"
                " JOIN held h ON h.id = c.session_id" if members else "held h JOIN checkins c ON c.session_id = h.id")
    rsvps = ("json_each(:members) j CROSS JOIN rsvps r ON r.member_id = j.value JOIN held h ON h.id = r.session_id"
             if members else "held h JOIN rsvps r ON r.session_id = h.id")
    marks = ("json_each(:members) j CROSS JOIN attendance a ON a.member_id = j.value"
             " JOIN marked g ON g.session_id = a.session_id" if members
             else "marked g JOIN attendance a ON a.session_id = g.session_id")
    anonymous = "" if members else """
    UNION ALL
    SELECT h.id, h.starts_at, h.local_date, h.kind, NULL, NULL, NULL, 'anonymous', 0
    FROM held h JOIN checkins c ON c.session_id = h.id
    WHERE c.member_id IS NULL AND c.absent = 0 AND h.id NOT IN (SELECT session_id FROM marked)"""
    columns = "h.id AS session_id, h.starts_at, h.local_date, h.kind"
    return f"""
held AS (
    SELECT id, kind, title, starts_at, local_date FROM sessions
    WHERE hub_id = :hub AND cancelled_at IS NULL AND starts_at <= :now AND {held_where}
),
marked AS (
    SELECT {columns} FROM held h JOIN registers g ON g.session_id = h.id WHERE g.saved_at IS NOT NULL
),
came AS (
    SELECT {columns}, c.member_id FROM {checkins}
    WHERE c.absent = 0 AND c.member_id IS NOT NULL AND h.id NOT IN (SELECT session_id FROM marked)
      AND NOT EXISTS (SELECT 1 FROM rsvps r WHERE r.session_id = c.session_id AND r.member_id = c.member_id
                      AND r.answer = 'yes')
    UNION ALL
    SELECT {columns}, r.member_id FROM {rsvps}
    WHERE r.answer = 'yes' AND h.id NOT IN (SELECT session_id FROM marked)
      AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.session_id = r.session_id
                      AND c.member_id = r.member_id AND c.absent = 1)
),
present AS (
    SELECT k.session_id, k.starts_at, k.local_date, k.kind, k.member_id AS person, k.member_id AS member,
           NULL AS band, 'member' AS what, 0 AS registered
    FROM came k
    UNION ALL
    SELECT k.session_id, k.starts_at, k.local_date, k.kind, -co.id, k.member_id, co.age_band, 'companion', 0
    FROM came k
    JOIN companions co ON co.member_id = k.member_id
    LEFT JOIN rsvps r ON r.session_id = k.session_id AND r.member_id = k.member_id
    WHERE {companion_comes}
    UNION ALL
    SELECT g.session_id, g.starts_at, g.local_date, g.kind,
           CASE WHEN a.walk_in_name IS NOT NULL THEN NULL WHEN a.companion_id IS NULL THEN a.member_id
                ELSE -a.companion_id END,
           a.member_id,
           COALESCE(a.age_band, co.age_band),
           CASE WHEN a.walk_in_name IS NOT NULL THEN 'walk_in' WHEN a.companion_id IS NULL THEN 'member'
                ELSE 'companion' END,
           1
    FROM {marks}
    LEFT JOIN companions co ON co.id = a.companion_id
    WHERE a.present = 1{anonymous}
)"""


def week_numbers() -> str:
    """CTE `wk`: the held weekly sessions starting in [:start, :end), numbered by calendar week counted from
    the Monday :anchor; a week without a session (half term) is skipped, not counted."""
    return """
wk AS (
    SELECT id, local_date, DENSE_RANK() OVER (
        ORDER BY CAST((julianday(local_date) - julianday(:anchor)) / 7 AS INTEGER)) AS week
    FROM sessions WHERE hub_id = :hub AND kind = 'weekly' AND cancelled_at IS NULL
        AND starts_at >= :start AND starts_at < :end AND starts_at <= :now
)"""


@dataclass(frozen=True, slots=True)
class Window:
    """Sessions of one hub starting in [start, end) and already begun at `now`; weeks counted from `anchor`."""

    hub_id: str
    start: datetime
    end: datetime
    now: datetime
    anchor: date  # the Monday of the first week

    def params(self) -> dict[str, Any]:
        return {"hub": self.hub_id, "start": to_db(self.start), "end": to_db(self.end), "now": to_db(self.now),
                "anchor": self.anchor.isoformat()}



async def named_fetchall(db: Database, sql: str, params: Mapping[str, Any] | Sequence[Any]) -> list[aiosqlite.Row]:
    """Database.fetchall, also taking :named parameters (the queries here reuse them many times)."""
    async with db.reader.execute(sql, params if isinstance(params, Mapping) else tuple(params)) as cursor:
        return list(await cursor.fetchall())


async def named_fetchone(db: Database, sql: str, params: Mapping[str, Any] | Sequence[Any]) -> aiosqlite.Row | None:
    rows = await named_fetchall(db, sql, params)
    return rows[0] if rows else None
