"""One invitation (a member and a session, with their answer) read on SQLite's thread: for reminders, and inside
an answer's transaction (storage/rsvps.py). Its own module, so that storage.rsvps and storage.reminders can both
use it without importing each other."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.domain.people import Companion
from bot.domain.sessions import Invitation
from storage.members import Member, companions_in, member_by_user_in
from storage.sessions import SESSION_COLUMNS, session_from_row

_SESSION_AS = ", ".join(f"s.{column.strip()}" for column in SESSION_COLUMNS.split(","))


def invitation_in(conn: sqlite3.Connection, *, session_id: int, member_id: int) -> Invitation | None:
    """RemindersQueries.invitation on SQLite's thread (also inside an answer's transaction: storage/rsvps.py)."""
    row = conn.execute(
        f"SELECT m.id AS m_id, m.telegram_user_id, m.chat_id, m.first_name, m.language, m.role, m.reachable,"
        f" m.paused, {_SESSION_AS},"
        f" EXISTS (SELECT 1 FROM memberships ms WHERE ms.member_id = m.id AND ms.hub_id = s.hub_id"
        f"  AND ms.left_at IS NULL) AS in_hub,"
        f" EXISTS (SELECT 1 FROM consents c WHERE c.member_id = m.id AND c.kind = 'contact'"
        f"  AND c.withdrawn_at IS NULL) AS contact,"
        f" r.answer, r.all_companions, r.waitlisted_at,"
        f" (SELECT COUNT(*) FROM rsvps w WHERE w.session_id = s.id AND w.answer = 'yes'"
        f"  AND w.waitlisted_at IS NOT NULL AND r.waitlisted_at IS NOT NULL"
        f"  AND (w.waitlisted_at < r.waitlisted_at OR (w.waitlisted_at = r.waitlisted_at"
        f"  AND w.member_id <= r.member_id))) AS position"
        f" FROM members m JOIN sessions s ON s.id = ?"
        f" LEFT JOIN rsvps r ON r.session_id = s.id AND r.member_id = m.id WHERE m.id = ?",
        (session_id, member_id),
    ).fetchone()
    if row is None:
        return None
    member = Member(row["m_id"], row["telegram_user_id"], row["chat_id"], row["first_name"], row["language"],
                    row["role"], bool(row["reachable"]), bool(row["paused"]))
    chosen: tuple[int, ...] = ()
    all_companions = row["all_companions"] is None or bool(row["all_companions"])
    if not all_companions:
        rows = conn.execute(
            "SELECT companion_id FROM rsvp_companions WHERE session_id = ? AND member_id = ? ORDER BY companion_id",
            (session_id, member_id),
        ).fetchall()
        chosen = tuple(r["companion_id"] for r in rows)
    return Invitation(
        member=member,
        session=session_from_row(row),
        in_hub=bool(row["in_hub"]),
        contact_consent=bool(row["contact"]),
        answer=row["answer"],
        all_companions=all_companions,
        companion_ids=chosen,
        waitlist_position=row["position"] or None,
    )


@dataclass(frozen=True, slots=True)
class Tapped:
    """Who tapped a session's button, their invitation to it and their companions: a tap's reads in one trip."""

    member: Member | None
    invitation: Invitation | None
    companions: list[Companion]


def tapped_in(conn: sqlite3.Connection, *, telegram_user_id: int, session_id: int | None) -> Tapped:
    """The member behind a Telegram user; with a session, their invitation to it and, when there is one, their
    companions (what the card and the party limit need). Each statement sees what is committed when it runs."""
    member = member_by_user_in(conn, telegram_user_id=telegram_user_id)
    if member is None or session_id is None:
        return Tapped(member, None, [])
    invitation = invitation_in(conn, session_id=session_id, member_id=member.id)
    if invitation is None or not invitation.in_hub:  # refused by the handler: their companions are not needed
        return Tapped(member, invitation, [])
    return Tapped(member, invitation, companions_in(conn, member_id=member.id))
