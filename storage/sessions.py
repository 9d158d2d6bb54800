"""Queries about sessions: keeping them in step with the timetable, finding them, cancelling them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial

import aiosqlite

from bot.domain.calendar import PlannedSession, match_sessions
from bot.domain.sessions import Session
from storage.db import Database, from_db, to_db

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


def session_in(conn: sqlite3.Connection, *, session_id: int) -> Session | None:
    """SessionQueries.session on SQLite's thread (also inside a check-in tap's read: storage/wellbeing.py)."""
    row = conn.execute(f"SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?", (session_id,)).fetchone()
    return session_from_row(row) if row else None


@dataclass(slots=True)
class SyncResult:
    """What keeping a hub in step with its timetable did."""

    added: int = 0
    changed: list[int] = field(default_factory=list)  # ids of open sessions whose time, length or venue changed
    told: int = 0  # change notices owed
    withdrawn: list[Session] = field(default_factory=list)  # open sessions no longer in the timetable


@dataclass(frozen=True, slots=True)
class _Stored:
    """A stored session with the venue it was announced at (None: stored before venues were recorded)."""

    session: Session
    venue: str | None

    @property
    def key(self) -> str:
        return self.session.key

    @property
    def kind(self) -> str:
        return self.session.kind

    @property
    def local_date(self) -> date:
        return self.session.local_date

    @property
    def starts_at(self) -> datetime:
        return self.session.starts_at

    def differs(self, new: PlannedSession) -> bool:
        s = self.session
        return (s.key, s.title, s.term, s.starts_at, s.ends_at, self.venue) != (
            new.key, new.title, new.term, new.starts_at, new.ends_at, new.venue)


async def _replan_reminders(conn: aiosqlite.Connection, session_id: int, starts_at: datetime) -> None:
    """A moved session's reminders not yet sent are withdrawn and their rules forgotten, so the planner plans
    them again at the new time; rules already sent stay planned (nobody is reminded twice for one rule)."""
    await conn.execute(
        "DELETE FROM deliveries WHERE session_id = ? AND kind = 'reminder' AND state = 'pending'", (session_id,)
    )
    await conn.execute(
        "DELETE FROM reminder_batches WHERE session_id = ? AND NOT EXISTS (SELECT 1 FROM deliveries d"
        " WHERE d.session_id = reminder_batches.session_id AND d.kind = 'reminder'"
        " AND d.dedupe_key LIKE 'reminder:' || reminder_batches.session_id || ':' || reminder_batches.rule_key"
        " || ':%')",
        (session_id,),
    )
    # "A place is free" is worth sending until the session starts: its new start.
    await conn.execute(
        "UPDATE deliveries SET expires_at = ? WHERE session_id = ? AND state = 'pending' AND kind = 'rsvp_place'",
        (to_db(starts_at), session_id),
    )


async def _owe_change_notices(
    conn: aiosqlite.Connection, hub_id: str, changed: Sequence[tuple[_Stored, PlannedSession]], stamp: str,
    kind: str,
) -> int:
    """One row per member who said Yes or Maybe to any changed session, listing each with its old details.

    One message, however many of their sessions moved: a term's worth of "now at 10:30" is noise.
    """
    if not changed:
        return 0
    before = {old.session.id: old for old, _ in changed}
    marks = ", ".join("?" for _ in before)
    rows = await conn.execute_fetchall(
        f"SELECT r.session_id, m.id AS member_id, m.chat_id FROM rsvps r JOIN members m ON m.id = r.member_id"
        f" WHERE r.session_id IN ({marks}) AND r.answer IN ('yes', 'maybe') ORDER BY m.id, r.session_id",
        tuple(before),
    )
    owed: dict[int, tuple[int, list[int]]] = {}
    for row in rows:
        owed.setdefault(row["member_id"], (row["chat_id"], []))[1].append(row["session_id"])
    ends = {old.session.id: new.ends_at for old, new in changed}
    cursor = await conn.executemany(
        "INSERT OR IGNORE INTO deliveries (kind, dedupe_key, member_id, chat_id, hub_id, session_id, due_at,"
        " expires_at, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (kind, f"{kind}:{hub_id}:{stamp}:{member_id}", member_id, chat_id, hub_id, ids[0], stamp,
             to_db(max(ends[i] for i in ids)),
             json.dumps({"changes": [
                 {"session": i, "starts_at": to_db(before[i].starts_at), "ends_at": to_db(before[i].session.ends_at),
                  "venue": before[i].venue} for i in ids
             ]}),
             stamp)
            for member_id, (chat_id, ids) in owed.items()
        ],
    )
    return cursor.rowcount if cursor.rowcount >= 0 else len(owed)


class SessionQueries:
    """Mixed into Store."""

    db: Database

    async def sync_sessions(
        self, hub_id: str, planned: Sequence[PlannedSession], first: date, last: date, now: datetime,
        *, change_notice: str = "session_changed",
    ) -> SyncResult:
        """Bring the hub's stored sessions from `first` to `last` in step with the timetable, in one transaction.

        New dates are added. A session whose start, length or venue changed is updated in place (its id, so its
        RSVPs and waiting list, stay); its reminders not yet sent are planned again at the new time, and each
        member who said Yes or Maybe to any changed session is owed one `change_notice` row listing what was
        before. Stored sessions the timetable no longer has and that are still open are returned as withdrawn,
        for the caller to cancel and tell. Sessions that have started are never touched.
        """
        stamp = to_db(now)
        result = SyncResult()
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(
                f"SELECT {SESSION_COLUMNS}, venue FROM sessions WHERE hub_id = ? AND local_date BETWEEN ? AND ?",
                (hub_id, first.isoformat(), last.isoformat()),
            )
            stored = [_Stored(session_from_row(row), row["venue"]) for row in rows]
            pairs, added, gone = match_sessions(stored, planned)
            await conn.executemany(
                "INSERT OR IGNORE INTO sessions (key, hub_id, kind, title, term, starts_at, ends_at, local_date,"
                " venue, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(s.key, s.hub_id, s.kind, s.title, s.term, to_db(s.starts_at), to_db(s.ends_at),
                  s.local_date.isoformat(), s.venue, stamp) for s in added],
            )
            result.added = len(added)
            updates = [(old, new) for old, new in pairs if old.session.starts_at > now and old.differs(new)]
            # Keys are unique: step aside first, so two sessions of one day can swap times.
            await conn.executemany(
                "UPDATE sessions SET key = key || '~' || id WHERE id = ?",
                [(old.session.id,) for old, new in updates if old.key != new.key],
            )
            await conn.executemany(
                "UPDATE sessions SET key = ?, title = ?, term = ?, starts_at = ?, ends_at = ?, venue = ? WHERE id = ?",
                [(new.key, new.title, new.term, to_db(new.starts_at), to_db(new.ends_at), new.venue, old.session.id)
                 for old, new in updates],
            )
            changed: list[tuple[_Stored, PlannedSession]] = []
            for old, new in updates:
                moved = old.starts_at != new.starts_at or old.session.ends_at != new.ends_at
                if moved:
                    await _replan_reminders(conn, old.session.id, new.starts_at)
                if not old.session.cancelled and (moved or (old.venue is not None and old.venue != new.venue)):
                    changed.append((old, new))
            result.changed = [old.session.id for old, _ in changed]
            result.told = await _owe_change_notices(conn, hub_id, changed, stamp, change_notice)
            result.withdrawn = [old.session for old in gone if old.session.starts_at > now
                                and not old.session.cancelled]
        return result

    async def session(self, session_id: int) -> Session | None:
        return await self.db.read(partial(session_in, session_id=session_id))

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
