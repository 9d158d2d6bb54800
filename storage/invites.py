"""Queries about invite codes (a hub's current and old codes) and join requests awaiting a coordinator."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.domain.invites import JoinRequest
from storage.db import Database, from_db, to_db

_REQUEST_COLUMNS = "id, member_id, hub_id, requested_at, decided_at, decision"


def _request(row: aiosqlite.Row) -> JoinRequest:
    return JoinRequest(row["id"], row["member_id"], row["hub_id"], from_db(row["requested_at"]),
                       from_db(row["decided_at"]) if row["decided_at"] else None, row["decision"])


class InviteQueries:
    """Mixed into Store: invite codes and join requests."""

    db: Database

    async def current_invite_code(self, hub_id: str) -> str | None:
        row = await self.db.fetchone(
            "SELECT code FROM invite_codes WHERE hub_id = ? AND retired_at IS NULL", (hub_id,))
        return row["code"] if row else None

    async def ensure_invite_code(self, hub_id: str, candidate: str, now: datetime) -> str:
        """The hub's current code; `candidate` becomes it when the hub has none yet (two callers: one wins)."""
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "SELECT code FROM invite_codes WHERE hub_id = ? AND retired_at IS NULL", (hub_id,))
            if rows:
                return str(rows[0][0])
            await conn.execute("INSERT INTO invite_codes (code, hub_id, created_at) VALUES (?, ?, ?)",
                               (candidate, hub_id, to_db(now)))
            return candidate

    async def rotate_invite_code(self, hub_id: str, new_code: str, now: datetime) -> str:
        """Retire the hub's current code (its links stop working) and make `new_code` the current one."""
        stamp = to_db(now)
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE invite_codes SET retired_at = ? WHERE hub_id = ? AND retired_at IS NULL",
                               (stamp, hub_id))
            await conn.execute("INSERT INTO invite_codes (code, hub_id, created_at) VALUES (?, ?, ?)",
                               (new_code, hub_id, stamp))
        return new_code

    async def hub_of_invite_code(self, code: str) -> str | None:
        """The hub whose *current* code this is; None for an old (retired) or unknown code."""
        row = await self.db.fetchone(
            "SELECT hub_id FROM invite_codes WHERE code = ? AND retired_at IS NULL", (code,))
        return row["hub_id"] if row else None

    async def open_join_request(self, member_id: int, hub_id: str) -> JoinRequest | None:
        row = await self.db.fetchone(
            f"SELECT {_REQUEST_COLUMNS} FROM join_requests WHERE member_id = ? AND hub_id = ? AND decided_at IS NULL",
            (member_id, hub_id))
        return _request(row) if row else None

    async def request_to_join(self, member_id: int, hub_id: str, now: datetime) -> JoinRequest:
        """File (or find, when one is already open) the member's request to join a hub that needs approval."""
        async with self.db.transaction() as conn:
            await file_join_request(conn, member_id, hub_id, to_db(now))
        found = await self.open_join_request(member_id, hub_id)
        assert found is not None
        return found

    async def join_request(self, request_id: int) -> JoinRequest | None:
        row = await self.db.fetchone(f"SELECT {_REQUEST_COLUMNS} FROM join_requests WHERE id = ?", (request_id,))
        return _request(row) if row else None

    async def open_join_requests(self, hub_id: str) -> list[JoinRequest]:
        rows = await self.db.fetchall(
            f"SELECT {_REQUEST_COLUMNS} FROM join_requests WHERE hub_id = ? AND decided_at IS NULL ORDER BY id",
            (hub_id,))
        return [_request(row) for row in rows]

    async def decide_join_request(self, request_id: int, accept: bool, decided_by: int,
                                  now: datetime) -> JoinRequest | None:
        """Accept (the membership starts, in the same transaction) or decline an open request.

        None when the request is unknown or already decided: a second tap, or a forged one, changes nothing.
        """
        stamp = to_db(now)
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE join_requests SET decided_at = ?, decision = ?, decided_by = ?"
                " WHERE id = ? AND decided_at IS NULL RETURNING member_id, hub_id",
                (stamp, "accepted" if accept else "declined", decided_by, request_id))
            row = await cursor.fetchone()
            await cursor.close()
            if row is None:
                return None
            if accept:
                await conn.execute(
                    "INSERT INTO memberships (member_id, hub_id, joined_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (member_id, hub_id) DO UPDATE SET left_at = NULL", (row[0], row[1], stamp))
        return await self.join_request(request_id)

    async def has_hub_or_request(self, member_id: int) -> bool:
        """Whether the member belongs to any hub or still waits for one (else a declined person keeps nothing)."""
        row = await self.db.fetchone(
            "SELECT 1 FROM memberships WHERE member_id = ? AND left_at IS NULL"
            " UNION ALL SELECT 1 FROM join_requests WHERE member_id = ? AND decided_at IS NULL LIMIT 1",
            (member_id, member_id))
        return row is not None


async def file_join_request(conn: aiosqlite.Connection, member_id: int, hub_id: str, stamp: str) -> None:
    """Inside a transaction: an open request for (member, hub), unless one is open already."""
    await conn.execute(
        "INSERT INTO join_requests (member_id, hub_id, requested_at) VALUES (?, ?, ?)"
        " ON CONFLICT (member_id, hub_id) WHERE decided_at IS NULL DO NOTHING", (member_id, hub_id, stamp))
