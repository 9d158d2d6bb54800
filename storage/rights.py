"""People's data rights over the whole schema: export everything about a person, forget them, retention.

Works generically: tables and columns come from SQLite at run time, and storage/person_map.py says
how each relates to a person. Nothing here names a feature's table except through that map.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import aiosqlite

from bot.domain.retention import RetentionCutoffs
from storage.db import Database, from_db, to_db
from storage.erasures import erasure_key, subject_of
from storage.person_map import PERSON_MAP, PersonLink, Table, UnclassifiedTables, discover_schema, problems_with_map
from storage.presence import refresh_presence, refresh_presence_in
from storage.referrals import prune_referrals
from storage.volunteers import prune_volunteering

REMOVED = "[removed]"


@dataclass(frozen=True, slots=True)
class Person:
    """Everything that identifies one person in the database."""

    telegram_user_id: int
    member_id: int | None
    chat_ids: tuple[int, ...]
    companion_ids: tuple[int, ...]
    names: tuple[str, ...]  # their first name and their companions' names


@dataclass(frozen=True, slots=True)
class PersonExport:
    """Every row about a person, table by table (JSON held in text columns is unpacked)."""

    telegram_user_id: int
    member_id: int | None
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.tables.values())

    def count(self, table: str) -> int:
        return len(self.tables.get(table, ()))


@dataclass(frozen=True, slots=True)
class ForgetReport:
    deleted: dict[str, int]
    detached: dict[str, int]
    cleaned: int  # free-text cells in the person's own kept rows cleaned of their names

    @property
    def anything(self) -> bool:
        return any(self.deleted.values()) or any(self.detached.values()) or self.cleaned > 0


@dataclass(frozen=True, slots=True)
class RetentionResult:
    anonymised: int  # wellbeing answers detached
    drafts_removed: int
    inputs_removed: int
    alerts_detached: int
    deliveries_pruned: int
    other_rows_detached: int = 0  # co-design answers and ideas (PersonLink.retained_by)

    @property
    def anything(self) -> bool:
        return any((self.anonymised, self.drafts_removed, self.inputs_removed, self.alerts_detached,
                    self.deliveries_pruned, self.other_rows_detached))


@dataclass(frozen=True, slots=True)
class Finding:
    """Where a value was found by `where_values_appear`."""

    table: str
    column: str
    value: str


class RightsQueries:
    """Mixed into Store: access, erasure, consent withdrawal's deletion, and retention."""

    db: Database
    erasure_key: str

    async def schema_problems(self) -> list[str]:
        """What storage/person_map.py fails to account for in the live schema (empty = all classified)."""
        return problems_with_map(await discover_schema(self.db.reader))

    async def export_person(self, telegram_user_id: int) -> PersonExport:
        """Every row in every table that is about this person or their companions (their attendance as the
        bot counts it brought up to date first)."""
        await refresh_presence(self.db)
        conn = self.db.reader
        schema = await _checked_schema(conn)
        person = await _person(conn, telegram_user_id)
        tables: dict[str, list[dict[str, Any]]] = {}
        for name, table in schema.items():
            link = PERSON_MAP[name]
            where, params = _match(link, person)
            if where is None:
                continue
            rows = await conn.execute_fetchall(f'SELECT * FROM "{name}" WHERE {where}', params)
            if rows:
                tables[name] = [_exported(link, table, row) for row in rows]
        return PersonExport(telegram_user_id, person.member_id, tables)

    async def forget_person(self, telegram_user_id: int, now: datetime) -> ForgetReport:
        """Erase one person by following links, never words, in one transaction, and record that it happened.

        Deleted: their rows, their companions' rows, rows that point at them (a column or a JSON document
        holding their ids). Detached (kept for counts): their wellbeing answers and alerts, with any free text
        in those rows cleaned of their names. Other people's rows are not touched, whatever words they hold;
        a staff member's id leaves the rows they acted on. Afterwards the WAL is checkpointed and truncated,
        so (with secure_delete on) the deleted bytes leave the files too.
        """
        subject = subject_of(self.erasure_secret(), telegram_user_id)
        async with self.db.transaction() as conn:
            report = await _forget(conn, telegram_user_id, now)
            await conn.execute("INSERT INTO erasures (subject, erased_at) VALUES (?, ?)", (subject, to_db(now)))
        await self.db.checkpoint()
        return report

    def erasure_secret(self) -> bytes:
        """The key of the erasure records (storage/erasures.py): configured, or generated beside the database."""
        return erasure_key(self.db.path, self.erasure_key)

    async def erasures(self) -> list[tuple[str, str]]:
        """Every erasure recorded: (subject, erased_at as stored), oldest first."""
        rows = await self.db.fetchall("SELECT subject, erased_at FROM erasures ORDER BY erased_at, id")
        return [(row[0], row[1]) for row in rows]

    async def reapply_erasures(self, recorded: Iterable[tuple[str, str]]) -> int:
        """Forget again everyone erased in `recorded` but not in this database (after restoring a backup).

        The records hold only keyed hashes, so every id this database holds is hashed and compared. Each
        erasure is recorded here as well, with its original time; returns how many were re-applied.
        """
        key = self.erasure_secret()
        known = set(await self.erasures())
        missing = [(subject, at) for subject, at in recorded if (subject, at) not in known]
        if not missing:
            return 0
        async with self.db.transaction() as conn:
            candidates = await _every_person_id(conn)
            by_subject = {subject_of(key, candidate): candidate for candidate in candidates}
            for subject, at in missing:
                user_id = by_subject.get(subject)
                if user_id is not None:
                    await _forget(conn, user_id, from_db(at) or datetime.now(UTC))
                await conn.execute("INSERT INTO erasures (subject, erased_at) VALUES (?, ?)", (subject, at))
        await self.db.checkpoint()
        return len(missing)

    async def delete_wellbeing_answers(self, member_id: int) -> int:
        """Delete a member's individual wellbeing answers (after they withdrew that consent)."""
        async with self.db.transaction() as conn:
            schema = await _checked_schema(conn)
            total = 0
            for name, link in PERSON_MAP.items():
                if name in schema and link.answers_dated_by and link.member:
                    where = " OR ".join(f'"{column}" = ?' for column in link.member)
                    cursor = await conn.execute(f'DELETE FROM "{name}" WHERE {where}', [member_id] * len(link.member))
                    total += cursor.rowcount
            await refresh_presence_in(conn)
            return total

    async def wellbeing_answer_count(self, member_id: int) -> int:
        schema = await discover_schema(self.db.reader)
        total = 0
        for name, link in PERSON_MAP.items():
            if name in schema and link.answers_dated_by and link.member:
                where = " OR ".join(f'"{column}" = ?' for column in link.member)
                params = [member_id] * len(link.member)
                row = await self.db.fetchone(f'SELECT COUNT(*) FROM "{name}" WHERE {where}', params)
                total += row[0] if row else 0
        return total

    async def retention_once(self, day: date, cutoffs: RetentionCutoffs, now: datetime) -> RetentionResult | None:
        """Retention for `day`, every rule in one transaction; None when `day` was already done.

        Individual answers dated before their cutoff and safeguarding alerts raised before theirs are detached
        from the person; abandoned joins, unanswered questions and the ledger rows of long-past sessions are
        deleted. The day is recorded in the same transaction, so a restart neither repeats nor skips it.
        """
        async with self.db.transaction() as conn:
            done = await conn.execute_fetchall("SELECT 1 FROM retention_runs WHERE local_date = ?", (day.isoformat(),))
            if done:
                return None
            schema = await discover_schema(conn)
            anonymised = 0
            for name, link in PERSON_MAP.items():
                if name not in schema or not link.answers_dated_by:
                    continue
                linked = " OR ".join(f'"{column}" IS NOT NULL' for column in link.person_columns)
                old = " AND ".join(f"coalesce(\"{column}\", '') < ?" for column in link.answers_dated_by)
                params = [to_db(cutoffs.answers)] * len(link.answers_dated_by)
                anonymised += await _detach(conn, schema[name], link, f"({linked}) AND {old}", params, now)
            others = await _detach_retained(conn, schema, to_db(cutoffs.answers), now)
            alerts = await _detach(conn, schema["alerts"], PERSON_MAP["alerts"],
                                   "member_id IS NOT NULL AND raised_at < ?", [to_db(cutoffs.alerts)], now)
            drafts = (await conn.execute("DELETE FROM join_drafts WHERE updated_at < ?",
                                         (to_db(cutoffs.join_drafts),))).rowcount
            # Decided join requests (who asked to join, and which coordinator said yes or no) go with the drafts.
            drafts += (await conn.execute("DELETE FROM join_requests WHERE decided_at < ?",
                                          (to_db(cutoffs.join_drafts),))).rowcount
            inputs = (await conn.execute("DELETE FROM awaiting_input WHERE updated_at < ?",
                                         (to_db(cutoffs.pending_inputs),))).rowcount
            # The dashboard's (issue 16): expired sign-in links and sessions; "Contacted" marks older than alerts
            # are kept (they matter for the ten weeks of follow-ups).
            for sql, cutoff in (("DELETE FROM dashboard_links WHERE expires_at <= ?", now),
                                ("DELETE FROM dashboard_sessions WHERE expires_at <= ?", now),
                                ("DELETE FROM follow_up_contacts WHERE contacted_at < ?", cutoffs.alerts)):
                await conn.execute(sql, (to_db(cutoff),))
            # Only settled rows: a pending or sending row is still the dispatcher's to finish.
            deliveries = (await conn.execute(
                "DELETE FROM deliveries WHERE state NOT IN ('pending', 'sending')"
                " AND session_id IN (SELECT id FROM sessions WHERE ends_at < ?)", (to_db(cutoffs.deliveries),),
            )).rowcount
            # Issue 17: tasks taken at long-past sessions; referral links' referrer chats that went quiet.
            await prune_volunteering(conn, cutoffs.answers)
            await prune_referrals(conn, cutoffs.answers)
            await refresh_presence_in(conn)  # detached answers count as someone who came, nobody in particular
            await conn.execute(
                "INSERT INTO retention_runs (local_date, ran_at, cutoff, anonymised, drafts_removed, inputs_removed,"
                " alerts_detached, deliveries_pruned, other_rows_detached) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (day.isoformat(), to_db(now), to_db(cutoffs.answers), anonymised, drafts, inputs, alerts, deliveries,
                 others),
            )
        result = RetentionResult(anonymised, drafts, inputs, alerts, deliveries, others)
        if result.anything:
            await self.db.checkpoint()  # what was deleted leaves the WAL too
        return result

    async def retention_ran_on(self, day: date) -> bool:
        row = await self.db.fetchone("SELECT 1 FROM retention_runs WHERE local_date = ?", (day.isoformat(),))
        return row is not None

    async def where_values_appear(self, needles: Iterable[str | int]) -> list[Finding]:
        """Every table and column holding any of `needles`, as a value or inside text/JSON (an audit)."""
        wanted = [str(needle) for needle in needles if str(needle)]
        escaped = [json.dumps(needle)[1:-1] for needle in wanted]
        findings: list[Finding] = []
        for name, table in (await discover_schema(self.db.reader)).items():
            for row in await self.db.fetchall(f'SELECT * FROM "{name}"'):
                for column in table.column_names:
                    value = row[column]
                    text = "" if value is None else str(value)
                    if any(needle in text for needle in wanted + escaped):
                        findings.append(Finding(name, column, text[:200]))
        return findings


