"""Queries about RSVPs: who said yes, no or maybe to a session, which companions come, and the waiting list."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import aiosqlite

from bot.domain.sessions import Invitation
from storage.db import Database, from_db, to_db
from storage.delivery import NewDelivery, insert_deliveries_in
from storage.invitations import invitation_in


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


def _rsvp(row: sqlite3.Row, companions: Sequence[int]) -> Rsvp:
    return Rsvp(
        session_id=row["session_id"],
        member_id=row["member_id"],
        answer=row["answer"],
        all_companions=bool(row["all_companions"]),
        companion_ids=tuple(companions),
        waitlisted_at=from_db(row["waitlisted_at"]),
        updated_at=from_db(row["updated_at"]),  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------- capacity and the waiting list

KEEP = object()
"""companion_ids=KEEP: keep whoever the member said was coming (an answer tap does not change it)."""

CHILD_BANDS = frozenset({"under_5", "age_5_11", "age_12_15", "age_16_17"})
"""Companion age bands counted as children (under 18) in coordinators' counts."""


@dataclass(frozen=True, slots=True)
class PlaceNotice:
    """How to tell someone moved up from the waiting list: a ledger row of `kind`, due at once."""

    kind: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class RsvpChange:
    rsvp: Rsvp | None  # the member's answer now; unchanged (maybe None) when the outcome is no_room
    outcome: str  # answered | place (yes, with a place) | waitlisted | no_room (change refused, nothing changed)
    waitlist_position: int | None = None
    places_left: int | None = None  # when the hub has a capacity
    promoted: tuple[int, ...] = ()  # other members moved up from the waiting list, told through the ledger
    invitation: Invitation | None = None  # the member's invitation as committed (for the card), same transaction


@dataclass(frozen=True, slots=True)
class Party:
    """One Yes answer as capacity sees it."""

    member_id: int
    people: int
    waitlisted_at: str | None  # stored text: sorts in arrival order


@dataclass(frozen=True, slots=True)
class AnswerTally:
    members: int = 0
    people: int = 0
    adults: int = 0
    children: int = 0


@dataclass(frozen=True, slots=True)
class WaitingParty:
    member_id: int
    first_name: str
    people: int


@dataclass(frozen=True, slots=True)
class Headcount:
    """Households (one member's answer: the member and whoever they bring) and the people in them."""

    households: int
    people: int


@dataclass(frozen=True, slots=True)
class SessionTally:
    yes: AnswerTally  # those holding a place (everyone who said Yes when there is no capacity)
    maybe: AnswerTally
    no: AnswerTally
    waiting: tuple[WaitingParty, ...]  # in order

    @property
    def waiting_people(self) -> int:
        return sum(party.people for party in self.waiting)

    def told_if_cancelled(self) -> Headcount:
        """Who a cancellation tells: every household that said Yes (waiting list included) or Maybe.

        The one count both /cancel's question and its answer show, and the notices cancel_session_telling owes.
        """
        return Headcount(self.yes.members + self.maybe.members + len(self.waiting),
                         self.yes.people + self.maybe.people + self.waiting_people)


def promotions(parties: Sequence[Party], capacity: int | None) -> list[int]:
    """Who moves up from the waiting list, strictly in order: the first must fit before anyone behind.

    With no capacity (it was removed) everyone waiting gets a place.
    """
    holding = sum(p.people for p in parties if p.waitlisted_at is None)
    waiting = sorted((p for p in parties if p.waitlisted_at is not None), key=lambda p: (p.waitlisted_at, p.member_id))
    moved = []
    for party in waiting:
        if capacity is not None and holding + party.people > capacity:
            break
        holding += party.people
        moved.append(party.member_id)
    return moved


_PARTIES = (
    "SELECT r.member_id, r.waitlisted_at, 1 + CASE WHEN r.all_companions = 1"
    " THEN (SELECT COUNT(*) FROM companions c WHERE c.member_id = r.member_id AND c.removed_at IS NULL)"
    " ELSE (SELECT COUNT(*) FROM rsvp_companions rc JOIN companions c ON c.id = rc.companion_id"
    "       WHERE rc.session_id = r.session_id AND rc.member_id = r.member_id AND c.removed_at IS NULL) END AS people"
    " FROM rsvps r WHERE r.session_id = ? AND r.answer = 'yes'"
)


