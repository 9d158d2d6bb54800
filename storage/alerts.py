"""Queries for safeguarding alerts: raising one with its messages, repeating it, acknowledging it.

An alert never holds a score, only what was pressed. Each change and the messages it causes are written in
one transaction, so a restart neither loses an alert nor repeats one twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import aiosqlite

from bot.domain.wellbeing import Alert
from storage.db import Database, from_db, to_db
from storage.delivery import NewDelivery, insert_deliveries

_COLUMNS = (
    "id, hub_id, member_id, session_id, trigger, raised_at, acknowledged_at, acknowledged_by, repeats, escalated_at"
)


def _alert(row: aiosqlite.Row) -> Alert:
    return Alert(
        id=row["id"],
        hub_id=row["hub_id"],
        member_id=row["member_id"],
        session_id=row["session_id"],
        trigger=row["trigger"],
        raised_at=from_db(row["raised_at"]),  # type: ignore[arg-type]
        acknowledged_at=from_db(row["acknowledged_at"]),
        acknowledged_by=row["acknowledged_by"],
        repeats=row["repeats"],
        escalated_at=from_db(row["escalated_at"]),
    )


class AlertQueries:
    """Mixed into Store."""

    db: Database

    async def raise_alert(
        self,
        *,
        hub_id: str,
        member_id: int,
        session_id: int | None,
        trigger: str,
        now: datetime,
        messages: Callable[[int], Sequence[NewDelivery]],
    ) -> tuple[Alert, bool]:
        """Store an alert and queue its messages (built from the new alert's id), unless the same person
        already has an unacknowledged alert of this trigger for this session: then (that alert, False)."""
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(
                f"SELECT {_COLUMNS} FROM alerts WHERE member_id = ? AND session_id IS ? AND trigger = ?"
                " AND acknowledged_at IS NULL ORDER BY id DESC LIMIT 1",
                (member_id, session_id, trigger),
            )
            if rows:
                return _alert(next(iter(rows))), False
            cursor = await conn.execute(
                "INSERT INTO alerts (hub_id, member_id, session_id, trigger, raised_at) VALUES (?, ?, ?, ?, ?)",
                (hub_id, member_id, session_id, trigger, to_db(now)),
            )
            alert_id = cursor.lastrowid
            assert alert_id is not None
            await insert_deliveries(conn, messages(alert_id), now)
            rows = await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", (alert_id,))
        return _alert(next(iter(rows))), True

    async def alert(self, alert_id: int) -> Alert | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", (alert_id,))
        return _alert(row) if row else None

    async def unacknowledged_alerts(self, trigger: str) -> list[Alert]:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM alerts WHERE acknowledged_at IS NULL AND trigger = ? ORDER BY raised_at, id",
            (trigger,),
        )
        return [_alert(row) for row in rows]

    async def record_alert_repeat(
        self, alert_id: int, *, seen_repeats: int, repeats: int, escalate: bool, messages: Sequence[NewDelivery],
        now: datetime,
    ) -> bool:
        """Move an unacknowledged alert from `seen_repeats` to `repeats` (and escalate) and queue the messages.

        False, and nothing queued, if it was acknowledged or moved on meanwhile.
        """
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE alerts SET repeats = ?,"
                " escalated_at = CASE WHEN ? AND escalated_at IS NULL THEN ? ELSE escalated_at END"
                " WHERE id = ? AND repeats = ? AND acknowledged_at IS NULL",
                (repeats, int(escalate), to_db(now), alert_id, seen_repeats),
            )
            if cursor.rowcount != 1:
                return False
            await insert_deliveries(conn, messages, now)
        return True

    async def acknowledge_alert(self, alert_id: int, by_user_id: int, now: datetime) -> bool:
        """The first acknowledgement counts; False if it was already acknowledged."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND acknowledged_at IS NULL",
                (to_db(now), by_user_id, alert_id),
            )
            return cursor.rowcount == 1