async def _checked_schema(conn: aiosqlite.Connection) -> dict[str, Table]:
    schema = await discover_schema(conn)
    problems = problems_with_map(schema)
    if problems:
        raise UnclassifiedTables("; ".join(problems))
    return schema


async def _forget(conn: aiosqlite.Connection, telegram_user_id: int, now: datetime) -> ForgetReport:
    schema = await _checked_schema(conn)
    person = await _person(conn, telegram_user_id)
    cleaned = 0
    detached: dict[str, int] = {}
    for name, table in schema.items():
        link = PERSON_MAP[name]
        if link.forget == "detach":
            where, params = _match(link, person)
            cleaned += await _clean_own_text(conn, table, link, where, params, person)
            detached[name] = await _detach(conn, table, link, where, params, now)
        await _clear_staff(conn, table, link, person.telegram_user_id)
    deleted: dict[str, int] = {}
    for name in _children_first([n for n in schema if PERSON_MAP[n].forget == "delete"], schema):
        where, params = _match(PERSON_MAP[name], person)
        if where is not None:
            cursor = await conn.execute(f'DELETE FROM "{name}" WHERE {where}', params)
            deleted[name] = cursor.rowcount
    # Attendance is worked out again now, in this transaction: the person's rows left with their answers, and
    # nothing about them waits in presence_stale.
    await refresh_presence_in(conn)
    return ForgetReport(deleted, detached, cleaned)


