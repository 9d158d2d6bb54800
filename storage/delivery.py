"""The delivery ledger: every scheduled message, its state, and the queries the dispatcher needs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import aiosqlite

from bot.domain.ledger import Delivery, NewDelivery
from storage.db import Database, from_db, to_db

_COLUMNS = (
    "id, kind, dedupe_key, chat_id, due_at, member_id, hub_id, session_id, expires_at, payload, state,"
    " attempts, telegram_message_id"
)


def _delivery(row: aiosqlite.Row) -> Delivery:
    return Delivery(
        id=row["id"],
        kind=row["kind"],
        dedupe_key=row["dedupe_key"],
        chat_id=row["chat_id"],
        due_at=from_db(row["due_at"]),  # type: ignore[arg-type]
        member_id=row["member_id"],
        hub_id=row["hub_id"],
        session_id=row["session_id"],
        expires_at=from_db(row["expires_at"]),
        payload=json.loads(row["payload"]),
        state=row["state"],
        attempts=row["attempts"],
        telegram_message_id=row["telegram_message_id"],
    )


_INSERT_DELIVERY = (
    "INSERT OR IGNORE INTO deliveries (kind, dedupe_key, member_id, chat_id, hub_id, session_id, due_at,"
    " expires_at, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _delivery_rows(items: Iterable[NewDelivery], now: datetime) -> list[tuple[Any, ...]]:
    stamp = to_db(now)
    return [
        (
            item.kind,
            item.dedupe_key,
            item.member_id,
            item.chat_id,
            item.hub_id,
            item.session_id,
            to_db(item.due_at),
            to_db(item.expires_at) if item.expires_at else None,
            json.dumps(item.payload, ensure_ascii=False),
            stamp,
        )
        for item in items
    ]


async def insert_deliveries(conn: aiosqlite.Connection, items: Iterable[NewDelivery], now: datetime) -> int:
    """INSERT OR IGNORE on the dedupe key, inside the caller's transaction; returns how many were new."""
    before = conn.total_changes
    await conn.executemany(_INSERT_DELIVERY, _delivery_rows(items, now))
    return conn.total_changes - before


def insert_deliveries_in(conn: sqlite3.Connection, items: Iterable[NewDelivery], now: datetime) -> int:
    """insert_deliveries for work running on SQLite's thread (Database.in_transaction)."""
    before = conn.total_changes
    conn.executemany(_INSERT_DELIVERY, _delivery_rows(items, now))
    return conn.total_changes - before


class DeliveryQueries:
    """Mixed into Store: the ledger that makes a restart neither repeat nor skip a message."""

    db: Database

    async def enqueue_deliveries(self, items: Iterable[NewDelivery], now: datetime) -> int:
        async with self.db.transaction() as conn:
            return await insert_deliveries(conn, items, now)

    async def due_deliveries(self, now: datetime, limit: int = 500) -> list[Delivery]:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM deliveries WHERE state = 'pending' AND due_at <= ?"
            " ORDER BY due_at, id LIMIT ?",
            (to_db(now), limit),
        )
        return [_delivery(row) for row in rows]

    async def delivery(self, delivery_id: int) -> Delivery | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM deliveries WHERE id = ?", (delivery_id,))
        return _delivery(row) if row else None

    async def deliveries_where(
        self, *, kind: str | None = None, session_id: int | None = None, chat_id: int | None = None
    ) -> list[Delivery]:
        clauses, params = [], []
        for column, value in (("kind", kind), ("session_id", session_id), ("chat_id", chat_id)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = " AND ".join(clauses) or "1"
        rows = await self.db.fetchall(f"SELECT {_COLUMNS} FROM deliveries WHERE {where} ORDER BY id", params)
        return [_delivery(row) for row in rows]

    async def mark_delivery_sending(self, delivery_id: int) -> bool:
        """Claim a pending row; False if someone else already did. One statement, committed on its own."""
        result = await self.db.write(
            "UPDATE deliveries SET state = 'sending', attempts = attempts + 1 WHERE id = ? AND state = 'pending'",
            (delivery_id,),
        )
        return result.rowcount == 1

    async def mark_delivery_sent(self, delivery_id: int, message_id: int | None, now: datetime) -> None:
        await self.db.execute(
            "UPDATE deliveries SET state = 'sent', telegram_message_id = ?, sent_at = ?, last_error = NULL"
            " WHERE id = ?",
            (message_id, to_db(now), delivery_id),
        )

    async def close_delivery(self, delivery_id: int, state: str, reason: str) -> None:
        """End a row without sending: failed (Telegram refused), dropped (stale) or skipped (unwanted)."""
        if state not in ("failed", "dropped", "skipped"):
            raise ValueError(state)
        await self.db.execute(
            "UPDATE deliveries SET state = ?, last_error = ? WHERE id = ?", (state, reason[:500], delivery_id)
        )

    async def retry_delivery_later(self, delivery_id: int, due_at: datetime, reason: str) -> None:
        await self.db.execute(
            "UPDATE deliveries SET state = 'pending', due_at = ?, last_error = ? WHERE id = ?",
            (to_db(due_at), reason[:500], delivery_id),
        )

    async def release_interrupted_deliveries(self) -> int:
        """After a crash, a row left 'sending' may or may not have reached Telegram: send it again.

        At most one row per dispatcher can be in this state, so at most one message is repeated.
        """
        async with self.db.transaction() as conn:
            cursor = await conn.execute("UPDATE deliveries SET state = 'pending' WHERE state = 'sending'")
            return cursor.rowcount

    async def skip_pending_deliveries(self, *, session_id: int, kinds: Iterable[str], reason: str) -> int:
        kinds = list(kinds)
        marks = ", ".join("?" for _ in kinds)
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                f"UPDATE deliveries SET state = 'skipped', last_error = ? WHERE session_id = ?"
                f" AND state = 'pending' AND kind IN ({marks})",
                (reason, session_id, *kinds),
            )
            return cursor.rowcount

    async def delivery_counts(self) -> dict[str, int]:
        rows = await self.db.fetchall("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state")
        return {row["state"]: row["n"] for row in rows}
