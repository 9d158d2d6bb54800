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


def presence(held_where: str) -> str:
    """CTEs `held`, `marked`, `came`, `present` for the hub's held sessions matching `held_where`.

    Parameters: :hub, :now, and whatever `held_where` names.
    """
    companion_comes = COMPANION_COMES.format(start="h.starts_at")
    return f"""
held AS (
    SELECT id, kind, title, starts_at, local_date FROM sessions
    WHERE hub_id = :hub AND cancelled_at IS NULL AND starts_at <= :now AND {held_where}
),
marked AS (
    SELECT h.id AS session_id FROM held h JOIN registers g ON g.session_id = h.id WHERE g.saved_at IS NOT NULL
),
came AS (
    SELECT c.session_id, c.member_id FROM held h JOIN checkins c ON c.session_id = h.id
    WHERE c.absent = 0 AND c.member_id IS NOT NULL AND h.id NOT IN (SELECT session_id FROM marked)
    UNION
    SELECT r.session_id, r.member_id FROM held h JOIN rsvps r ON r.session_id = h.id
    WHERE r.answer = 'yes' AND h.id NOT IN (SELECT session_id FROM marked)
      AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.session_id = r.session_id
                      AND c.member_id = r.member_id AND c.absent = 1)
),
present AS (
    SELECT k.session_id, k.member_id AS person, NULL AS band, 'member' AS what FROM came k
    UNION ALL
    SELECT k.session_id, -co.id, co.age_band, 'companion' FROM came k
    JOIN held h ON h.id = k.session_id
    JOIN companions co ON co.member_id = k.member_id
    LEFT JOIN rsvps r ON r.session_id = k.session_id AND r.member_id = k.member_id
    WHERE {companion_comes}
    UNION ALL
    SELECT a.session_id,
           CASE WHEN a.walk_in_name IS NOT NULL THEN NULL WHEN a.companion_id IS NULL THEN a.member_id
                ELSE -a.companion_id END,
           COALESCE(a.age_band, co.age_band),
           CASE WHEN a.walk_in_name IS NOT NULL THEN 'walk_in' WHEN a.companion_id IS NULL THEN 'member'
                ELSE 'companion' END
    FROM marked g JOIN attendance a ON a.session_id = g.session_id
    LEFT JOIN companions co ON co.id = a.companion_id
    WHERE a.present = 1
    UNION ALL
    SELECT c.session_id, NULL, NULL, 'anonymous' FROM held h JOIN checkins c ON c.session_id = h.id
    WHERE c.member_id IS NULL AND c.absent = 0 AND h.id NOT IN (SELECT session_id FROM marked)
)"""


def week_numbers() -> str:
    """CTE `wk`: the held weekly sessions numbered by calendar week (Monday :anchor), weeks with none skipped."""
    return """
wk AS (
    SELECT id, local_date, DENSE_RANK() OVER (
        ORDER BY CAST((julianday(local_date) - julianday(:anchor)) / 7 AS INTEGER)) AS week
    FROM held WHERE kind = 'weekly'
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