async def _every_person_id(conn: aiosqlite.Connection) -> set[int]:
    """Every Telegram user or chat id the database holds, in any column the map says may hold one."""
    found: set[int] = set()
    for name, table in (await discover_schema(conn)).items():
        link = PERSON_MAP.get(name)
        if link is None:
            continue
        for column in (*link.user, *link.chat, *link.staff):
            if column in table.column_names:
                rows = await conn.execute_fetchall(f'SELECT DISTINCT "{column}" FROM "{name}" WHERE "{column}" > 0')
                found.update(int(row[0]) for row in rows)
    return found


async def _person(conn: aiosqlite.Connection, telegram_user_id: int) -> Person:
    members = await conn.execute_fetchall(
        "SELECT id, chat_id, first_name FROM members WHERE telegram_user_id = ?", (telegram_user_id,)
    )
    if not members:
        return Person(telegram_user_id, None, (telegram_user_id,), (), ())
    member_id, chat_id, first_name = members[0]
    companions = await conn.execute_fetchall("SELECT id, name FROM companions WHERE member_id = ?", (member_id,))
    names = tuple(dict.fromkeys([first_name, *(name for _, name in companions)]))
    return Person(
        telegram_user_id=telegram_user_id,
        member_id=member_id,
        chat_ids=tuple(dict.fromkeys([telegram_user_id, chat_id])),
        companion_ids=tuple(cid for cid, _ in companions),
        names=tuple(name for name in names if _scrubbable(name)),
    )


