"""Attendance as SQL: the `present` relation every figure is counted from, and the window it is read over.

For a session whose register was saved, the people the coordinator ticked (walk-ins included); for any other
session it is inferred: a member who checked in without saying they could not come, or who said Yes and did
not say they were absent, with the companions their answer brought. Anonymised check-ins (retention) still
count as someone who came. A person is a member (their id) or a companion (minus its id); walk-ins and
anonymised rows have no person.
"""

from __future__ import annotations

import json
import sqlite3
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
    """CTEs `held`, `marked`, `came`, `present` for the sessions matching `held_where` (a condition on
    `sessions`; cancelled sessions are never held).

    `came` has two disjoint halves (checked in without a Yes; said Yes and did not say they were absent), so
    no step has to remove duplicates. Each row carries its session's hub, start, day and kind, so nothing has
    to look the session up again.

    `present` has one row per person at a session:
    (session_id, hub_id, starts_at, local_date, kind, person, member, band, what, registered).
    With `members`, a JSON list :members: then only those members (and their companions) are looked at, each
    through the member indexes, so working out a few people's attendance is quick however long the history is.

    This is the definition of attendance; it is kept worked out in the `presence` table (refresh_presence)
    and every figure reads that table.
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
    SELECT h.id, h.hub_id, h.starts_at, h.local_date, h.kind, NULL, NULL, NULL, 'anonymous', 0
    FROM held h JOIN checkins c ON c.session_id = h.id
    WHERE c.member_id IS NULL AND c.absent = 0 AND h.id NOT IN (SELECT session_id FROM marked)"""
    columns = "h.id AS session_id, h.hub_id, h.starts_at, h.local_date, h.kind"
    return f"""
held AS (
    SELECT id, hub_id, kind, title, starts_at, local_date FROM sessions
    WHERE cancelled_at IS NULL AND {held_where}
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
    SELECT k.session_id, k.hub_id, k.starts_at, k.local_date, k.kind, k.member_id AS person, k.member_id AS member,
           NULL AS band, 'member' AS what, 0 AS registered
    FROM came k
    UNION ALL
    SELECT k.session_id, k.hub_id, k.starts_at, k.local_date, k.kind, -co.id, k.member_id, co.age_band, 'companion', 0
    FROM came k
    JOIN companions co ON co.member_id = k.member_id
    LEFT JOIN rsvps r ON r.session_id = k.session_id AND r.member_id = k.member_id
    WHERE {companion_comes}
    UNION ALL
    SELECT g.session_id, g.hub_id, g.starts_at, g.local_date, g.kind,
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


def _keep(ctes: str) -> str:
    """INSERT into `presence` what the `present` of these CTEs finds."""
    return f"""INSERT INTO presence (session_id, hub_id, starts_at, local_date, kind, person, member, companion, band,
                                  what, registered)
    WITH {ctes}
    SELECT session_id, hub_id, starts_at, local_date, kind, person, member,
           CASE WHEN what = 'companion' THEN -person END, band, what, registered FROM present"""


WHOLE_SESSION_AFTER = 64  # members of one session to work out again, beyond which the session is done whole


def _refresh_steps(stale: Sequence[tuple[int, int]]) -> list[tuple[str, Mapping[str, Any]]]:
    """The statements that bring what `presence_stale` lists (`stale`) up to date, and then empty it.

    Whole sessions first, then every session of members whose companions changed, then single members at
    single sessions (an RSVP, a check-in), skipping what the first two already cover.
    """
    per_session: dict[int, int] = {}
    for s, _ in stale:
        per_session[s] = per_session.get(s, 0) + 1
    # a session with many members to work out again (a register saved, a burst of answers): all of it at once
    sessions = sorted({s for s, m in stale if s != 0 and (m == 0 or per_session[s] > WHOLE_SESSION_AFTER)})
    members = sorted({m for s, m in stale if s == 0 and m != 0})
    whole, everywhere = set(sessions), set(members)
    pairs: dict[int, list[int]] = {}
    for s, m in stale:
        if s and m and s not in whole and m not in everywhere:
            pairs.setdefault(s, []).append(m)
    steps: list[tuple[str, Mapping[str, Any]]] = []
    if sessions:
        listed = {"sessions": json.dumps(sessions)}
        steps += [("DELETE FROM presence WHERE session_id IN (SELECT value FROM json_each(:sessions))", listed),
                  (_WHOLE, listed)]
    if members:
        listed = {"members": json.dumps(members), "sessions": json.dumps(sessions)}
        steps += [("DELETE FROM presence WHERE member IN (SELECT value FROM json_each(:members))"
                   " AND session_id NOT IN (SELECT value FROM json_each(:sessions))", listed),
                  (_MEMBERS, listed)]
    for session_id, of in sorted(pairs.items()):
        listed = {"session": session_id, "members": json.dumps(sorted(of))}
        steps += [("DELETE FROM presence WHERE session_id = :session"
                   " AND member IN (SELECT value FROM json_each(:members))", listed),
                  (_PAIRS, listed)]
    return [*steps, ("DELETE FROM presence_stale WHERE (session_id, member_id) IN (SELECT value ->> 0, value ->> 1"
                     " FROM json_each(:stale))", {"stale": json.dumps([list(row) for row in stale])})]


_STALE = "SELECT session_id, member_id FROM presence_stale"
_STALE_COUNTS = "SELECT session_id FROM session_counts_stale"


def refresh_presence_now(conn: sqlite3.Connection) -> int:
    """Bring `presence`, then `session_counts`, up to date, in the caller's write transaction (a plain sqlite3
    connection); returns how many (session, member) entries of attendance were stale."""
    stale = [tuple(row) for row in conn.execute(_STALE).fetchall()]
    for sql, params in _refresh_steps(stale) if stale else ():
        conn.execute(sql, params)
    sessions = [row[0] for row in conn.execute(_STALE_COUNTS).fetchall()]  # attendance's own changes included
    for sql, params in _count_steps(sessions) if sessions else ():
        conn.execute(sql, params)
    return len(stale)


async def refresh_presence_in(conn: aiosqlite.Connection) -> int:
    """refresh_presence_now, in a write transaction held on the aiosqlite connection (erasure, retention: what
    they changed is worked out before they commit, so nobody's attendance is left behind)."""
    stale = [tuple(row) for row in await conn.execute_fetchall(_STALE)]
    for sql, params in _refresh_steps(stale) if stale else ():
        await conn.execute(sql, params)
    sessions = [row[0] for row in await conn.execute_fetchall(_STALE_COUNTS)]
    for sql, params in _count_steps(sessions) if sessions else ():
        await conn.execute(sql, params)
    return len(stale)


def session_counts(held_where: str) -> str:
    """SELECT of `session_counts`' rows for the sessions matching `held_where` (a condition on `sessions`;
    cancelled sessions have none), from attendance (`presence`) and the answers. This is the definition of the
    kept counts (migration 019); storage.snapshot reads them."""
    comes = COMPANION_COMES.format(start="w.starts_at")
    return f"""
    WITH win AS (
        SELECT id, hub_id, starts_at, EXISTS (SELECT 1 FROM registers g WHERE g.session_id = sessions.id
            AND g.saved_at IS NOT NULL) AS saved
        FROM sessions WHERE cancelled_at IS NULL AND {held_where}
    ),
    pres AS (
        SELECT w.id, COUNT(*) AS attended, SUM(p.what = 'walk_in') AS walk_ins, SUM(p.person IS NOT NULL) AS known
        FROM win w CROSS JOIN presence p INDEXED BY presence_by_session
            ON p.hub_id = w.hub_id AND p.starts_at = w.starts_at AND p.session_id = w.id
        GROUP BY w.id
    ),
    ans AS (
        SELECT w.id, SUM(r.answer = 'yes' AND r.waitlisted_at IS NULL) AS yes,
               SUM(r.answer = 'maybe') AS maybe, SUM(r.answer = 'no') AS no
        FROM win w JOIN rsvps r ON r.session_id = w.id GROUP BY w.id
    ),
    -- No-shows: a Yes (not waitlisted) from someone not there. Where the register was not saved, that is exactly
    -- a Yes with a check-in saying they could not come (the definition of attendance: every other Yes came),
    -- found from the few such check-ins; where it was saved, the register's rows are asked.
    absent AS (
        SELECT w.id, COUNT(*) AS n FROM win w CROSS JOIN checkins c ON c.session_id = w.id
        CROSS JOIN rsvps r ON r.session_id = c.session_id AND r.member_id = c.member_id
        WHERE NOT w.saved AND c.absent = 1 AND r.answer = 'yes' AND r.waitlisted_at IS NULL GROUP BY w.id
    ),
    unticked AS (
        SELECT w.id, COUNT(*) AS n FROM win w CROSS JOIN rsvps r ON r.session_id = w.id
        WHERE w.saved AND r.answer = 'yes' AND r.waitlisted_at IS NULL AND NOT EXISTS (
            SELECT 1 FROM presence p INDEXED BY presence_by_session WHERE p.hub_id = w.hub_id
            AND p.starts_at = w.starts_at AND p.session_id = w.id AND p.what = 'member' AND p.person = r.member_id)
        GROUP BY w.id
    ),
    brought AS (
        SELECT w.id, COUNT(*) AS n FROM win w JOIN rsvps r ON r.session_id = w.id
        JOIN companions co ON co.member_id = r.member_id
        WHERE r.answer = 'yes' AND r.waitlisted_at IS NULL AND {comes} GROUP BY w.id
    )
    SELECT w.id AS session_id, COALESCE(ans.yes, 0) AS yes, COALESCE(ans.maybe, 0) AS maybe,
           COALESCE(ans.no, 0) AS no, COALESCE(absent.n, 0) + COALESCE(unticked.n, 0) AS no_shows,
           COALESCE(brought.n, 0) AS brought, COALESCE(pres.attended, 0) AS attended,
           COALESCE(pres.walk_ins, 0) AS walk_ins, COALESCE(pres.known, 0) AS known
    FROM win w LEFT JOIN pres ON pres.id = w.id LEFT JOIN ans ON ans.id = w.id
    LEFT JOIN brought ON brought.id = w.id LEFT JOIN absent ON absent.id = w.id
    LEFT JOIN unticked ON unticked.id = w.id"""


_COUNT = f"""INSERT INTO session_counts (session_id, yes, maybe, no, no_shows, brought, attended, walk_ins, known)
    {session_counts("id IN (SELECT value FROM json_each(:sessions))")}"""


def _count_steps(sessions: Sequence[int]) -> list[tuple[str, Mapping[str, Any]]]:
    """The statements that work out again the counts of these sessions (after attendance), and empty the list."""
    listed = {"sessions": json.dumps(sorted(sessions))}
    return [("DELETE FROM session_counts WHERE session_id IN (SELECT value FROM json_each(:sessions))", listed),
            (_COUNT, listed),
            ("DELETE FROM session_counts_stale WHERE session_id IN (SELECT value FROM json_each(:sessions))", listed)]


_WHOLE = _keep(presence("id IN (SELECT value FROM json_each(:sessions))"))
_MEMBERS = _keep(presence("id NOT IN (SELECT value FROM json_each(:sessions))", members=True))
_PAIRS = _keep(presence("id = :session", members=True))


async def refresh_presence(db: Database) -> int:
    """Bring the `presence` and `session_counts` tables up to date before they are read (a quick look on the
    reader first: nothing to do is the usual case, and costs no write lock)."""
    if await db.fetchone("SELECT 1 FROM presence_stale UNION ALL SELECT 1 FROM session_counts_stale LIMIT 1") is None:
        return 0
    return await db.in_transaction(refresh_presence_now)


def week_numbers() -> str:
    """CTE `wk`: the held weekly sessions starting in [:start, :end), numbered by calendar week counted from
    the Monday :anchor; a week without a session (half term) is skipped, not counted."""
    return """
wk AS (
    SELECT id, starts_at, local_date, DENSE_RANK() OVER (
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
