"""Queries about hubs, members, companions, consents and half-finished joins."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import aiosqlite

from bot.domain.people import Companion, Consent, JoinDraft, Member, NewCompanion
from storage.db import Database, from_db, to_db
from storage.invites import file_join_request


@dataclass(frozen=True, slots=True)
class HubRow:
    id: str
    name: str
    venue: str
    timezone: str


_MEMBER_COLUMNS = "id, telegram_user_id, chat_id, first_name, language, role, reachable, paused"


def _member(row: aiosqlite.Row) -> Member:
    return Member(
        id=row["id"],
        telegram_user_id=row["telegram_user_id"],
        chat_id=row["chat_id"],
        first_name=row["first_name"],
        language=row["language"],
        role=row["role"],
        reachable=bool(row["reachable"]),
        paused=bool(row["paused"]),
    )


def member_by_user_in(conn: sqlite3.Connection, *, telegram_user_id: int) -> Member | None:
    """MemberQueries.member_by_user on SQLite's thread (also as the first step of a tap: storage/invitations.py)."""
    row = conn.execute(f"SELECT {_MEMBER_COLUMNS} FROM members WHERE telegram_user_id = ?",
                       (telegram_user_id,)).fetchone()
    return _member(row) if row else None


def consented_in(conn: sqlite3.Connection, *, member_id: int, kind: str) -> bool:
    """The member's consent of this kind is given and not withdrawn."""
    return conn.execute("SELECT 1 FROM consents WHERE member_id = ? AND kind = ? AND withdrawn_at IS NULL",
                        (member_id, kind)).fetchone() is not None


def companions_in(conn: sqlite3.Connection, *, member_id: int) -> list[Companion]:
    """The member's companions still listed, oldest first (the order their buttons are shown in)."""
    rows = conn.execute(
        "SELECT id, member_id, name, age_band, relationship FROM companions"
        " WHERE member_id = ? AND removed_at IS NULL ORDER BY id",
        (member_id,),
    ).fetchall()
    return [Companion(r["id"], r["member_id"], r["name"], r["age_band"], r["relationship"]) for r in rows]