def _match(link: PersonLink, person: Person) -> tuple[str | None, list[Any]]:
    """SQL (and parameters) selecting the rows of a table that are about `person`; None if none can be."""
    clauses: list[str] = []
    params: list[Any] = []

    def any_of(expression: str, values: Iterable[Any]) -> None:
        values = list(values)
        if values:
            clauses.append(f'{expression} IN ({", ".join("?" for _ in values)})')
            params.extend(values)

    for column in link.member:
        any_of(f'"{column}"', [person.member_id] if person.member_id is not None else [])
    for column in link.user:
        any_of(f'"{column}"', [person.telegram_user_id])
    for column in link.chat:
        any_of(f'"{column}"', person.chat_ids)
    for column in link.companion:
        any_of(f'"{column}"', person.companion_ids)
    ids = {"member": [person.member_id] if person.member_id is not None else [], "user": [person.telegram_user_id],
           "companion": list(person.companion_ids)}
    for column, key, kind in link.refers:
        # A document that is not JSON names nobody by id (json_extract would fail on it).
        any_of(f'CASE WHEN json_valid("{column}") THEN json_extract("{column}", \'$.{key}\') END', ids[kind])
    if link.via is not None:
        column, parent, parent_column = link.via
        parent_where, parent_params = _match(PERSON_MAP[parent], person)
        if parent_where is not None:
            clauses.append(f'"{column}" IN (SELECT "{parent_column}" FROM "{parent}" WHERE {parent_where})')
            params.extend(parent_params)
    return (" OR ".join(f"({clause})" for clause in clauses) or None), params


async def _detach_retained(conn: aiosqlite.Connection, schema: dict[str, Table], cutoff: str, now: datetime) -> int:
    """Rows the map marks `retained_by` and dated before `cutoff`: their free text removed (set to NULL), then
    detached from the person, so they stay only as counts."""
    detached = 0
    for name, link in PERSON_MAP.items():
        if name not in schema or not link.retained_by:
            continue
        table = schema[name]
        linked = " OR ".join(f'"{column}" IS NOT NULL' for column in link.person_columns)
        old = " AND ".join(f"coalesce(\"{column}\", '') < ?" for column in link.retained_by)
        where, params = f"({linked}) AND {old}", [cutoff] * len(link.retained_by)
        nullable = [c.name for c in table.columns if c.name in link.text and not c.not_null]
        if nullable:
            sets = ", ".join(f'"{column}" = NULL' for column in nullable)
            await conn.execute(f'UPDATE "{name}" SET {sets} WHERE {where}', params)
        detached += await _detach(conn, table, link, where, params, now)
    return detached


async def _detach(conn: aiosqlite.Connection, table: Table, link: PersonLink, where: str | None,
                  params: list[Any], now: datetime) -> int:
    """Keep the rows for counts, but with nothing left that points at a person."""
    if where is None or not link.person_columns:
        return 0
    sets = [f'"{column}" = NULL' for column in link.person_columns]
    values: list[Any] = []
    if "anonymised_at" in table.column_names:
        sets.append('"anonymised_at" = coalesce("anonymised_at", ?)')
        values.append(to_db(now))
    cursor = await conn.execute(f'UPDATE "{table.name}" SET {", ".join(sets)} WHERE {where}', [*values, *params])
    return cursor.rowcount


