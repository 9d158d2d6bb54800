"""How every table relates to a person: the map that data rights (export, erasure, retention) work from.

Tables and columns are discovered from the live schema at run time; this map only says what each
column *means* for a person. A table the map does not classify makes export and erasure refuse to run
(and tests/test_rights.py fail), so every new table has to be thought about once, here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import aiosqlite

ForgetAction = Literal["delete", "detach", "keep"]


@dataclass(frozen=True, slots=True)
class PersonLink:
    """What a table's columns say about people.

    member / user / chat / companion: columns holding the person's members.id, Telegram user id, private
        chat id, or one of their companions' ids. A row matching any of them is *about* the person.
    via: (column, parent table, parent column): the row belongs to whoever the parent row belongs to.
    staff: Telegram ids of staff who acted on the row (not its subject): never exported to the subject,
        set to NULL when that staff member asks to be forgotten.
    names: the row's own subject's name (goes with the row).
    refers: (text column, JSON key, kind) where a JSON document in the row names a person by id (kind is
        "member", "user" or "companion"): a row whose document names the person is theirs as much as a row
        whose column does. Erasure follows these links, never words.
    text: free text or JSON written by someone (a coordinator's announcement, a walk-in's name, a join's
        answers). It goes with its row; in a row that is about the person and kept (detached), it is cleaned
        of their names. It is never searched for words in other people's rows: a first name such as "Sam" or
        a companion called "the" would rewrite everyone else's data.
    forget: what erasure does to the person's rows: delete them, detach them (person columns set to
        NULL, kept for counts that identify nobody), or keep them (they identify nobody by themselves).
    answers_dated_by: for individual wellbeing answers, the columns dating them; retention detaches
        answers older than the period, and withdrawing wellbeing consent can delete them.
    retained_by: for personal rows that are not wellbeing answers (a co-design answer, an idea), the column dating
        them; retention detaches rows older than the answers' period and removes their free text (`text`).
    not_personal: columns checked and found to hold nothing about a person (e.g. a hub's name).
    """

    member: tuple[str, ...] = ()
    user: tuple[str, ...] = ()
    chat: tuple[str, ...] = ()
    companion: tuple[str, ...] = ()
    via: tuple[str, str, str] | None = None
    refers: tuple[tuple[str, str, str], ...] = ()
    staff: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    forget: ForgetAction = "keep"
    answers_dated_by: tuple[str, ...] = ()
    retained_by: tuple[str, ...] = ()
    not_personal: tuple[str, ...] = ()

    @property
    def person_columns(self) -> tuple[str, ...]:
        return self.member + self.user + self.chat + self.companion

    @property
    def about_people(self) -> bool:
        return bool(self.person_columns or self.via)

    def classified(self) -> set[str]:
        via = (self.via[0],) if self.via else ()
        return set(self.person_columns + via + self.staff + self.names + self.text + self.not_personal)


REFERENCE = PersonLink()
"""A table that holds nothing about any person."""

PERSON_MAP: dict[str, PersonLink] = {
    # 001 members
    "hubs": PersonLink(not_personal=("name", "venue")),
    "members": PersonLink(member=("id",), user=("telegram_user_id",), chat=("chat_id",), names=("first_name",),
                          forget="delete"),
    "companions": PersonLink(member=("member_id",), names=("name",), forget="delete"),
    "memberships": PersonLink(member=("member_id",), forget="delete"),
    "consents": PersonLink(member=("member_id",), not_personal=("text_version",), forget="delete"),
    "join_drafts": PersonLink(user=("telegram_user_id",), text=("data",), forget="delete"),
    "awaiting_input": PersonLink(user=("telegram_user_id",), text=("data",), forget="delete"),
    # 002 sessions and the delivery ledger
    "sessions": PersonLink(text=("title", "cancel_reason")),
    "rsvps": PersonLink(member=("member_id",), not_personal=("all_companions",), forget="delete"),
    "rsvp_companions": PersonLink(member=("member_id",), companion=("companion_id",), forget="delete"),
    "reminder_batches": REFERENCE,
    "deliveries": PersonLink(member=("member_id",), chat=("chat_id",), text=("payload", "last_error"),
                             refers=(("payload", "member_id", "member"), ("payload", "user_id", "user"),
                                     ("payload", "companion_id", "companion")),
                             not_personal=("telegram_message_id",), forget="delete"),
    # 003 wellbeing: answers stay for counts, detached from the person
    "checkins": PersonLink(member=("member_id",), forget="detach",
                           answers_dated_by=("first_answered_at", "updated_at")),
    "measure_runs": PersonLink(member=("member_id",), forget="detach",
                               answers_dated_by=("started_at", "paused_at", "completed_at")),
    "measure_answers": PersonLink(via=("run_id", "measure_runs", "id")),
    "alerts": PersonLink(member=("member_id",), staff=("acknowledged_by",), forget="detach"),
    # 004 reminders and RSVPs
    "announcements": PersonLink(staff=("created_by",), text=("text",)),
    # 005 who answers a carer's questions
    "answer_modes": PersonLink(member=("member_id",), forget="delete"),
    # 006 registers: a member's attendance goes with them (the CHECK forbids a row with neither member
    # nor walk-in name); a walk-in's name is free text that may be theirs
    "registers": PersonLink(staff=("opened_by", "saved_by")),
    "attendance": PersonLink(member=("member_id",), companion=("companion_id",), staff=("marked_by",),
                             text=("walk_in_name",), forget="delete"),
    # 007 retention
    "retention_runs": REFERENCE,
    # 008 erasures: a keyed hash of a forgotten person's Telegram id and the time; nobody can be found from it
    "erasures": PersonLink(not_personal=("subject",)),
    # 014 invites: a hub's invite codes (nobody's); a person's requests to join a hub that needs approval
    "invite_codes": PersonLink(not_personal=("code",)),
    "join_requests": PersonLink(member=("member_id",), staff=("decided_by",), forget="delete"),
    # 010 the coordinators' dashboard: a coordinator's sign-in links and sessions (only hashes of their secrets)
    # are theirs; "contacted" marks are about the member, and name the coordinator who made them as staff
    "dashboard_links": PersonLink(user=("telegram_user_id",), not_personal=("token_hash", "language"),
                                  forget="delete"),
    "dashboard_sessions": PersonLink(user=("telegram_user_id",),
                                     not_personal=("token_hash", "language", "csrf_token"), forget="delete"),
    "follow_up_contacts": PersonLink(member=("member_id",), staff=("contacted_by",), forget="delete"),
    # 015 whose chat has the dashboard's menu button, so start-up can take it back from a former coordinator.
    # Retention does not age these rows out: each is deleted when the button is reset (which is what it is for).
    "dashboard_menu_buttons": PersonLink(user=("telegram_user_id",), forget="delete"),
    # 011 co-design: a coordinator's question (staff text), members' answers and ideas (deleted on erasure;
    # retention detaches them, and an idea loses its words, once older than the answers' retention period)
    "codesign_questions": PersonLink(staff=("created_by", "closed_by"), text=("text", "options")),
    "codesign_answers": PersonLink(member=("member_id",), forget="delete", retained_by=("answered_at", "changed_at")),
    "codesign_ideas": PersonLink(member=("member_id",), text=("text",), forget="delete", retained_by=("sent_at",)),
    # 012 Activator volunteers: tasks taken and pathway steps go with the volunteer
    "volunteer_tasks": PersonLink(member=("member_id",), not_personal=("task",), forget="delete"),
    "volunteer_steps": PersonLink(member=("member_id",), staff=("ticked_by",), not_personal=("step",),
                                  forget="delete"),
    # 013 referrals: the organisation's link (the referrer's own chat, never their name) and who came through it
    "referral_links": PersonLink(chat=("referrer_chat_id",), staff=("created_by",), not_personal=("organisation",),
                                 forget="detach"),
    "member_referrals": PersonLink(member=("member_id",), forget="delete"),
    # 016 attendance kept worked out (storage/presence.py): derived from the answers above, it goes with them
    # (erasure deletes a member's rows and their companions'); what is still to work out again names members.
    # `person` is the member's id on their own rows (minus a companion's id on the companion's, which also carry
    # `member` and `companion`).
    "presence": PersonLink(member=("member", "person"), companion=("companion",), not_personal=("what", "band"),
                           forget="delete"),
    "presence_stale": PersonLink(member=("member_id",), forget="delete"),
    # 018 each person's first visit to a hub, kept from `presence` (its columns mean what presence's do)
    "first_visits": PersonLink(member=("member", "person"), companion=("companion",), forget="delete"),
    # 019 each session's counts (numbers only, nobody in them) and the sessions whose counts are to work out again
    "session_counts": REFERENCE,
    "session_counts_stale": REFERENCE,
    # 017 check-in counts kept per session (storage/reports.py): how many were asked and answered what, counts
    # only, nobody in them; triggers keep them equal to the check-ins and messages that are left.
    "checkin_counts": PersonLink(not_personal=("asked", "responses", "happier", "same", "less_happy", "absent",
                                               "connected_yes", "connected_little", "connected_not", "on_behalf")),
    # which numbered migrations were applied (storage/db.py)
    "schema_migrations": REFERENCE,
}


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    not_null: bool
    references: str | None  # the table a foreign key points at


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    without_rowid: bool

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


class UnclassifiedTables(RuntimeError):
    """The schema has tables (or columns) storage/person_map.py does not account for."""


async def discover_schema(conn: aiosqlite.Connection) -> dict[str, Table]:
    """Every table in the database with its columns and foreign keys, read from SQLite itself."""
    tables: dict[str, Table] = {}
    rows = await conn.execute_fetchall(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    for name, sql in rows:
        references = {
            row[3]: row[2] for row in await conn.execute_fetchall("SELECT * FROM pragma_foreign_key_list(?)", (name,))
        }
        columns = tuple(
            Column(row[0], (row[1] or "").upper(), bool(row[2]), references.get(row[0]))
            for row in await conn.execute_fetchall('SELECT name, type, "notnull" FROM pragma_table_info(?)', (name,))
        )
        tables[name] = Table(name, columns, "WITHOUT ROWID" in (sql or "").upper())
    return tables


def problems_with_map(schema: dict[str, Table]) -> list[str]:
    """What the map misses or gets wrong for this schema; empty when every table is accounted for."""
    found: list[str] = []
    for name, table in schema.items():
        link = PERSON_MAP.get(name)
        if link is None:
            found.append(f"table {name} is not classified in storage/person_map.py PERSON_MAP")
            continue
        columns = set(table.column_names)
        for column in sorted(link.classified() - columns):
            found.append(f"{name}.{column} is in PERSON_MAP but not in the table")
        if link.via and link.via[1] not in PERSON_MAP:
            found.append(f"{name} belongs via {link.via[1]}, which is not classified")
        for column in table.columns:
            if column.name not in link.classified() and looks_personal(column):
                found.append(f"{name}.{column.name} may hold a person's data: classify it in PERSON_MAP")
        for column, _, kind in link.refers:
            if column not in link.text:
                found.append(f"{name}.{column} refers to people but is not listed in its text columns")
            if kind not in ("member", "user", "companion"):
                found.append(f"{name}.{column}: unknown kind of reference {kind!r}")
        if link.forget == "keep" and (link.person_columns or link.refers):
            found.append(f"{name} names people but erasure would keep its rows: use delete or detach")
        if link.forget == "detach" or link.answers_dated_by or link.retained_by:
            for column in table.columns:
                if column.name in link.person_columns and column.not_null:
                    found.append(f"{name}.{column.name} is NOT NULL, so its rows cannot be detached from a person")
    return found


_PERSONAL_HINTS = ("member", "user", "chat", "companion", "_by", "name", "text", "note", "reason", "payload",
                   "data", "comment", "message", "label")


def looks_personal(column: Column) -> bool:
    """Columns whose name or foreign key suggests they may identify or describe someone."""
    if column.references in ("members", "companions"):
        return True
    lowered = column.name.lower()
    if lowered.endswith("_id") and column.references is not None:
        return False  # a key into a table the map classifies on its own (sessions, hubs, runs)
    return any(hint in lowered for hint in _PERSONAL_HINTS)