# The capacity and waiting-list work runs on SQLite's thread in one trip (Database.in_transaction): these take
# the plain sqlite3 connection.
def _parties(conn: sqlite3.Connection, session_id: int, *, waiting_only: bool = False) -> list[Party]:
    rows = conn.execute(_PARTIES + (" AND r.waitlisted_at IS NOT NULL" if waiting_only else ""),
                        (session_id,)).fetchall()
    return [Party(row["member_id"], row["people"], row["waitlisted_at"]) for row in rows]


def _chosen_companions(
    conn: sqlite3.Connection, session_id: int, member_id: int, companion_ids: Sequence[int] | object | None
) -> tuple[bool, list[int]]:
    """(all of us?, chosen companion ids) after this answer; unknown or removed ids are dropped."""
    active = [row["id"] for row in conn.execute(
        "SELECT id FROM companions WHERE member_id = ? AND removed_at IS NULL ORDER BY id", (member_id,)
    )]
    if companion_ids is KEEP:
        row = conn.execute(
            "SELECT all_companions FROM rsvps WHERE session_id = ? AND member_id = ?", (session_id, member_id)
        ).fetchone()
        if row is None or row["all_companions"]:
            return True, active
        chosen = {r["companion_id"] for r in conn.execute(
            "SELECT companion_id FROM rsvp_companions WHERE session_id = ? AND member_id = ?", (session_id, member_id)
        )}
        return False, [cid for cid in active if cid in chosen]
    if companion_ids is None:
        return True, active
    wanted = set(companion_ids)  # type: ignore[arg-type]
    return False, [cid for cid in active if cid in wanted]