class MemberQueries:
    """Mixed into Store: everything about who belongs where and what they agreed to."""

    db: Database

    async def sync_hubs(self, hubs: Iterable[Any], now: datetime) -> None:
        """Make the hubs table match the configuration; hubs no longer configured become inactive."""
        hubs = list(hubs)
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE hubs SET active = 0")
            for hub in hubs:
                await conn.execute(
                    "INSERT INTO hubs (id, name, venue, timezone, active, updated_at) VALUES (?, ?, ?, ?, 1, ?)"
                    " ON CONFLICT (id) DO UPDATE SET name = excluded.name, venue = excluded.venue,"
                    " timezone = excluded.timezone, active = 1, updated_at = excluded.updated_at",
                    (hub.id, hub.name, hub.venue, hub.timezone, to_db(now)),
                )

    async def active_hubs(self) -> list[HubRow]:
        rows = await self.db.fetchall("SELECT id, name, venue, timezone FROM hubs WHERE active = 1 ORDER BY id")
        return [HubRow(row["id"], row["name"], row["venue"], row["timezone"]) for row in rows]

    async def member_by_user(self, telegram_user_id: int) -> Member | None:
        return await self.db.read(partial(member_by_user_in, telegram_user_id=telegram_user_id))

    async def member_by_id(self, member_id: int) -> Member | None:
        row = await self.db.fetchone(f"SELECT {_MEMBER_COLUMNS} FROM members WHERE id = ?", (member_id,))
        return _member(row) if row else None

    async def hub_ids_of_member(self, member_id: int) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT hub_id FROM memberships WHERE member_id = ? AND left_at IS NULL ORDER BY joined_at",
            (member_id,),
        )
        return [row["hub_id"] for row in rows]

    async def is_member_of(self, member_id: int, hub_id: str) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM memberships WHERE member_id = ? AND hub_id = ? AND left_at IS NULL",
            (member_id, hub_id),
        )
        return row is not None

    async def members_of_hub(self, hub_id: str) -> list[Member]:
        rows = await self.db.fetchall(
            f"SELECT {', '.join('m.' + c.strip() for c in _MEMBER_COLUMNS.split(','))} FROM members m"
            " JOIN memberships ms ON ms.member_id = m.id WHERE ms.hub_id = ? AND ms.left_at IS NULL"
            " ORDER BY m.id",
            (hub_id,),
        )
        return [_member(row) for row in rows]

    async def companions_of(self, member_id: int) -> list[Companion]:
        return await self.db.read(partial(companions_in, member_id=member_id))

    async def consents_of(self, member_id: int) -> list[Consent]:
        rows = await self.db.fetchall(
            "SELECT kind, text_version, given_at, withdrawn_at FROM consents WHERE member_id = ? ORDER BY id",
            (member_id,),
        )
        return [
            Consent(r["kind"], r["text_version"], from_db(r["given_at"]), from_db(r["withdrawn_at"]))  # type: ignore[arg-type]
            for r in rows
        ]

    async def has_consent(self, member_id: int, kind: str) -> bool:
        return await self.db.read(partial(consented_in, member_id=member_id, kind=kind))

    async def join_draft(self, telegram_user_id: int) -> JoinDraft | None:
        row = await self.db.fetchone(
            "SELECT telegram_user_id, hub_id, step, data FROM join_drafts WHERE telegram_user_id = ?",
            (telegram_user_id,),
        )
        if row is None:
            return None
        return JoinDraft(row["telegram_user_id"], row["hub_id"], row["step"], json.loads(row["data"]))

    async def save_join_draft(self, draft: JoinDraft, now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO join_drafts (telegram_user_id, hub_id, step, data, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (telegram_user_id) DO UPDATE SET hub_id = excluded.hub_id, step = excluded.step,"
            " data = excluded.data, updated_at = excluded.updated_at",
            (draft.telegram_user_id, draft.hub_id, draft.step, json.dumps(draft.data), to_db(now)),
        )

    async def discard_join_draft(self, telegram_user_id: int) -> None:
        await self.db.execute("DELETE FROM join_drafts WHERE telegram_user_id = ?", (telegram_user_id,))

    async def discard_join_drafts_before(self, cutoff: datetime) -> int:
        async with self.db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM join_drafts WHERE updated_at < ?", (to_db(cutoff),))
            return cursor.rowcount

    async def complete_join(
        self,
        *,
        telegram_user_id: int,
        chat_id: int,
        first_name: str,
        language: str,
        role: str,
        hub_id: str,
        consents: dict[str, str],
        companions: Sequence[NewCompanion],
        now: datetime,
        needs_approval: bool = False,
        also: Callable[[aiosqlite.Connection, int], Awaitable[None]] | None = None,
    ) -> Member:
        """Write the member, the membership, the consents given (kind -> text version) and companions at once.

        With `needs_approval` (a hub whose coordinator approves new members) the membership is a join request.
        """
        stamp = to_db(now)
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO members (telegram_user_id, chat_id, first_name, language, role, reachable, paused,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, 0, ?, ?)"
                " ON CONFLICT (telegram_user_id) DO UPDATE SET chat_id = excluded.chat_id,"
                " first_name = excluded.first_name, language = excluded.language, role = excluded.role,"
                " reachable = 1, updated_at = excluded.updated_at RETURNING id",
                (telegram_user_id, chat_id, first_name, language, role, stamp, stamp),
            )
            member_id = (await cursor.fetchone())[0]
            if needs_approval:
                await file_join_request(conn, member_id, hub_id, stamp)
            else:
                await _add_membership(conn, member_id, hub_id, stamp)
            for kind, version in consents.items():
                await _give_consent(conn, member_id, kind, version, stamp)
            for companion in companions:
                await conn.execute(
                    "INSERT INTO companions (member_id, name, age_band, relationship, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (member_id, companion.name, companion.age_band, companion.relationship, stamp),
                )
            if also is not None:  # more that belongs to the joining (a referral), in the same transaction
                await also(conn, member_id)
            await conn.execute("DELETE FROM join_drafts WHERE telegram_user_id = ?", (telegram_user_id,))
        member = await self.member_by_id(member_id)
        assert member is not None
        return member

    async def add_membership(self, member_id: int, hub_id: str, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await _add_membership(conn, member_id, hub_id, to_db(now))

    async def give_consent(self, member_id: int, kind: str, text_version: str, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await _give_consent(conn, member_id, kind, text_version, to_db(now))

    async def withdraw_consent(self, member_id: int, kind: str, now: datetime) -> bool:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE consents SET withdrawn_at = ? WHERE member_id = ? AND kind = ? AND withdrawn_at IS NULL",
                (to_db(now), member_id, kind),
            )
            return cursor.rowcount > 0

    async def set_language(self, telegram_user_id: int, language: str, now: datetime) -> bool:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE members SET language = ?, updated_at = ? WHERE telegram_user_id = ?",
                (language, to_db(now), telegram_user_id),
            )
            return cursor.rowcount > 0

    async def set_paused(self, member_id: int, paused: bool, now: datetime) -> None:
        await self.db.execute(
            "UPDATE members SET paused = ?, updated_at = ? WHERE id = ?", (int(paused), to_db(now), member_id)
        )

    async def mark_unreachable(self, chat_id: int, now: datetime) -> None:
        """Telegram said the person blocked the bot: stop sending until they write again."""
        _SeenReachable.forget_all(self)
        await self.db.execute(
            "UPDATE members SET reachable = 0, updated_at = ? WHERE chat_id = ? AND reachable = 1",
            (to_db(now), chat_id),
        )

    async def mark_reachable(self, telegram_user_id: int, now: datetime) -> bool:
        """Called for every update a person sends; a write only the first time in this process (or after a
        block), so that taps do not queue for the write lock behind each other."""
        seen = _SeenReachable.of(self)
        if telegram_user_id in seen.users:
            return False
        generation = seen.generation
        result = await self.db.write(
            "UPDATE members SET reachable = 1, updated_at = ? WHERE telegram_user_id = ? AND reachable = 0",
            (to_db(now), telegram_user_id),
        )
        if seen.generation == generation:  # no block noted meanwhile, so the flag is still 1
            seen.remember(telegram_user_id)
        return result.rowcount > 0

    async def follow_chat_migration(self, old_chat_id: int, new_chat_id: int) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE members SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id))
            await conn.execute(
                "UPDATE deliveries SET chat_id = ? WHERE chat_id = ? AND state IN ('pending', 'sending')",
                (new_chat_id, old_chat_id),
            )


