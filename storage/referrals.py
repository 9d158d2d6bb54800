"""Queries for referrals: organisations' links, who joined through them, the one notice, and report counts."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.domain.ledger import NewDelivery
from storage.db import Database, from_db, to_db
from storage.delivery import insert_deliveries

CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 12


def new_code() -> str:
    """A random code for a link: 12 of A-Z a-z 0-9 (about 71 bits), unguessable and deep-link safe."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True, slots=True)
class ReferralLink:
    id: int
    code: str
    referrer_code: str
    hub_id: str
    organisation: str
    referrer_chat_id: int | None
    referrer_language: str | None


@dataclass(frozen=True, slots=True)
class ReferralNotice:
    """What the one notice to a referrer may say: the person's first name, the hub, the day they first came."""

    member_id: int
    first_name: str
    hub_id: str
    organisation: str
    first_came: datetime | None
    consent: bool
    referrer_chat_id: int | None
    referrer_language: str | None


@dataclass(frozen=True, slots=True)
class ReferralConsent:
    """A member's answer about telling the referrer, as /consent shows it."""

    organisation: str
    hub_id: str
    consent: bool
    answered_at: datetime
    told_at: datetime | None  # when the one notice was owed (then nothing can change it)


@dataclass(frozen=True, slots=True)
class OrganisationTally:
    organisation: str
    referred: int
    came_once: int
    came_three: int


_LINK_COLUMNS = "id, code, referrer_code, hub_id, organisation, referrer_chat_id, referrer_language"


def _link(row: aiosqlite.Row) -> ReferralLink:
    return ReferralLink(row["id"], row["code"], row["referrer_code"], row["hub_id"], row["organisation"],
                        row["referrer_chat_id"], row["referrer_language"])


# Sessions of the member's referral hub where a saved register ticks them present (the referral counts and the
# notice both come from the register).
_REGISTERED = """
SELECT a.member_id, s.starts_at FROM attendance a
JOIN registers g ON g.session_id = a.session_id AND g.saved_at IS NOT NULL
JOIN sessions s ON s.id = a.session_id AND s.cancelled_at IS NULL
JOIN member_referrals mr ON mr.member_id = a.member_id AND mr.hub_id = s.hub_id
WHERE a.present = 1 AND a.companion_id IS NULL
"""


