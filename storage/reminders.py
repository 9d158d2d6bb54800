"""Queries for reminders, a member's view of a session, cancellations and announcements."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from bot.domain.sessions import Announcement, Invitation
from storage.db import Database, from_db, to_db
from storage.invitations import Tapped, invitation_in, tapped_in
from storage.rsvps import Headcount, session_tallies_in
from storage.sessions import SESSION_COLUMNS, Session, session_from_row

# Kinds of ledger rows about a session that stop being wanted once it is cancelled.
SESSION_BOUND_KINDS = ("reminder", "checkin", "rsvp_place")

log = logging.getLogger(__name__)



_SESSION_AS = ", ".join(f"s.{column.strip()}" for column in SESSION_COLUMNS.split(","))


class ReminderQueries:
    """Mixed into Store."""

    db: Database

    async def planned_reminder_rules(self, session_ids: Sequence[int]) -> set[tuple[int, str]]:
        """(session id, rule key) of every rule already expanded (or superseded) for these sessions."""
        if not session_ids:
            return set()
        marks = ", ".join("?" for _ in session_ids)
        rows = await self.db.fetchall(
            f"SELECT session_id, rule_key FROM reminder_batches WHERE session_id IN ({marks})", tuple(session_ids)
        )
        return {(row["session_id"], row["rule_key"]) for row in rows}

    async def plan_reminder(
        self,
        session: Session,
        rule_key: str,
        *,
        kind: str,
        due_at: datetime,
        now: datetime,
        superseded: Iterable[str] = (),
    ) -> int | None:
        """Expand one rule into one ledger row per current member of the hub, once; None if already planned.

        Rules in `superseded` (earlier ones missed during downtime) are recorded as planned with no rows, and
        earlier reminders of the session still pending are skipped: one reminder, the latest, is enough.
        Rows expire when the session starts, so a late dispatcher drops rather than sends them.
        """
        stamp = to_db(now)
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO reminder_batches (session_id, rule_key, planned_at) VALUES (?, ?, ?)",
                (session.id, rule_key, stamp),
            )
            if cursor.rowcount == 0:
                return None
            await conn.executemany(
                "INSERT OR IGNORE INTO reminder_batches (session_id, rule_key, planned_at, superseded)"
                " VALUES (?, ?, ?, 1)",
                [(session.id, key, stamp) for key in superseded],
            )
            await conn.execute(
                "UPDATE deliveries SET state = 'skipped', last_error = 'a later reminder replaces it'"
                " WHERE session_id = ? AND kind = ? AND state = 'pending'",
                (session.id, kind),
            )
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO deliveries (kind, dedupe_key, member_id, chat_id, hub_id, session_id, due_at,"
                " expires_at, payload, created_at)"
                " SELECT ?, ? || m.id, m.id, m.chat_id, ms.hub_id, ?, ?, ?, ?, ? FROM members m"
                " JOIN memberships ms ON ms.member_id = m.id WHERE ms.hub_id = ? AND ms.left_at IS NULL ORDER BY m.id",
                (kind, f"{kind}:{session.id}:{rule_key}:", session.id, to_db(due_at), to_db(session.starts_at),
                 json.dumps({"rule": rule_key}), stamp, session.hub_id),
            )
            recipients = cursor.rowcount
            await conn.execute(
                "UPDATE reminder_batches SET recipients = ? WHERE session_id = ? AND rule_key = ?",
                (recipients, session.id, rule_key),
            )
        return recipients

    async def reminder_batch(self, session_id: int, rule_key: str) -> tuple[int, bool] | None:
        """(recipients, superseded) of a planned rule, or None if it was never planned."""
        row = await self.db.fetchone(
            "SELECT recipients, superseded FROM reminder_batches WHERE session_id = ? AND rule_key = ?",
            (session_id, rule_key),
        )
        return (row["recipients"], bool(row["superseded"])) if row else None

    async def invitation(self, session_id: int, member_id: int) -> Invitation | None:
        """Everything a reminder needs about a member and a session, in one trip to SQLite's thread."""
        return await self.db.read(partial(invitation_in, session_id=session_id, member_id=member_id))

    async def tapped(self, telegram_user_id: int, session_id: int | None) -> Tapped:
        """A session button's tap: the member, their invitation and their companions, in one trip to SQLite's
        thread (not three: under load each trip waits for a thread to be given a core)."""
        return await self.db.read(partial(tapped_in, telegram_user_id=telegram_user_id, session_id=session_id))

    async def upcoming_sessions_of_member(self, member_id: int, now: datetime, limit: int) -> list[Session]:
        """Open sessions of every hub the member belongs to, soonest first."""
        rows = await self.db.fetchall(
            f"SELECT {_SESSION_AS} FROM sessions s JOIN memberships ms ON ms.hub_id = s.hub_id"
            " AND ms.member_id = ? AND ms.left_at IS NULL"
            " WHERE s.starts_at > ? AND s.cancelled_at IS NULL ORDER BY s.starts_at, s.id LIMIT ?",
            (member_id, to_db(now), limit),
        )
        return [session_from_row(row) for row in rows]

    async def take_input(self, telegram_user_id: int, kind: str) -> dict[str, Any] | None:
        """The awaited input of this kind, removed in the same step: a double tap finds nothing the second time."""
        async with self.db.transaction() as conn:
            rows = list(await conn.execute_fetchall(
                "DELETE FROM awaiting_input WHERE telegram_user_id = ? AND kind = ? RETURNING data",
                (telegram_user_id, kind),
            ))
        return json.loads(rows[0]["data"]) if rows else None

    async def cancel_session_telling(
        self, session_id: int, reason: str, now: datetime, *, notice_kind: str, expires_at: datetime
    ) -> Headcount | None:
        """Cancel a session and, in the same transaction, owe a notice to everyone who said Yes or Maybe.

        Pending reminders, check-ins and waiting-list notices of the session are skipped. Returns who is told
        (SessionTally.told_if_cancelled, counted in this transaction: households = notices owed, and the people
        in them), or None if the session does not exist or was already cancelled.
        """
        stamp = to_db(now)
        marks = ", ".join("?" for _ in SESSION_BOUND_KINDS)
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE sessions SET cancelled_at = ?, cancel_reason = ? WHERE id = ? AND cancelled_at IS NULL",
                (stamp, reason[:500], session_id),
            )
            if cursor.rowcount == 0:
                return None
            told = (await session_tallies_in(conn, [session_id]))[session_id].told_if_cancelled()
            await conn.execute(
                f"UPDATE deliveries SET state = 'skipped', last_error = 'session cancelled'"
                f" WHERE session_id = ? AND state = 'pending' AND kind IN ({marks})",
                (session_id, *SESSION_BOUND_KINDS),
            )
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO deliveries (kind, dedupe_key, member_id, chat_id, hub_id, session_id, due_at,"
                " expires_at, payload, created_at)"
                " SELECT ?, ? || m.id, m.id, m.chat_id, s.hub_id, s.id, ?, ?, '{}', ? FROM rsvps r"
                " JOIN members m ON m.id = r.member_id JOIN sessions s ON s.id = r.session_id"
                " WHERE r.session_id = ? AND r.answer IN ('yes', 'maybe') ORDER BY m.id",
                (notice_kind, f"{notice_kind}:{session_id}:", stamp, to_db(expires_at), stamp, session_id),
            )
            if cursor.rowcount != told.households:  # a notice already owed (INSERT OR IGNORE): say so in the log
                log.warning("session %s: %d cancellation notice(s) queued for %d household(s)",
                            session_id, cursor.rowcount, told.households)
            return told

    async def create_announcement(
        self, hub_id: str, text: str, created_by: int, now: datetime, *, kind: str, expires_at: datetime
    ) -> Announcement:
        """Store the message once and owe it to every current member of the hub, in one transaction."""
        stamp = to_db(now)
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO announcements (hub_id, text, created_by, created_at) VALUES (?, ?, ?, ?)",
                (hub_id, text, created_by, stamp),
            )
            announcement_id = cursor.lastrowid
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO deliveries (kind, dedupe_key, member_id, chat_id, hub_id, due_at, expires_at,"
                " payload, created_at)"
                " SELECT ?, ? || m.id, m.id, m.chat_id, ms.hub_id, ?, ?, ?, ? FROM members m"
                " JOIN memberships ms ON ms.member_id = m.id WHERE ms.hub_id = ? AND ms.left_at IS NULL ORDER BY m.id",
                (kind, f"{kind}:{announcement_id}:", stamp, to_db(expires_at),
                 json.dumps({"announcement": announcement_id}), stamp, hub_id),
            )
            recipients = cursor.rowcount
            await conn.execute(
                "UPDATE announcements SET recipients = ? WHERE id = ?", (recipients, announcement_id)
            )
        announcement = await self.announcement(announcement_id or 0)
        assert announcement is not None
        return announcement

    async def announcement(self, announcement_id: int) -> Announcement | None:
        row = await self.db.fetchone(
            "SELECT id, hub_id, text, created_by, created_at, recipients FROM announcements WHERE id = ?",
            (announcement_id,),
        )
        if row is None:
            return None
        return Announcement(row["id"], row["hub_id"], row["text"], row["created_by"],
                            from_db(row["created_at"]), row["recipients"])  # type: ignore[arg-type]

    async def hub_member_count(self, hub_id: str) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM memberships WHERE hub_id = ? AND left_at IS NULL", (hub_id,)
        )
        return int(row[0]) if row else 0