class _SeenReachable:
    """Users whose reachable flag this process has already seen set; forgotten whenever anyone is blocked."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self.users: set[int] = set()
        self.generation = 0

    def remember(self, telegram_user_id: int) -> None:
        if len(self.users) >= self.LIMIT:
            self.users.clear()
        self.users.add(telegram_user_id)

    @staticmethod
    def of(store: Any) -> _SeenReachable:
        """The store's own (made on first use: the Store's constructor is shared by every mixin)."""
        seen = getattr(store, "_seen_reachable", None)
        if seen is None:
            seen = store._seen_reachable = _SeenReachable()
        return seen

    @classmethod
    def forget_all(cls, store: Any) -> None:
        seen = cls.of(store)
        seen.users.clear()
        seen.generation += 1


async def _add_membership(conn: aiosqlite.Connection, member_id: int, hub_id: str, stamp: str) -> None:
    await conn.execute(
        "INSERT INTO memberships (member_id, hub_id, joined_at) VALUES (?, ?, ?)"
        " ON CONFLICT (member_id, hub_id) DO UPDATE SET left_at = NULL",
        (member_id, hub_id, stamp),
    )


async def _give_consent(conn: aiosqlite.Connection, member_id: int, kind: str, version: str, stamp: str) -> None:
    """Record a consent unless the same one is already in force."""
    existing = await conn.execute_fetchall(
        "SELECT 1 FROM consents WHERE member_id = ? AND kind = ? AND text_version = ? AND withdrawn_at IS NULL",
        (member_id, kind, version),
    )
    if existing:
        return
    await conn.execute(
        "UPDATE consents SET withdrawn_at = ? WHERE member_id = ? AND kind = ? AND withdrawn_at IS NULL",
        (stamp, member_id, kind),
    )
    await conn.execute(
        "INSERT INTO consents (member_id, kind, text_version, given_at) VALUES (?, ?, ?, ?)",
        (member_id, kind, version, stamp),
    )


class InputQueries:
    """Mixed into Store: what a person's next free-text message is an answer to."""

    db: Database

    async def expect_input(self, telegram_user_id: int, kind: str, data: dict[str, Any], now: datetime) -> None:
        await self.db.execute(
            "INSERT INTO awaiting_input (telegram_user_id, kind, data, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (telegram_user_id) DO UPDATE SET kind = excluded.kind, data = excluded.data,"
            " updated_at = excluded.updated_at",
            (telegram_user_id, kind, json.dumps(data, ensure_ascii=False), to_db(now)),
        )

    async def awaited_input(self, telegram_user_id: int,
                            asked_since: datetime | None = None) -> tuple[str, dict[str, Any]] | None:
        """What the person's next text answers; with `asked_since`, only a question asked at or after it."""
        row = await self.db.fetchone(
            "SELECT kind, data, updated_at FROM awaiting_input WHERE telegram_user_id = ?", (telegram_user_id,)
        )
        if row is None or (asked_since is not None and row["updated_at"] < to_db(asked_since)):
            return None
        return row["kind"], json.loads(row["data"])

    async def clear_input(self, telegram_user_id: int) -> None:
        await self.db.execute("DELETE FROM awaiting_input WHERE telegram_user_id = ?", (telegram_user_id,))
