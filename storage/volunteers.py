"""Queries for Activator volunteers: taking and giving back tasks, pathway steps, and the figures for reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from bot.domain.people import Member
from bot.domain.volunteers import TakenTask, session_minutes
from storage.db import Database, from_db, to_db
from storage.members import _MEMBER_COLUMNS, _member

VOLUNTEER = "volunteer"


@dataclass(frozen=True, slots=True)
class VolunteerTally:
    """A hub's volunteering over a period: who was active, their hours from the register, and the pathway."""

    volunteers: int  # volunteers of the hub now
    active: int  # took a task, or were ticked present on a saved register, in the period
    minutes: int  # session lengths for every volunteer ticked present on a saved register
    at_step: dict[str, int] = field(default_factory=dict)  # step id -> people who had done it by the period's end


class VolunteerQueries:
    """Mixed into Store."""

    db: Database

    async def volunteers_of_hub(self, hub_id: str) -> list[Member]:
        """Current members of the hub who joined as volunteers, by first name."""
        columns = ", ".join("m." + c.strip() for c in _MEMBER_COLUMNS.split(","))
        rows = await self.db.fetchall(
            f"SELECT {columns} FROM members m JOIN memberships ms ON ms.member_id = m.id"
            " WHERE ms.hub_id = ? AND ms.left_at IS NULL AND m.role = ? ORDER BY m.first_name COLLATE NOCASE, m.id",
            (hub_id, VOLUNTEER),
        )
        return [_member(row) for row in rows]

    async def is_volunteer_of(self, member_id: int, hub_id: str) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM members m JOIN memberships ms ON ms.member_id = m.id"
            " WHERE m.id = ? AND ms.hub_id = ? AND ms.left_at IS NULL AND m.role = ?",
            (member_id, hub_id, VOLUNTEER),
        )
        return row is not None

    async def tasks_taken(self, session_ids: Sequence[int]) -> dict[int, dict[str, TakenTask]]:
        """session id -> {task id: who holds it}, for every session asked about (empty when none is taken)."""
        found: dict[int, dict[str, TakenTask]] = {session_id: {} for session_id in session_ids}
        if not session_ids:
            return found
        marks = ", ".join("?" for _ in session_ids)
        rows = await self.db.fetchall(
            "SELECT vt.session_id, vt.task, vt.member_id, m.first_name FROM volunteer_tasks vt"
            f" JOIN members m ON m.id = vt.member_id WHERE vt.session_id IN ({marks}) ORDER BY vt.taken_at",
            tuple(session_ids),
        )
        for row in rows:
            found[row["session_id"]][row["task"]] = TakenTask(row["task"], row["member_id"], row["first_name"])
        return found

    async def take_task(self, session_id: int, task: str, member_id: int, limit: int, now: datetime) -> bool:
        """Take a task if nobody holds it and the volunteer holds fewer than `limit` at this session, in one
        statement: two volunteers tapping at once cannot both have it (the primary key decides)."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO volunteer_tasks (session_id, task, member_id, taken_at)"
                " SELECT :session, :task, :member, :now WHERE"
                " (SELECT COUNT(*) FROM volunteer_tasks WHERE session_id = :session AND member_id = :member) < :limit"
                " ON CONFLICT (session_id, task) DO NOTHING",
                {"session": session_id, "task": task, "member": member_id, "now": to_db(now), "limit": limit},
            )
            return cursor.rowcount > 0

    async def give_back_task(self, session_id: int, task: str, member_id: int) -> bool:
        """Only the holder can give a task back."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM volunteer_tasks WHERE session_id = ? AND task = ? AND member_id = ?",
                (session_id, task, member_id),
            )
            return cursor.rowcount > 0

    async def volunteers_not_yet_told(self, hub_id: str, session_id: int, kind: str) -> list[Member]:
        """Volunteers of the hub who have no `kind` ledger row for this session yet (keyed `<kind>:<session>:<id>`):
        on a tick after the reminder went out this finds nobody through the dedupe key's index, and reads nothing
        more."""
        columns = ", ".join("m." + c.strip() for c in _MEMBER_COLUMNS.split(","))
        rows = await self.db.fetchall(
            f"SELECT {columns} FROM members m JOIN memberships ms ON ms.member_id = m.id"
            " WHERE ms.hub_id = ? AND ms.left_at IS NULL AND m.role = ? AND NOT EXISTS"
            " (SELECT 1 FROM deliveries d WHERE d.dedupe_key = ? || m.id) ORDER BY m.id",
            (hub_id, VOLUNTEER, f"{kind}:{session_id}:"),
        )
        return [_member(row) for row in rows]

    async def planned_keys(self, session_ids: Sequence[int], kinds: Sequence[str]) -> set[str]:
        """The dedupe keys of ledger rows of these kinds already owed for these sessions (a read, so the planner
        does not write every tick what is already there)."""
        if not session_ids or not kinds:
            return set()
        sessions, kind_marks = ", ".join("?" for _ in session_ids), ", ".join("?" for _ in kinds)
        rows = await self.db.fetchall(
            f"SELECT dedupe_key FROM deliveries WHERE session_id IN ({sessions}) AND kind IN ({kind_marks})",
            (*session_ids, *kinds),
        )
        return {row["dedupe_key"] for row in rows}

    async def steps_of(self, hub_id: str, member_ids: Sequence[int]) -> dict[int, set[str]]:
        found: dict[int, set[str]] = {member_id: set() for member_id in member_ids}
        if not member_ids:
            return found
        marks = ", ".join("?" for _ in member_ids)
        rows = await self.db.fetchall(
            f"SELECT member_id, step FROM volunteer_steps WHERE hub_id = ? AND member_id IN ({marks})",
            (hub_id, *member_ids),
        )
        for row in rows:
            found[row["member_id"]].add(row["step"])
        return found

    async def toggle_step(self, member_id: int, hub_id: str, step: str, coordinator_id: int, now: datetime) -> bool:
        """Tick a pathway step, or untick it if it was ticked; returns whether it is ticked now."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM volunteer_steps WHERE member_id = ? AND hub_id = ? AND step = ?",
                (member_id, hub_id, step),
            )
            if cursor.rowcount:
                return False
            await conn.execute(
                "INSERT INTO volunteer_steps (member_id, hub_id, step, ticked_by, ticked_at) VALUES (?, ?, ?, ?, ?)",
                (member_id, hub_id, step, coordinator_id, to_db(now)),
            )
            return True

    async def volunteer_minutes(self, hub_id: str, start: datetime, end: datetime) -> dict[int, int]:
        """member id -> minutes: the length of every session in [start, end) whose saved register ticks them."""
        rows = await self.db.fetchall(
            "SELECT a.member_id, s.starts_at, s.ends_at FROM attendance a"
            " JOIN registers g ON g.session_id = a.session_id AND g.saved_at IS NOT NULL"
            " JOIN sessions s ON s.id = a.session_id"
            " JOIN members m ON m.id = a.member_id AND m.role = ?"
            " WHERE s.hub_id = ? AND s.starts_at >= ? AND s.starts_at < ? AND s.cancelled_at IS NULL"
            " AND a.present = 1 AND a.companion_id IS NULL",
            (VOLUNTEER, hub_id, to_db(start), to_db(end)),
        )
        minutes: dict[int, int] = {}
        for row in rows:
            length = session_minutes(from_db(row["starts_at"]), from_db(row["ends_at"]))  # type: ignore[arg-type]
            minutes[row["member_id"]] = minutes.get(row["member_id"], 0) + length
        return minutes

    async def volunteer_tally(self, hub_id: str, start: datetime, end: datetime,
                              steps: Sequence[str]) -> VolunteerTally:
        minutes = await self.volunteer_minutes(hub_id, start, end)
        rows = await self.db.fetchall(
            "SELECT DISTINCT vt.member_id FROM volunteer_tasks vt JOIN sessions s ON s.id = vt.session_id"
            " WHERE s.hub_id = ? AND s.starts_at >= ? AND s.starts_at < ? AND s.cancelled_at IS NULL",
            (hub_id, to_db(start), to_db(end)),
        )
        active = set(minutes) | {row["member_id"] for row in rows}
        counts = await self.db.fetchall(
            "SELECT step, COUNT(*) AS people FROM volunteer_steps WHERE hub_id = ? AND ticked_at < ? GROUP BY step",
            (hub_id, to_db(end)),
        )
        by_step = {row["step"]: row["people"] for row in counts}
        return VolunteerTally(
            volunteers=len(await self.volunteers_of_hub(hub_id)),
            active=len(active),
            minutes=sum(minutes.values()),
            at_step={step: by_step.get(step, 0) for step in steps},
        )


async def prune_volunteering(conn: aiosqlite.Connection, before: datetime) -> int:
    """Retention, inside the day's retention transaction: who took which task at sessions that ended before
    `before` is deleted (hours come from the register, not from tasks)."""
    cursor = await conn.execute(
        "DELETE FROM volunteer_tasks WHERE session_id IN (SELECT id FROM sessions WHERE ends_at < ?)",
        (to_db(before),),
    )
    return cursor.rowcount
