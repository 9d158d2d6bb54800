"""Queries for the register: who a coordinator marked as there, walk-ins included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, from_db, to_db
from storage.sessions import SESSION_COLUMNS, Session, session_from_row


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    id: int
    kind: str  # member | companion | walk_in
    name: str
    with_name: str | None  # the member a companion comes with
    age_band: str | None
    present: bool


@dataclass(frozen=True, slots=True)
class Register:
    session: Session
    saved_at: datetime | None
    entries: tuple[RegisterEntry, ...]

    @property
    def present_count(self) -> int:
        return sum(entry.present for entry in self.entries)

    @property
    def walk_in_count(self) -> int:
        return sum(entry.present and entry.kind == "walk_in" for entry in self.entries)


# Who is on a register, and whether they look present before anyone marks them: everyone who said Yes or Maybe
# or checked in, with the companions their answer brought (all of them unless they chose), ticked when their
# check-in or their Yes says they came; then every other member of the hub at the session's start, with all their
# companions, unticked: people come without tapping Yes, and a coordinator must be able to tick them.
_CANDIDATES = """
WITH expected AS (
    SELECT r.member_id, r.all_companions, 1 AS answered,
           CASE WHEN EXISTS (SELECT 1 FROM checkins c WHERE c.session_id = r.session_id
                             AND c.member_id = r.member_id AND c.absent = 0) THEN 1
                WHEN r.answer = 'yes' AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.session_id = r.session_id
                             AND c.member_id = r.member_id AND c.absent = 1) THEN 1
                ELSE 0 END AS came
    FROM rsvps r WHERE r.session_id = :session AND r.answer IN ('yes', 'maybe')
    UNION ALL
    SELECT c.member_id, 1, 0, 1 FROM checkins c
    WHERE c.session_id = :session AND c.absent = 0 AND c.member_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM rsvps r WHERE r.session_id = c.session_id AND r.member_id = c.member_id
                      AND r.answer IN ('yes', 'maybe'))
    UNION ALL
    SELECT ms.member_id, 1, 0, 0 FROM memberships ms JOIN sessions s ON s.id = :session
    WHERE ms.hub_id = s.hub_id AND ms.joined_at <= s.starts_at AND (ms.left_at IS NULL OR ms.left_at > s.starts_at)
      AND NOT EXISTS (SELECT 1 FROM rsvps r WHERE r.session_id = :session AND r.member_id = ms.member_id
                      AND r.answer IN ('yes', 'maybe'))
      AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.session_id = :session AND c.member_id = ms.member_id
                      AND c.absent = 0)
)
SELECT e.member_id, NULL AS companion_id, e.came FROM expected e
UNION ALL
SELECT e.member_id, co.id, e.came FROM expected e
JOIN companions co ON co.member_id = e.member_id
JOIN sessions s ON s.id = :session
WHERE co.created_at <= s.starts_at AND (co.removed_at IS NULL OR co.removed_at > s.starts_at)
  AND (e.all_companions = 1 OR EXISTS (SELECT 1 FROM rsvp_companions rc WHERE rc.session_id = :session
                                       AND rc.member_id = e.member_id AND rc.companion_id = co.id))
