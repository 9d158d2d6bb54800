"""Queries for the coordinators' dashboard: sign-in links, sessions, menu buttons given, "contacted" marks, open
alerts, the register.

Secrets (a sign-in link's token, a session cookie) are never stored: only their SHA-256 hash, so reading the
database (or a backup) lets nobody in. A sign-in link is taken in one UPDATE that also checks it is unused and
unexpired, so two clicks at once sign in once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database, from_db, to_db


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True, slots=True)
class DashboardSession:
    telegram_user_id: int
    language: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OpenAlert:
    id: int
    member_id: int | None
    first_name: str | None
    trigger: str
    raised_at: datetime
    repeats: int
    escalated: bool


@dataclass(frozen=True, slots=True)
class Contact:
    member_id: int
    contacted_at: datetime
    contacted_by: int | None


class DashboardQueries:
    """Mixed into Store."""

    db: Database

    async def data_version(self) -> int:
        """SQLite's PRAGMA data_version on the reader: it changes whenever the writer commits a change, so a
        figure computed at one version is still right while the version stays the same."""
        row = await self.db.fetchone("PRAGMA data_version")
        return int(row[0]) if row else 0

    async def create_signin_link(self, token: str, telegram_user_id: int, language: str, now: datetime,
                                 expires_at: datetime) -> None:
        await self.db.execute(
            "INSERT INTO dashboard_links (token_hash, telegram_user_id, language, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (token_hash(token), telegram_user_id, language, to_db(now), to_db(expires_at)),
        )

    async def peek_signin_link(self, token: str, now: datetime) -> int | None:
        """The user a link would sign in, while it is unused and unexpired (nothing changes)."""
        row = await self.db.fetchone(
            "SELECT telegram_user_id FROM dashboard_links WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
            (token_hash(token), to_db(now)),
        )
        return int(row[0]) if row else None

    async def use_signin_link(self, token: str, now: datetime) -> tuple[int, str] | None:
        """Take a link (once): (user, language), or None when it is unknown, used or expired."""
        async with self.db.transaction() as conn:
            await _purge(conn, now)
            rows = list(await conn.execute_fetchall(
                "UPDATE dashboard_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?"
                " RETURNING telegram_user_id, language",
                (to_db(now), token_hash(token), to_db(now)),
            ))
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    async def create_dashboard_session(self, token: str, telegram_user_id: int, language: str, csrf_token: str,
                                       now: datetime, expires_at: datetime) -> None:
        async with self.db.transaction() as conn:
            await _purge(conn, now)
            await conn.execute(
                "INSERT INTO dashboard_sessions (token_hash, telegram_user_id, language, csrf_token, created_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (token_hash(token), telegram_user_id, language, csrf_token, to_db(now), to_db(expires_at)),
            )

    async def dashboard_session(self, token: str, now: datetime) -> DashboardSession | None:
        row = await self.db.fetchone(
            "SELECT telegram_user_id, language, csrf_token, expires_at FROM dashboard_sessions"
            " WHERE token_hash = ? AND expires_at > ?",
            (token_hash(token), to_db(now)),
        )
        if row is None:
            return None
        expires = from_db(row["expires_at"])
        assert expires is not None
        return DashboardSession(int(row["telegram_user_id"]), row["language"], row["csrf_token"], expires)

    async def end_dashboard_session(self, token: str) -> None:
        await self.db.execute("DELETE FROM dashboard_sessions WHERE token_hash = ?", (token_hash(token),))

    async def purge_dashboard(self, now: datetime) -> int:
        """Delete expired sign-in links and sessions (retention)."""
        async with self.db.transaction() as conn:
            return await _purge(conn, now)

    async def menu_button_holders(self) -> set[int]:
        """Telegram users whose private chat the bot gave the dashboard's menu button (and has not reset)."""
        rows = await self.db.fetchall("SELECT telegram_user_id FROM dashboard_menu_buttons")
        return {int(row[0]) for row in rows}

    async def record_menu_button(self, telegram_user_id: int, now: datetime) -> None:
        """Remember that this user's chat gets the menu button: written before the button is set, so a crash in
        between leaves a row too many (a harmless reset later), never a button the bot does not know about."""
        await self.db.execute(
            "INSERT INTO dashboard_menu_buttons (telegram_user_id, set_at) VALUES (?, ?)"
            " ON CONFLICT (telegram_user_id) DO UPDATE SET set_at = excluded.set_at",
            (telegram_user_id, to_db(now)),
        )

    async def forget_menu_button(self, telegram_user_id: int) -> None:
        """The user's chat has the default menu button again (or cannot be reached): nothing left to take back."""
        await self.db.execute("DELETE FROM dashboard_menu_buttons WHERE telegram_user_id = ?", (telegram_user_id,))

    async def mark_contacted(self, hub_id: str, member_id: int, by_user_id: int, now: datetime) -> bool:
        """Record that a coordinator contacted a member of this hub; False for someone not in the hub."""
        async with self.db.transaction() as conn:
            found = await conn.execute_fetchall(
                "SELECT 1 FROM memberships WHERE hub_id = ? AND member_id = ? AND left_at IS NULL", (hub_id, member_id))
            if not found:
                return False
            await conn.execute(
                "INSERT INTO follow_up_contacts (hub_id, member_id, contacted_by, contacted_at) VALUES (?, ?, ?, ?)",
                (hub_id, member_id, by_user_id, to_db(now)),
            )
        return True

    async def contacts_since(self, hub_id: str, since: datetime) -> dict[int, Contact]:
        """The latest contact with each member of the hub since `since`."""
        rows = await self.db.fetchall(
            "SELECT member_id, MAX(contacted_at) AS at, contacted_by FROM follow_up_contacts"
            " WHERE hub_id = ? AND contacted_at >= ? GROUP BY member_id",
            (hub_id, to_db(since)),
        )
        contacts = {}
        for row in rows:
            at = from_db(row["at"])
            assert at is not None
            contacts[int(row["member_id"])] = Contact(int(row["member_id"]), at, row["contacted_by"])
        return contacts

    async def open_alerts(self, hub_id: str) -> list[OpenAlert]:
        """The hub's safeguarding alerts nobody has acknowledged yet, oldest first."""
        rows = await self.db.fetchall(
            "SELECT a.id, a.member_id, m.first_name, a.trigger, a.raised_at, a.repeats, a.escalated_at"
            " FROM alerts a LEFT JOIN members m ON m.id = a.member_id"
            " WHERE a.hub_id = ? AND a.acknowledged_at IS NULL ORDER BY a.raised_at, a.id",
            (hub_id,),
        )
        alerts = []
        for row in rows:
            raised = from_db(row["raised_at"])
            assert raised is not None
            alerts.append(OpenAlert(row["id"], row["member_id"], row["first_name"], row["trigger"], raised,
                                    row["repeats"], row["escalated_at"] is not None))
        return alerts

    async def mark_register(self, session_id: int, shown: Collection[int], present: Collection[int],
                            by_user_id: int, now: datetime) -> int:
        """Set who came among the register lines `shown` (those in `present` came, the others did not), in one
        transaction; lines of other sessions are ignored. Returns how many lines changed."""
        wanted = {line: int(line in present) for line in shown}
        if not wanted:
            return 0
        changed = 0
        async with self.db.transaction() as conn:
            marks = ", ".join("?" for _ in wanted)
            rows = await conn.execute_fetchall(
                f"SELECT id, present FROM attendance WHERE session_id = ? AND id IN ({marks})",
                (session_id, *wanted),
            )
            for row in rows:
                if int(row[1]) != wanted[int(row[0])]:
                    await conn.execute(
                        "UPDATE attendance SET present = ?, marked_by = ?, marked_at = ? WHERE id = ?",
                        (wanted[int(row[0])], by_user_id, to_db(now), row[0]),
                    )
                    changed += 1
        return changed


async def _purge(conn: object, now: datetime) -> int:
    stamp = to_db(now)
    removed = 0
    for table in ("dashboard_links", "dashboard_sessions"):
        cursor = await conn.execute(f"DELETE FROM {table} WHERE expires_at <= ?", (stamp,))  # type: ignore[attr-defined]
        removed += cursor.rowcount
    return removed
