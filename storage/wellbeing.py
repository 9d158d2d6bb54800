"""Queries for wellbeing answers: after-session check-ins, who answers a carer's questions, term measures.

The tables are migration 003's contract (read directly by the summaries); 005 adds answer_modes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Literal

import aiosqlite

from bot.domain.checkins import dedupe_key as checkin_key
from bot.domain.consent import WELLBEING
from bot.domain.people import Companion
from bot.domain.wellbeing import Checkin, CheckinTarget, MeasureAnswer, MeasureRun
from storage.db import Database, from_db, to_db
from storage.members import (
    _MEMBER_COLUMNS,
    Member,
    _member,
    companions_in,
    consented_in,
    member_by_user_in,
)
from storage.sessions import Session, session_in

CheckinOutcome = Literal["first", "changed", "closed"]
_CHECKIN_FIELDS = frozenset({"feeling", "connected", "absent"})



def _checkin(row: aiosqlite.Row) -> Checkin:
    return Checkin(
        id=row["id"],
        session_id=row["session_id"],
        hub_id=row["hub_id"],
        member_id=row["member_id"],
        feeling=row["feeling"],
        connected=row["connected"],
        absent=bool(row["absent"]),
        answered_as=row["answered_as"],
        first_answered_at=from_db(row["first_answered_at"]),  # type: ignore[arg-type]
        updated_at=from_db(row["updated_at"]),  # type: ignore[arg-type]
    )


def _run(row: aiosqlite.Row) -> MeasureRun:
    return MeasureRun(
        id=row["id"],
        member_id=row["member_id"],
        hub_id=row["hub_id"],
        term=row["term"],
        point=row["point"],
        question_set=row["question_set"],
        answered_as=row["answered_as"],
        position=row["position"],
        started_at=from_db(row["started_at"]),  # type: ignore[arg-type]
        paused_at=from_db(row["paused_at"]),
        completed_at=from_db(row["completed_at"]),
    )


_CHECKIN_COLUMNS = (
    "id, session_id, hub_id, member_id, feeling, connected, absent, answered_as, first_answered_at, updated_at"
)
_RUN_COLUMNS = (
    "id, member_id, hub_id, term, point, question_set, answered_as, position, started_at, paused_at, completed_at"
)
_WITH_WELLBEING_CONSENT = (
    "EXISTS (SELECT 1 FROM consents c WHERE c.member_id = m.id AND c.kind = 'wellbeing' AND c.withdrawn_at IS NULL)"
)


def checkin_in(conn: sqlite3.Connection, *, session_id: int, member_id: int) -> Checkin | None:
    row = conn.execute(f"SELECT {_CHECKIN_COLUMNS} FROM checkins WHERE session_id = ? AND member_id = ?",
                       (session_id, member_id)).fetchone()
    return _checkin(row) if row else None


def delivered_in(conn: sqlite3.Connection, *, dedupe_key: str) -> bool:
    """The ledger row with this key went out (or was going out when the bot stopped)."""
    return conn.execute("SELECT 1 FROM deliveries WHERE dedupe_key = ? AND state IN ('sent', 'sending')",
                        (dedupe_key,)).fetchone() is not None


def answer_mode_in(conn: sqlite3.Connection, *, member_id: int) -> str | None:
    row = conn.execute("SELECT answered_as FROM answer_modes WHERE member_id = ?", (member_id,)).fetchone()
    return row["answered_as"] if row else None


@dataclass(frozen=True, slots=True)
class CheckinTapped:
    """Who tapped a check-in's button and what its handler checks; the session and the rest only when the
    check-in for that session was really sent to that member."""

    member: Member | None
    session: Session | None = None
    delivered: bool = False
    consented: bool = False  # their consent to the wellbeing questions stands
    checkin: Checkin | None = None
    answer_mode: str | None = None
    companions: list[Companion] = field(default_factory=list)


def checkin_tapped_in(conn: sqlite3.Connection, *, telegram_user_id: int, session_id: int | None) -> CheckinTapped:
    member = member_by_user_in(conn, telegram_user_id=telegram_user_id)
    if member is None or session_id is None:
        return CheckinTapped(member)
    session = session_in(conn, session_id=session_id)
    if session is None:
        return CheckinTapped(member)
    if not delivered_in(conn, dedupe_key=checkin_key(session.id, member.id)):
        return CheckinTapped(member, session)  # someone else's check-in, or one never sent
    return CheckinTapped(
        member, session, delivered=True,
        consented=consented_in(conn, member_id=member.id, kind=WELLBEING),
        checkin=checkin_in(conn, session_id=session.id, member_id=member.id),
        answer_mode=answer_mode_in(conn, member_id=member.id),
        companions=companions_in(conn, member_id=member.id),
    )


class WellbeingQueries:
    """Mixed into Store."""

    db: Database

    # ------------------------------------------------------------------ check-ins

    async def checkin_targets(
        self, ended_from: datetime, ended_to: datetime, *, unplanned_kind: str
    ) -> list[CheckinTarget]:
        """Yes/Maybe (not waitlisted) of held sessions ending in [from, to), with wellbeing consent, reachable,
        not yet in the ledger under the key `<unplanned_kind>:<session id>:<member id>`."""
        rows = await self.db.fetchall(
            "SELECT s.id AS session_id, s.hub_id, s.ends_at, m.id AS member_id, m.chat_id FROM sessions s"
            " JOIN rsvps r ON r.session_id = s.id AND r.answer IN ('yes', 'maybe') AND r.waitlisted_at IS NULL"
            " JOIN members m ON m.id = r.member_id AND m.reachable = 1 AND m.paused = 0"
            " JOIN memberships ms ON ms.member_id = m.id AND ms.hub_id = s.hub_id AND ms.left_at IS NULL"
            f" WHERE s.ends_at >= ? AND s.ends_at < ? AND s.cancelled_at IS NULL AND {_WITH_WELLBEING_CONSENT}"
            " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.dedupe_key = ? || ':' || s.id || ':' || m.id)"
            " ORDER BY s.ends_at, s.id, m.id",
            (to_db(ended_from), to_db(ended_to), unplanned_kind),
        )
        return [
            CheckinTarget(r["session_id"], r["hub_id"], from_db(r["ends_at"]), r["member_id"], r["chat_id"])  # type: ignore[arg-type]
            for r in rows
        ]

    async def checkin_of(self, session_id: int, member_id: int) -> Checkin | None:
        return await self.db.read(partial(checkin_in, session_id=session_id, member_id=member_id))

    async def checkin_tapped(self, telegram_user_id: int, session_id: int | None) -> CheckinTapped:
        """A check-in button's tap: who tapped and everything its handler checks, in one trip to SQLite's thread
        (the reads were up to eight trips: under load each waits for a thread to be given a core)."""
        return await self.db.read(partial(checkin_tapped_in, telegram_user_id=telegram_user_id, session_id=session_id))

    async def record_checkin_answer(
        self,
        *,
        session_id: int,
        hub_id: str,
        member_id: int,
        changes: Mapping[str, Any],
        answered_as: str,
        changeable_after: datetime,
        now: datetime,
    ) -> tuple[CheckinOutcome, Checkin]:
        """Store one tap of a check-in, atomically, in one trip to SQLite's thread.

        The first tap creates the row; later taps change it only while its first answer is newer than
        `changeable_after` (now minus the change window); otherwise nothing changes and 'closed' is returned.
        """
        if not changes or not set(changes) <= _CHECKIN_FIELDS:
            raise ValueError(f"unknown check-in fields: {sorted(changes)}")
        stamp = to_db(now)

        def store(conn: sqlite3.Connection) -> tuple[CheckinOutcome, Checkin]:
            existing = checkin_in(conn, session_id=session_id, member_id=member_id)
            if existing is not None and existing.first_answered_at <= changeable_after:
                return "closed", existing
            columns = sorted(changes)  # whitelisted above: safe to name in SQL
            values = [int(v) if isinstance(v, bool) else v for v in (changes[c] for c in columns)]
            if existing is None:
                conn.execute(
                    f"INSERT INTO checkins (session_id, hub_id, member_id, answered_as, first_answered_at,"
                    f" updated_at, {', '.join(columns)}) VALUES (?, ?, ?, ?, ?, ?, {', '.join('?' for _ in columns)})",
                    (session_id, hub_id, member_id, answered_as, stamp, stamp, *values),
                )
            else:
                sets = ", ".join(f"{column} = ?" for column in columns)
                conn.execute(
                    f"UPDATE checkins SET {sets}, answered_as = ?, updated_at = ? WHERE id = ?",
                    (*values, answered_as, stamp, existing.id),
                )
            stored = checkin_in(conn, session_id=session_id, member_id=member_id)
            if stored is None:
                raise RuntimeError("a check-in answer was not stored")  # rolled back by in_transaction
            return ("first" if existing is None else "changed"), stored

        # BEGIN, the read, the write and COMMIT in one trip to SQLite's thread, committed when this returns.
        return await self.db.in_transaction(store)

    async def was_delivered(self, dedupe_key: str) -> bool:
        """The ledger row with this key went out (or was going out when the bot stopped)."""
        return await self.db.read(partial(delivered_in, dedupe_key=dedupe_key))

    # ------------------------------------------------------------------ who answers

    async def answer_mode(self, member_id: int) -> str | None:
        return await self.db.read(partial(answer_mode_in, member_id=member_id))

    async def set_answer_mode(self, member_id: int, answered_as: str, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO answer_modes (member_id, answered_as, set_at) VALUES (?, ?, ?)"
            " ON CONFLICT (member_id) DO UPDATE SET answered_as = excluded.answered_as, set_at = excluded.set_at",
            (member_id, answered_as, to_db(now)),
        )

    # ------------------------------------------------------------------ term measures

    async def wellbeing_members_of_hub(self, hub_id: str, *, unplanned_key: str | None = None) -> list[Member]:
        """Current members of a hub who agreed to wellbeing questions and can be messaged; with `unplanned_key`,
        only those with no ledger row keyed `<unplanned_key><member id>` yet."""
        columns = ", ".join(f"m.{c.strip()}" for c in _MEMBER_COLUMNS.split(","))
        unplanned = ""
        if unplanned_key:
            unplanned = " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.dedupe_key = ? || m.id)"
        rows = await self.db.fetchall(
            f"SELECT {columns} FROM members m JOIN memberships ms ON ms.member_id = m.id"
            f" WHERE ms.hub_id = ? AND ms.left_at IS NULL AND m.reachable = 1 AND m.paused = 0"
            f" AND {_WITH_WELLBEING_CONSENT}{unplanned} ORDER BY m.id",
            (hub_id, unplanned_key) if unplanned_key else (hub_id,),
        )
        return [_member(row) for row in rows]

    async def measure_run(self, run_id: int) -> MeasureRun | None:
        row = await self.db.fetchone(f"SELECT {_RUN_COLUMNS} FROM measure_runs WHERE id = ?", (run_id,))
        return _run(row) if row else None

    async def measure_runs_for(self, member_id: int, hub_id: str, term: str, point: str) -> list[MeasureRun]:
        rows = await self.db.fetchall(
            f"SELECT {_RUN_COLUMNS} FROM measure_runs WHERE member_id = ? AND hub_id = ? AND term = ? AND point = ?"
            " ORDER BY id",
            (member_id, hub_id, term, point),
        )
        return [_run(row) for row in rows]

    async def start_measure_run(
        self, *, member_id: int, hub_id: str, term: str, point: str, question_set: str, answered_as: str,
        now: datetime,
    ) -> MeasureRun:
        """The member's run through one question set at one point of a term (created once)."""
        await self.db.execute(
            "INSERT OR IGNORE INTO measure_runs (member_id, hub_id, term, point, question_set, answered_as,"
            " started_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (member_id, hub_id, term, point, question_set, answered_as, to_db(now)),
        )
        row = await self.db.fetchone(
            f"SELECT {_RUN_COLUMNS} FROM measure_runs WHERE member_id = ? AND hub_id = ? AND term = ?"
            " AND point = ? AND question_set = ?",
            (member_id, hub_id, term, point, question_set),
        )
        assert row is not None
        return _run(row)

    async def answer_measure_item(
        self, *, run_id: int, position: int, item: str, scale: str, value: int | None, complete: bool,
        now: datetime,
    ) -> bool:
        """Store the answer (value None = skipped) to the item at `position` and move on.

        False, and nothing stored, if the run is no longer at that position (a double tap or an old button).
        """
        stamp = to_db(now)
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE measure_runs SET position = position + 1, paused_at = NULL,"
                " completed_at = CASE WHEN ? THEN ? ELSE NULL END"
                " WHERE id = ? AND position = ? AND completed_at IS NULL",
                (int(complete), stamp, run_id, position),
            )
            if cursor.rowcount != 1:
                return False
            await conn.execute(
                "INSERT OR REPLACE INTO measure_answers (run_id, item, scale, value, skipped, answered_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, item, scale, value, int(value is None), stamp),
            )
        return True

    async def skip_rest_of_run(self, run_id: int, items: Sequence[tuple[str, str]], now: datetime) -> bool:
        """Mark the remaining (item, scale) pairs skipped and the run complete ("Not this time")."""
        stamp = to_db(now)
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE measure_runs SET position = position + ?, paused_at = NULL, completed_at = ?"
                " WHERE id = ? AND completed_at IS NULL",
                (len(items), stamp, run_id),
            )
            if cursor.rowcount != 1:
                return False
            await conn.executemany(
                "INSERT OR IGNORE INTO measure_answers (run_id, item, scale, value, skipped, answered_at)"
                " VALUES (?, ?, ?, NULL, 1, ?)",
                [(run_id, item, scale, stamp) for item, scale in items],
            )
        return True

    async def pause_measure_run(self, run_id: int, now: datetime) -> bool:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE measure_runs SET paused_at = ? WHERE id = ? AND completed_at IS NULL", (to_db(now), run_id)
            )
            return cursor.rowcount == 1

    async def resume_measure_run(self, run_id: int) -> None:
        await self.db.execute("UPDATE measure_runs SET paused_at = NULL WHERE id = ?", (run_id,))

    async def measure_answers(self, run_id: int) -> list[MeasureAnswer]:
        rows = await self.db.fetchall(
            "SELECT item, scale, value, skipped, answered_at FROM measure_answers WHERE run_id = ?"
            " ORDER BY answered_at, rowid",
            (run_id,),
        )
        return [
            MeasureAnswer(r["item"], r["scale"], r["value"], bool(r["skipped"]), from_db(r["answered_at"]))  # type: ignore[arg-type]
            for r in rows
        ]

    async def sessions_of_term(self, hub_id: str, term: str, keys: Iterable[str]) -> dict[str, tuple[int, bool]]:
        """Stored sessions among `keys`: key -> (session id, cancelled)."""
        keys = list(keys)
        if not keys:
            return {}
        marks = ", ".join("?" for _ in keys)
        rows = await self.db.fetchall(
            f"SELECT id, key, cancelled_at FROM sessions WHERE hub_id = ? AND term = ? AND key IN ({marks})",
            (hub_id, term, *keys),
        )
        return {row["key"]: (row["id"], row["cancelled_at"] is not None) for row in rows}