"""


class RegisterQueries:
    """Mixed into Store."""

    db: Database

    async def sessions_for_register(self, hub_ids: list[str], since: datetime, now: datetime,
                                    limit: int = 8) -> list[Session]:
        """Held sessions of these hubs that started in [since, now], newest first."""
        if not hub_ids:
            return []
        marks = ", ".join("?" for _ in hub_ids)
        rows = await self.db.fetchall(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE hub_id IN ({marks}) AND cancelled_at IS NULL"
            " AND starts_at >= ? AND starts_at <= ? ORDER BY starts_at DESC, id LIMIT ?",
            (*hub_ids, to_db(since), to_db(now), limit),
        )
        return [session_from_row(row) for row in rows]

    async def open_register(self, session_id: int, coordinator_id: int, now: datetime) -> Register | None:
        """Start (or reopen) a session's register: everyone expected gets a line, ticked if they look present.

        Reopening keeps what was marked and adds anyone who answered since.
        """
        stamp = to_db(now)
        async with self.db.transaction() as conn:
            found = await conn.execute_fetchall("SELECT 1 FROM sessions WHERE id = ?", (session_id,))
            if not found:
                return None
            await conn.execute(
                "INSERT OR IGNORE INTO registers (session_id, opened_by, opened_at) VALUES (?, ?, ?)",
                (session_id, coordinator_id, stamp),
            )
            await conn.execute(
                "INSERT OR IGNORE INTO attendance (session_id, member_id, companion_id, present, marked_by, marked_at)"
                f" SELECT :session, member_id, companion_id, came, :by, :stamp FROM ({_CANDIDATES})",
                {"session": session_id, "by": coordinator_id, "stamp": stamp},
            )
        return await self.register(session_id)

    async def register(self, session_id: int) -> Register | None:
        session_row = await self.db.fetchone(f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,))
        if session_row is None:
            return None
        saved = await self.db.fetchone("SELECT saved_at FROM registers WHERE session_id = ?", (session_id,))
        rows = await self.db.fetchall(
            "SELECT a.id, a.present, a.walk_in_name, a.companion_id, COALESCE(a.age_band, co.age_band) AS band,"
            " m.first_name, co.name AS companion_name"
            " FROM attendance a LEFT JOIN members m ON m.id = a.member_id"
            " LEFT JOIN companions co ON co.id = a.companion_id"
            # Those who said Yes or Maybe or checked in first, then the rest of the hub, then walk-ins.
            " WHERE a.session_id = ? ORDER BY a.walk_in_name IS NOT NULL,"
            " NOT EXISTS (SELECT 1 FROM rsvps r WHERE r.session_id = a.session_id AND r.member_id = a.member_id"
            "   AND r.answer IN ('yes', 'maybe'))"
            " AND NOT EXISTS (SELECT 1 FROM checkins c WHERE c.session_id = a.session_id"
            "   AND c.member_id = a.member_id AND c.absent = 0),"
            " m.first_name COLLATE NOCASE,"
            " a.member_id, a.companion_id IS NOT NULL, co.name COLLATE NOCASE, a.id",
            (session_id,),
        )
        entries = []
        for row in rows:
            present = bool(row["present"])
            if row["walk_in_name"] is not None:
                entry = RegisterEntry(row["id"], "walk_in", row["walk_in_name"], None, row["band"], present)
            elif row["companion_id"] is not None:
                entry = RegisterEntry(row["id"], "companion", row["companion_name"], row["first_name"], row["band"],
                                      present)
            else:
                entry = RegisterEntry(row["id"], "member", row["first_name"], None, None, present)
            entries.append(entry)
        return Register(
            session=session_from_row(session_row),
            saved_at=from_db(saved["saved_at"]) if saved else None,
            entries=tuple(entries),
        )

    async def attendance_session(self, attendance_id: int) -> int | None:
        """The session a register line belongs to (to check who may change it)."""
        row = await self.db.fetchone("SELECT session_id FROM attendance WHERE id = ?", (attendance_id,))
        return row["session_id"] if row else None

    async def toggle_attendance(self, attendance_id: int, coordinator_id: int, now: datetime) -> bool | None:
        """Flip one line; returns whether the person is now marked present (None if there is no such line)."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE attendance SET present = 1 - present, marked_by = ?, marked_at = ? WHERE id = ?"
                " RETURNING present",
                (coordinator_id, to_db(now), attendance_id),
            )
            row = await cursor.fetchone()
            return bool(row[0]) if row else None

    async def add_walk_in(self, session_id: int, name: str, coordinator_id: int, now: datetime,
                          age_band: str | None = None) -> int:
        """Someone came who has no Telegram: first name only (and an age band if known); marked present."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO registers (session_id, opened_by, opened_at) VALUES (?, ?, ?)",
                (session_id, coordinator_id, to_db(now)),
            )
            cursor = await conn.execute(
                "INSERT INTO attendance (session_id, walk_in_name, age_band, present, marked_by, marked_at)"
                " VALUES (?, ?, ?, 1, ?, ?)",
                (session_id, name, age_band, coordinator_id, to_db(now)),
            )
            return cursor.lastrowid or 0

    async def set_walk_in_age_band(self, attendance_id: int, age_band: str | None) -> bool:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE attendance SET age_band = ? WHERE id = ? AND walk_in_name IS NOT NULL",
                (age_band, attendance_id),
            )
            return cursor.rowcount > 0

    async def save_register(self, session_id: int, coordinator_id: int, now: datetime) -> bool:
        """From now on this session's attendance is what the register says, not what was inferred."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE registers SET saved_by = ?, saved_at = ? WHERE session_id = ?",
                (coordinator_id, to_db(now), session_id),
            )
            return cursor.rowcount > 0
