"""Queries about RSVPs: who said yes, no or maybe to a session, and which companions come."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import Database, from_db, to_db


@dataclass(frozen=True, slots=True)
class Rsvp:
    session_id: int
    member_id: int
    answer: str  # yes | no | maybe
    all_companions: bool
    companion_ids: tuple[int, ...]  # chosen companions when all_companions is False
    waitlisted_at: datetime | None
    updated_at: datetime

    @property
    def waitlisted(self) -> bool:
        return self.waitlisted_at is not None


def _rsvp(row: aiosqlite.Row, companions: Sequence[int]) -> Rsvp:
    return Rsvp(
        session_id=row["session_id"],
        member_id=row["member_id"],
        answer=row["answer"],
        all_companions=bool(row["all_companions"]),
        companion_ids=tuple(companions),
        waitlisted_at=from_db(row["waitlisted_at"]),
        updated_at=from_db(row["updated_at"]),  # type: ignore[arg-type]
    )


class RsvpQueries:
    """Mixed into Store."""

    db: Database

    async def record_rsvp(
        self,
        session_id: int,
        member_id: int,
        answer: str,
        now: datetime,
        *,
        companion_ids: Sequence[int] | None = None,
    ) -> Rsvp:
        """Record (or change) an answer; companion_ids None means "all of us"."""
        if answer not in ("yes", "no", "maybe"):
            raise ValueError(answer)
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO rsvps (session_id, member_id, answer, all_companions, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id, member_id) DO UPDATE SET"
                " answer = excluded.answer, all_companions = excluded.all_companions,"
                " updated_at = excluded.updated_at",
                (session_id, member_id, answer, int(companion_ids is None), to_db(now)),
            )
            await conn.execute(
                "DELETE FROM rsvp_companions WHERE session_id = ? AND member_id = ?", (session_id, member_id)
            )
            if companion_ids is not None:
                await conn.executemany(
                    "INSERT INTO rsvp_companions (session_id, member_id, companion_id)"
                    " SELECT ?, ?, id FROM companions WHERE id = ? AND member_id = ?",
                    [(session_id, member_id, cid, member_id) for cid in companion_ids],
                )
        rsvp = await self.rsvp(session_id, member_id)
        assert rsvp is not None
        return rsvp

    async def rsvp(self, session_id: int, member_id: int) -> Rsvp | None:
        row = await self.db.fetchone(
            "SELECT * FROM rsvps WHERE session_id = ? AND member_id = ?", (session_id, member_id)
        )
        if row is None:
            return None
        chosen = await self.db.fetchall(
            "SELECT companion_id FROM rsvp_companions WHERE session_id = ? AND member_id = ? ORDER BY companion_id",
            (session_id, member_id),
        )
        return _rsvp(row, [r["companion_id"] for r in chosen])

    async def rsvps_for_session(self, session_id: int) -> list[Rsvp]:
        rows = await self.db.fetchall(
            "SELECT * FROM rsvps WHERE session_id = ? ORDER BY updated_at, member_id", (session_id,)
        )
        chosen = await self.db.fetchall(
            "SELECT member_id, companion_id FROM rsvp_companions WHERE session_id = ? ORDER BY companion_id",
            (session_id,),
        )
        by_member: dict[int, list[int]] = {}
        for row in chosen:
            by_member.setdefault(row["member_id"], []).append(row["companion_id"])
        return [_rsvp(row, by_member.get(row["member_id"], [])) for row in rows]