def _after(stamp: str | None, now: datetime) -> str:
    """A waiting-list stamp later than every other in the session, so arrival order holds on a still clock."""
    candidate = now
    if stamp is not None:
        last = from_db(stamp)
        assert last is not None
        candidate = max(now, last + timedelta(microseconds=1))
    return to_db(candidate)


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

    async def answer_rsvp(
        self,
        session_id: int,
        member_id: int,
        answer: str,
        now: datetime,
        *,
        capacity: int | None,
        companion_ids: Sequence[int] | object | None = KEEP,
        place_notice: PlaceNotice | None = None,
    ) -> RsvpChange:
        """Record an answer within the hub's capacity, in one transaction (taps arrive concurrently).

        Capacity counts people (member plus companions coming) who said Yes. A Yes that does not fit, or that
        comes while others wait, joins the waiting list; someone holding a place who asks for more places than
        are free keeps what they had (no_room). When places free up, those waiting move up in order and each
        gets a `place_notice` row in the ledger in the same transaction, so nobody is forgotten by a crash.
        """
        if answer not in ("yes", "no", "maybe"):
            raise ValueError(answer)
        # One trip to SQLite's thread for the whole transaction, committed before this returns (so before the
        # person is thanked): see Database.in_transaction.
        return await self.db.in_transaction(partial(
            _answer, session_id=session_id, member_id=member_id, answer=answer, now=now, capacity=capacity,
            companion_ids=companion_ids, place_notice=place_notice))

    async def settle_waitlist(
        self, session_id: int, capacity: int | None, now: datetime, place_notice: PlaceNotice | None
    ) -> tuple[int, ...]:
        """Move people up if places are free (the capacity was raised or removed); returns who moved."""
        def settle(conn: sqlite3.Connection) -> tuple[int, ...]:
            moved = promotions(_parties(conn, session_id), capacity)
            if moved:
                marks = ", ".join("?" for _ in moved)
                conn.execute(
                    f"UPDATE rsvps SET waitlisted_at = NULL WHERE session_id = ? AND member_id IN ({marks})",
                    (session_id, *moved),
                )
                if place_notice is not None:
                    _queue_place_notices(conn, session_id, moved, place_notice, now)
            return tuple(moved)

        return await self.db.in_transaction(settle)

    async def sessions_with_waitlist(self, now: datetime) -> list[tuple[int, str]]:
        """(session id, hub id) of open sessions that have someone waiting."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT s.id, s.hub_id FROM sessions s JOIN rsvps r ON r.session_id = s.id"
            " WHERE r.waitlisted_at IS NOT NULL AND s.cancelled_at IS NULL AND s.starts_at > ? ORDER BY s.id",
            (to_db(now),),
        )
        return [(row["id"], row["hub_id"]) for row in rows]

    async def waitlist_position(self, session_id: int, member_id: int) -> int | None:
        return await self.db.read(partial(_position, session_id=session_id, member_id=member_id))

    async def session_tallies(self, session_ids: Sequence[int]) -> dict[int, SessionTally]:
        """Yes / Maybe / No counts (members, people, adults, children) and the waiting list, per session."""
        return await session_tallies_in(self.db.reader, session_ids)

def _answer(conn: sqlite3.Connection, *, session_id: int, member_id: int, answer: str, now: datetime,
            capacity: int | None, companion_ids: Sequence[int] | object | None,
            place_notice: PlaceNotice | None) -> RsvpChange:
    """RsvpQueries.answer_rsvp's transaction, on SQLite's thread."""
    # With no capacity only the waiting list matters (everyone on it moves up): reading every Yes of
    # the session on every tap would cost time in proportion to the hub's size.
    every = _parties(conn, session_id, waiting_only=capacity is None)
    mine = next((p for p in every if p.member_id == member_id), None)
    others = [p for p in every if p.member_id != member_id]
    all_of_us, chosen = _chosen_companions(conn, session_id, member_id, companion_ids)
    people = 1 + len(chosen)
    waitlisted_at: str | None = None
    if answer == "yes" and capacity is not None:
        holding = sum(p.people for p in others if p.waitlisted_at is None)
        someone_waits = any(p.waitlisted_at is not None for p in others)
        if mine is not None and mine.waitlisted_at is None:
            if holding + people > capacity:
                return RsvpChange(_rsvp_in(conn, session_id, member_id), "no_room",
                                  places_left=max(0, capacity - holding - mine.people),
                                  invitation=invitation_in(conn, session_id=session_id, member_id=member_id))
        elif mine is not None and mine.waitlisted_at is not None:
            waitlisted_at = mine.waitlisted_at  # keeps its place in the queue
        elif someone_waits or holding + people > capacity:
            last = max((p.waitlisted_at for p in others if p.waitlisted_at), default=None)
            waitlisted_at = _after(last, now)
    _write_rsvp(conn, session_id, member_id, answer, all_of_us, chosen, waitlisted_at, now)
    parties = _parties(conn, session_id, waiting_only=capacity is None)
    moved = promotions(parties, capacity)
    if moved:
        marks = ", ".join("?" for _ in moved)
        conn.execute(
            f"UPDATE rsvps SET waitlisted_at = NULL WHERE session_id = ? AND member_id IN ({marks})",
            (session_id, *moved),
        )
    told = tuple(m for m in moved if m != member_id)
    if told and place_notice is not None:
        _queue_place_notices(conn, session_id, told, place_notice, now)
    rsvp = _rsvp_in(conn, session_id, member_id)
    position = _position(conn, session_id=session_id, member_id=member_id)
    holding = sum(p.people for p in parties if p.waitlisted_at is None or p.member_id in moved)
    outcome = "answered"
    if answer == "yes" and capacity is not None:
        outcome = "waitlisted" if position is not None else "place"
    places_left = None if capacity is None else max(0, capacity - holding)
    return RsvpChange(rsvp, outcome, position, places_left, told,
                      invitation_in(conn, session_id=session_id, member_id=member_id))


def _rsvp_in(conn: sqlite3.Connection, session_id: int, member_id: int) -> Rsvp | None:
    row = conn.execute(
        "SELECT * FROM rsvps WHERE session_id = ? AND member_id = ?", (session_id, member_id)
    ).fetchone()
    if row is None:
        return None
    chosen = conn.execute(
        "SELECT companion_id FROM rsvp_companions WHERE session_id = ? AND member_id = ? ORDER BY companion_id",
        (session_id, member_id),
    ).fetchall()
    return _rsvp(row, [r["companion_id"] for r in chosen])


def _write_rsvp(
    conn: sqlite3.Connection, session_id: int, member_id: int, answer: str, all_of_us: bool,
    chosen: Sequence[int], waitlisted_at: str | None, now: datetime,
) -> None:
    conn.execute(
        "INSERT INTO rsvps (session_id, member_id, answer, all_companions, waitlisted_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, member_id) DO UPDATE SET"
        " answer = excluded.answer, all_companions = excluded.all_companions,"
        " waitlisted_at = excluded.waitlisted_at, updated_at = excluded.updated_at",
        (session_id, member_id, answer, int(all_of_us), waitlisted_at, to_db(now)),
    )
    conn.execute("DELETE FROM rsvp_companions WHERE session_id = ? AND member_id = ?", (session_id, member_id))
    if not all_of_us:
        conn.executemany(
            "INSERT INTO rsvp_companions (session_id, member_id, companion_id) VALUES (?, ?, ?)",
            [(session_id, member_id, cid) for cid in chosen],
        )


def _position(conn: sqlite3.Connection, *, session_id: int, member_id: int) -> int | None:
    """1 for the first waiting, ...; None when not waiting."""
    rows = conn.execute(
        "SELECT member_id FROM rsvps WHERE session_id = ? AND answer = 'yes' AND waitlisted_at IS NOT NULL"
        " ORDER BY waitlisted_at, member_id",
        (session_id,),
    ).fetchall()
    for index, row in enumerate(rows, start=1):
        if row["member_id"] == member_id:
            return index
    return None


def _queue_place_notices(
    conn: sqlite3.Connection, session_id: int, member_ids: Sequence[int], notice: PlaceNotice, now: datetime
) -> None:
    marks = ", ".join("?" for _ in member_ids)
    rows = conn.execute(
        f"SELECT m.id, m.chat_id, s.hub_id FROM members m JOIN sessions s ON s.id = ? WHERE m.id IN ({marks})",
        (session_id, *member_ids),
    ).fetchall()
    stamp = to_db(now)
    insert_deliveries_in(conn, [
        NewDelivery(kind=notice.kind, dedupe_key=f"{notice.kind}:{session_id}:{row['id']}:{stamp}",
                    chat_id=row["chat_id"], due_at=now, member_id=row["id"], hub_id=row["hub_id"],
                    session_id=session_id, expires_at=notice.expires_at)
        for row in rows
    ], now)


async def session_tallies_in(conn: aiosqlite.Connection, session_ids: Sequence[int]) -> dict[int, SessionTally]:
    """session_tallies on a given connection (inside a writer's transaction, it sees that transaction)."""
    if not session_ids:
        return {}
    marks = ", ".join("?" for _ in session_ids)
    answers = list(await conn.execute_fetchall(
        f"SELECT r.session_id, r.member_id, r.answer, r.waitlisted_at, m.first_name FROM rsvps r"
        f" JOIN members m ON m.id = r.member_id WHERE r.session_id IN ({marks})"
        f" ORDER BY r.waitlisted_at, r.member_id",
        tuple(session_ids),
    ))
    coming = await conn.execute_fetchall(
        f"SELECT r.session_id, r.member_id, c.age_band FROM rsvps r"
        f" JOIN companions c ON c.member_id = r.member_id AND c.removed_at IS NULL"
        f" WHERE r.session_id IN ({marks}) AND (r.all_companions = 1 OR EXISTS (SELECT 1 FROM rsvp_companions rc"
        f"  WHERE rc.session_id = r.session_id AND rc.member_id = r.member_id AND rc.companion_id = c.id))",
        tuple(session_ids),
    )
    bands: dict[tuple[int, int], list[str]] = {}
    for row in coming:
        bands.setdefault((row["session_id"], row["member_id"]), []).append(row["age_band"])
    return {sid: _tally([a for a in answers if a["session_id"] == sid], bands) for sid in session_ids}


def _tally(answers: Sequence[aiosqlite.Row], bands: dict[tuple[int, int], list[str]]) -> SessionTally:
    counts: dict[str, list[int]] = {"yes": [0, 0, 0, 0], "maybe": [0, 0, 0, 0], "no": [0, 0, 0, 0]}
    waiting = []
    for row in answers:
        party = bands.get((row["session_id"], row["member_id"]), [])
        children = sum(1 for band in party if band in CHILD_BANDS)
        people = 1 + len(party)
        if row["answer"] == "yes" and row["waitlisted_at"] is not None:
            waiting.append(WaitingParty(row["member_id"], row["first_name"], people))
            continue
        counts[row["answer"]] = [a + b for a, b in zip(counts[row["answer"]], (1, people, people - children, children),
                                                       strict=True)]
    return SessionTally(AnswerTally(*counts["yes"]), AnswerTally(*counts["maybe"]), AnswerTally(*counts["no"]),
                        tuple(waiting))