class ReferralQueries:
    """Mixed into Store."""

    db: Database

    async def create_referral_link(self, hub_id: str, organisation: str, coordinator_id: int,
                                   now: datetime) -> ReferralLink:
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO referral_links (code, referrer_code, hub_id, organisation, created_by, created_at)"
                f" VALUES (?, ?, ?, ?, ?, ?) RETURNING {_LINK_COLUMNS}",
                (new_code(), new_code(), hub_id, organisation, coordinator_id, to_db(now)),
            )
            row = await cursor.fetchone()
        assert row is not None
        return _link(row)

    async def referral_link(self, code: str) -> ReferralLink | None:
        row = await self.db.fetchone(f"SELECT {_LINK_COLUMNS} FROM referral_links WHERE code = ?", (code,))
        return _link(row) if row else None

    async def referral_link_by_id(self, link_id: int) -> ReferralLink | None:
        row = await self.db.fetchone(f"SELECT {_LINK_COLUMNS} FROM referral_links WHERE id = ?", (link_id,))
        return _link(row) if row else None

    async def register_referrer(self, referrer_code: str, chat_id: int, language: str,
                                now: datetime) -> ReferralLink | None:
        """The referrer opened their own link: this chat receives the notices of this link from now on."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE referral_links SET referrer_chat_id = ?, referrer_language = ?, referrer_since = ?"
                f" WHERE referrer_code = ? RETURNING {_LINK_COLUMNS}",
                (chat_id, language, to_db(now), referrer_code),
            )
            row = await cursor.fetchone()
        return _link(row) if row else None

    async def referral_of(self, member_id: int) -> ReferralNotice | None:
        """A member's referral as the notice would describe it (first_came: when they first came, if they did)."""
        row = await self.db.fetchone(
            "SELECT mr.member_id, m.first_name, mr.hub_id, rl.organisation, mr.notify_consent,"
            " rl.referrer_chat_id, rl.referrer_language,"
            f" (SELECT MIN(x.starts_at) FROM ({_REGISTERED}) x WHERE x.member_id = mr.member_id) AS first_came"
            " FROM member_referrals mr JOIN members m ON m.id = mr.member_id"
            " JOIN referral_links rl ON rl.id = mr.link_id WHERE mr.member_id = ?",
            (member_id,),
        )
        if row is None:
            return None
        return ReferralNotice(row["member_id"], row["first_name"], row["hub_id"], row["organisation"],
                              from_db(row["first_came"]), bool(row["notify_consent"]),
                              row["referrer_chat_id"], row["referrer_language"])

    async def referral_consent(self, member_id: int) -> ReferralConsent | None:
        row = await self.db.fetchone(
            "SELECT rl.organisation, mr.hub_id, mr.notify_consent, mr.consent_at, mr.notice_planned_at"
            " FROM member_referrals mr JOIN referral_links rl ON rl.id = mr.link_id WHERE mr.member_id = ?",
            (member_id,),
        )
        if row is None:
            return None
        return ReferralConsent(row["organisation"], row["hub_id"], bool(row["notify_consent"]),
                               from_db(row["consent_at"] or row["notice_planned_at"]) or datetime.min,
                               from_db(row["notice_planned_at"]))

    async def set_referral_consent(self, member_id: int, consent: bool, version: str, now: datetime) -> bool:
        """Change the answer about telling the referrer, while the notice is not yet owed; False otherwise."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE member_referrals SET notify_consent = ?, consent_version = ?, consent_at = ?"
                " WHERE member_id = ? AND notice_planned_at IS NULL AND notify_consent != ?",
                (int(consent), version, to_db(now), member_id, int(consent)),
            )
            return cursor.rowcount > 0

    async def plan_referral_notices(self, kind: str, now: datetime, lifetime: timedelta) -> int:
        """Put the one notice into the ledger for every consenting referred member who has come (the register
        says so) and whose referrer registered a chat; marked in the same transaction, so never twice."""
        # A read first: on almost every tick nothing is owed, and the writer's lock is not taken for nothing.
        rows = await self.db.fetchall(
            "SELECT mr.member_id, mr.hub_id, rl.referrer_chat_id FROM member_referrals mr"
            " JOIN referral_links rl ON rl.id = mr.link_id"
            " WHERE mr.notify_consent = 1 AND mr.notice_planned_at IS NULL AND rl.referrer_chat_id IS NOT NULL"
            f" AND EXISTS (SELECT 1 FROM ({_REGISTERED}) x WHERE x.member_id = mr.member_id)",
        )
        added = 0
        for member_id, hub_id, chat_id in rows:
            async with self.db.transaction() as conn:
                # Marked and owed in one transaction; the mark is checked again, so it is owed at most once.
                marked = await conn.execute(
                    "UPDATE member_referrals SET notice_planned_at = ? WHERE member_id = ? AND notify_consent = 1"
                    " AND notice_planned_at IS NULL", (to_db(now), member_id))
                if marked.rowcount:
                    added += await insert_deliveries(conn, [NewDelivery(
                        kind=kind, dedupe_key=f"{kind}:{member_id}", chat_id=chat_id, due_at=now, hub_id=hub_id,
                        expires_at=now + lifetime, payload={"member_id": member_id})], now)
        return added

    async def referral_tallies(self, hub_id: str, start: datetime, end: datetime) -> list[OrganisationTally]:
        """Per organisation: members referred to the hub before `end`, and how many of them a saved register of
        [start, end) shows at one session or more, and at three or more."""
        rows = await self.db.fetchall(
            "WITH came AS (SELECT x.member_id, COUNT(*) AS times FROM"
            f" ({_REGISTERED}) x WHERE x.starts_at >= ? AND x.starts_at < ? GROUP BY x.member_id)"
            " SELECT rl.organisation, COUNT(*) AS referred,"
            " SUM(COALESCE(c.times, 0) >= 1) AS once, SUM(COALESCE(c.times, 0) >= 3) AS three"
            " FROM member_referrals mr JOIN referral_links rl ON rl.id = mr.link_id"
            " LEFT JOIN came c ON c.member_id = mr.member_id"
            " WHERE mr.hub_id = ? AND mr.referred_at < ?"
            " GROUP BY rl.organisation ORDER BY rl.organisation COLLATE NOCASE",
            (to_db(start), to_db(end), hub_id, to_db(end)),
        )
        return [OrganisationTally(row["organisation"], row["referred"], row["once"], row["three"]) for row in rows]


async def record_referral(conn: aiosqlite.Connection, member_id: int, link_id: int, hub_id: str, consent: bool,
                          consent_version: str, now: datetime) -> None:
    """Inside the join's transaction: the member came through this link; their answer about telling the referrer."""
    stamp = to_db(now)
    await conn.execute(
        "INSERT INTO member_referrals (member_id, link_id, hub_id, referred_at, notify_consent, consent_version,"
        " consent_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (member_id) DO NOTHING",
        (member_id, link_id, hub_id, stamp, int(consent), consent_version, stamp),
    )
    await conn.execute("UPDATE referral_links SET last_used_at = ? WHERE id = ?", (stamp, link_id))


async def prune_referrals(conn: aiosqlite.Connection, before: datetime) -> int:
    """Retention: a referrer's chat is forgotten once their link has had no new referral (nor been made or
    opened) since `before`; the organisation's counts stay."""
    cursor = await conn.execute(
        "UPDATE referral_links SET referrer_chat_id = NULL, referrer_language = NULL, referrer_since = NULL"
        " WHERE referrer_chat_id IS NOT NULL"
        " AND MAX(created_at, COALESCE(referrer_since, ''), COALESCE(last_used_at, '')) < ?",
        (to_db(before),),
    )
    return cursor.rowcount
