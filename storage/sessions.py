"""Queries about sessions: keeping them in step with the timetable, finding them, cancelling them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

import aiosqlite

from bot.domain.sessions import Session
from storage.db import Database, from_db, to_db

if TYPE_CHECKING:
    from bot.domain.calendar import PlannedSession



SESSION_COLUMNS = (
    "id, key, hub_id, kind, title, term, starts_at, ends_at, local_date, cancelled_at, cancel_reason"
)


def session_from_row(row: aiosqlite.Row) -> Session:
    return Session(
        id=row["id"],
        key=row["key"],
        hub_id=row["hub_id"],
        kind=row["kind"],
        title=row["title"],
        term=row["term"],
        starts_at=from_db(row["starts_at"]),  # type: ignore[arg-type]
        ends_at=from_db(row["ends_at"]),  # type: ignore[arg-type]
        local_date=date.fromisoformat(row["local_date"]),
        cancelled_at=from_db(row["cancelled_at"]),
        cancel_reason=row["cancel_reason"],
    )


class SessionQueries:
    """Mixed into Store."""

    db: Database

    async def sync_sessions(
        self, hub_id: str, planned: Sequence[PlannedSession], first: date, last: date, now: datetime
    ) -> tuple[int, list[Session]]:
        """Add planned sessions not yet stored; find future stored ones the timetable no longer has.

        Returns (how many were added, the sessions withdrawn: still open, for the caller to cancel and tell
        the people who said they would come). Past sessions are never touched.
        """
        keys = {session.key for session in planned}
        stamp = to_db(now)
        async with self.db.transaction() as conn:
            before = conn.total_changes
            await conn.executemany(
                "INSERT INTO sessions (key, hub_id, kind, title, term, starts_at, ends_at, local_date, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
                " title = excluded.title, term = excluded.term, ends_at = excluded.ends_at"
                " WHERE sessions.title != excluded.title OR sessions.term IS NOT excluded.term"
                " OR sessions.ends_at != excluded.ends_at",
                [
                    (s.key, s.hub_id, s.kind, s.title, s.term, to_db(s.starts_at), to_db(s.ends_at),
                     s.local_date.isoformat(), stamp)
                    for s in planned
                ],
            )
            added = conn.total_changes - before
            rows = await conn.execute_fetchall(
                f"SELECT {SESSION_COLUMNS} FROM sessions WHERE hub_id = ? AND local_date BETWEEN ? AND ?"
                " AND starts_at > ? AND cancelled_at IS NULL",
                (hub_id, first.isoformat(), last.isoformat(), stamp),
            )
            gone = [session_from_row(row) for row in rows if row["key"] not in keys]
        return added, gone

    async def session(self, session_id: int) -> Session | None:
        row = await self.db.fetchone(f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,))
        return session_from_row(row) if row else None

    async def session_by_key(self, key: str) -> Session | None:
        row = await self.db.fetchone(f"SELECT {SESSION_COLUMNS} FROM sessions WHERE key = ?", (key,))
        return session_from_row(row) if row else None

    async def sessions_of_hub(
        self, hub_id: str, start: datetime, end: datetime, *, include_cancelled: bool = True
    ) -> list[Session]:
        """Sessions of a hub starting in [start, end), in order."""
        cancelled = "" if include_cancelled else " AND cancelled_at IS NULL"
        rows = await self.db.fetchall(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE hub_id = ? AND starts_at >= ? AND starts_at < ?"
            f"{cancelled} ORDER BY starts_at, id",
            (hub_id, to_db(start), to_db(end)),
        )
        return [session_from_row(row) for row in rows]

    async def upcoming_sessions(self, hub_id: str, now: datetime, limit: int = 10) -> list[Session]:
        rows = await self.db.fetchall(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE hub_id = ? AND starts_at > ? AND cancelled_at IS NULL"
            " ORDER BY starts_at, id LIMIT ?",
            (hub_id, to_db(now), limit),
        )
        return [session_from_row(row) for row in rows]

    async def sessions_starting_between(self, start: datetime, end: datetime) -> list[Session]:
        """Open sessions of every hub starting in [start, end)."""
        rows = await self.db.fetchall(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE starts_at >= ? AND starts_at < ? AND cancelled_at IS NULL"
            " ORDER BY starts_at, id",
            (to_db(start), to_db(end)),
        )
        return [session_from_row(row) for row in rows]

    async def sessions_ending_between(self, start: datetime, end: datetime) -> list[Session]:
        """Held (not cancelled) sessions of every hub ending in [start, end)."""
        rows = await self.db.fetchall(
            f"SELECT {SESSION_COLUMNS} FROM sessions WHERE ends_at >= ? AND ends_at < ? AND cancelled_at IS NULL"
            " ORDER BY ends_at, id",
            (to_db(start), to_db(end)),
        )
        return [session_from_row(row) for row in rows]

    async def cancel_session(self, session_id: int, reason: str, now: datetime) -> bool:
        """Cancel once; False if it was already cancelled or does not exist."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE sessions SET cancelled_at = ?, cancel_reason = ? WHERE id = ? AND cancelled_at IS NULL",
                (to_db(now), reason[:500], session_id),
            )
            if cursor.rowcount:
                await conn.execute(
                    "UPDATE deliveries SET state = 'skipped', last_error = 'session cancelled'"
                    " WHERE session_id = ? AND state = 'pending' AND kind IN ('reminder', 'checkin')",
                    (session_id,),
                )
            return cursor.rowcount > 0