async def _clear_staff(conn: aiosqlite.Connection, table: Table, link: PersonLink, telegram_user_id: int) -> None:
    """A staff member who asks to be forgotten: their id leaves the rows they acted on (0 where required)."""
    not_null = {column.name for column in table.columns if column.not_null}
    for column in link.staff:
        blank = "0" if column in not_null else "NULL"
        await conn.execute(f'UPDATE "{table.name}" SET "{column}" = {blank} WHERE "{column}" = ?', (telegram_user_id,))


async def _clean_own_text(conn: aiosqlite.Connection, table: Table, link: PersonLink, where: str | None,
                          params: list[Any], person: Person) -> int:
    """Free text in the person's own kept rows, cleaned of their names and ids (only those rows: `where`)."""
    if where is None or not link.text:
        return 0
    key = _row_key(table)
    changed = 0
    for column in link.text:
        rows = await conn.execute_fetchall(
            f'SELECT {", ".join(key)}, "{column}" FROM "{table.name}" WHERE "{column}" IS NOT NULL AND ({where})',
            params,
        )
        for row in map(tuple, rows):
            cleaned = scrub(str(row[-1]), person.names, [person.telegram_user_id, *person.chat_ids],
                            person.member_id)
            if cleaned != row[-1]:
                match = " AND ".join(f"{k} = ?" for k in key)
                await conn.execute(f'UPDATE "{table.name}" SET "{column}" = ? WHERE {match}', (cleaned, *row[:-1]))
                changed += 1
    return changed


def scrub(text: str, names: Iterable[str], ids: Iterable[int], member_id: int | None = None) -> str:
    """`text` with the names and ids removed; JSON stays valid JSON (strings cleaned, matching ids nulled)."""
    names, ids = list(names), set(ids)
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            data = json.loads(text)
        except ValueError:
            pass
        else:
            return json.dumps(_scrub_json(data, names, ids, member_id, ""), ensure_ascii=False)
    return _scrub_text(text, names, ids)


def _scrub_json(data: Any, names: list[str], ids: set[int], member_id: int | None, key: str) -> Any:
    if isinstance(data, dict):
        return {k: _scrub_json(v, names, ids, member_id, k) for k, v in data.items()}
    if isinstance(data, list):
        cleaned = [_scrub_json(v, names, ids, member_id, key) for v in data]
        return [v for v, original in zip(cleaned, data, strict=True) if not (v is None and original is not None)]
    if isinstance(data, str):
        return _scrub_text(data, names, ids)
    if isinstance(data, int) and not isinstance(data, bool):
        if data in ids or (member_id is not None and data == member_id and "member" in key.lower()):
            return None
    return data


def _scrub_text(text: str, names: list[str], ids: set[int]) -> str:
    for name in names:
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", REMOVED, text)
    for number in ids:
        text = re.sub(rf"(?<!\d){number}(?!\d)", REMOVED, text)
    return text


def _scrubbable(name: str) -> bool:
    """Names long enough to find safely ('?' or 'A' would wreck unrelated text)."""
    return sum(char.isalpha() for char in name) >= 2


def _row_key(table: Table) -> list[str]:
    if not table.without_rowid:
        return ["rowid"]
    raise UnclassifiedTables(f"{table.name} is WITHOUT ROWID: give storage/rights.py its primary key")


def _children_first(names: list[str], schema: dict[str, Table]) -> list[str]:
    """Order tables so that a table is deleted from before any table it references."""
    ordered: list[str] = []
    remaining = set(names)

    def visit(name: str, path: frozenset[str]) -> None:
        if name not in remaining or name in path:
            return
        for other in sorted(remaining):
            if other != name and any(c.references == name for c in schema[other].columns):
                visit(other, path | {name})
        if name in remaining:
            remaining.discard(name)
            ordered.append(name)

    for name in sorted(names):
        visit(name, frozenset())
    return ordered


def _exported(link: PersonLink, table: Table, row: aiosqlite.Row) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for column in table.column_names:
        value = row[column]
        if column in link.staff and value is not None:
            value = "a staff member"
        elif column in link.text and isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        record[column] = value
    return record
