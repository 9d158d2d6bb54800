"""Queries for co-design: coordinators' questions to a hub, members' answers, members' ideas (migration 011)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

import aiosqlite

from bot.domain.codesign import AnswerResult, Idea, Question, QuestionTally, answer_outcome, tally
from bot.domain.ledger import NewDelivery
from storage.db import Database, from_db, to_db
from storage.delivery import insert_deliveries

# Members of a hub who want messages: not paused, and their consent to be contacted stands. (Whether Telegram
# still reaches them is checked when each copy is sent.)
_WANTS_MESSAGES = ("ms.hub_id = ? AND ms.left_at IS NULL AND m.paused = 0 AND EXISTS (SELECT 1 FROM consents c"
                   " WHERE c.member_id = m.id AND c.kind = 'contact' AND c.withdrawn_at IS NULL)")
_QUESTION_COLUMNS = ("id, hub_id, text, options, created_by, created_at, closes_at, closed_at, closed_by,"
                     " recipients")


def _question(row: aiosqlite.Row) -> Question:
    return Question(
        id=row["id"], hub_id=row["hub_id"], text=row["text"], options=tuple(json.loads(row["options"])),
        created_by=row["created_by"], created_at=from_db(row["created_at"]),  # type: ignore[arg-type]
        closes_at=from_db(row["closes_at"]), closed_at=from_db(row["closed_at"]),  # type: ignore[arg-type]
        closed_by=row["closed_by"], recipients=row["recipients"],
    )


class CodesignQueries:
    """Mixed into Store."""

    db: Database

    async def create_question(self, hub_id: str, text: str, options: Sequence[str], created_by: int,
                              now: datetime, closes_at: datetime, *, kind: str) -> Question:
        """Store the question once and owe it to every member of the hub who wants messages, in one transaction.

        Each member's copy expires when the question closes: one not sent by then is dropped, not sent late.
        """
        stamp = to_db(now)
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO codesign_questions (hub_id, text, options, created_by, created_at, closes_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (hub_id, text, json.dumps(list(options), ensure_ascii=False), created_by, stamp, to_db(closes_at)),
            )
            question_id = cursor.lastrowid
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO deliveries (kind, dedupe_key, member_id, chat_id, hub_id, due_at, expires_at,"
                " payload, created_at)"
                " SELECT ?, ? || m.id, m.id, m.chat_id, ms.hub_id, ?, ?, ?, ? FROM members m"
                f" JOIN memberships ms ON ms.member_id = m.id WHERE {_WANTS_MESSAGES} ORDER BY m.id",
                (kind, f"{kind}:{question_id}:", stamp, to_db(closes_at), json.dumps({"question": question_id}),
                 stamp, hub_id),
            )
            await conn.execute("UPDATE codesign_questions SET recipients = ? WHERE id = ?",
                               (cursor.rowcount, question_id))
        question = await self.question(question_id or 0)
        assert question is not None
        return question

    async def question_audience(self, hub_id: str) -> int:
        """How many members a question to the hub would go to now (those who want messages)."""
        row = await self.db.fetchone(
            f"SELECT COUNT(*) FROM members m JOIN memberships ms ON ms.member_id = m.id WHERE {_WANTS_MESSAGES}",
            (hub_id,))
        return int(row[0]) if row else 0

    async def question(self, question_id: int) -> Question | None:
        row = await self.db.fetchone(f"SELECT {_QUESTION_COLUMNS} FROM codesign_questions WHERE id = ?",
                                     (question_id,))
        return _question(row) if row is not None else None

    async def open_questions(self, hub_ids: Iterable[str]) -> list[Question]:
        """Questions of these hubs not closed yet (one past its time is closed by the next dispatcher tick)."""
        hubs = list(hub_ids)
        if not hubs:
            return []
        marks = ", ".join("?" for _ in hubs)
        rows = await self.db.fetchall(
            f"SELECT {_QUESTION_COLUMNS} FROM codesign_questions WHERE closed_at IS NULL AND hub_id IN ({marks})"
            " ORDER BY created_at, id", hubs,
        )
        return [_question(row) for row in rows]

    async def open_question_count(self, hub_id: str, now: datetime) -> int:
        """Questions of the hub asked by `now` and still open at `now`."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM codesign_questions WHERE hub_id = ? AND created_at <= ?"
            " AND (closed_at IS NULL OR closed_at > ?) AND closes_at > ?", (hub_id, *[to_db(now)] * 3))
        return int(row[0]) if row else 0

    async def questions_due_to_close(self, now: datetime) -> list[Question]:
        rows = await self.db.fetchall(
            f"SELECT {_QUESTION_COLUMNS} FROM codesign_questions WHERE closed_at IS NULL AND closes_at <= ?"
            " ORDER BY closes_at, id", (to_db(now),),
        )
        return [_question(row) for row in rows]

    async def answer_question(self, question_id: int, member_id: int, choice: int, now: datetime) -> AnswerResult:
        """Record (or change) a member's answer, if the question is still open; the outcome says which."""
        stamp = to_db(now)
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(
                f"SELECT {_QUESTION_COLUMNS} FROM codesign_questions WHERE id = ?", (question_id,))
            question = _question(rows[0]) if rows else None
            held = await conn.execute_fetchall(
                "SELECT choice FROM codesign_answers WHERE question_id = ? AND member_id = ?", (question_id, member_id))
            previous = held[0][0] if held else None
            outcome = answer_outcome(question, choice, previous, now)
            if outcome == "answered":
                await conn.execute(
                    "INSERT INTO codesign_answers (question_id, member_id, choice, answered_at) VALUES (?, ?, ?, ?)",
                    (question_id, member_id, choice, stamp))
            elif outcome == "changed":
                await conn.execute(
                    "UPDATE codesign_answers SET choice = ?, changed_at = ?, changes = changes + 1"
                    " WHERE question_id = ? AND member_id = ?", (choice, stamp, question_id, member_id))
        now_holds = choice if outcome in ("answered", "changed", "same") else previous
        return AnswerResult(outcome, now_holds, previous)

    async def member_answer(self, question_id: int, member_id: int) -> int | None:
        row = await self.db.fetchone(
            "SELECT choice FROM codesign_answers WHERE question_id = ? AND member_id = ?", (question_id, member_id))
        return int(row[0]) if row is not None else None

    async def close_question(self, question_id: int, now: datetime, closed_by: int | None,
                             results: Sequence[NewDelivery]) -> bool:
        """Close the question and owe its results (`results`, one row per coordinator and part), in one
        transaction; False if it was already closed (so a double tap or a second tick tells nobody twice)."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE codesign_questions SET closed_at = ?, closed_by = ? WHERE id = ? AND closed_at IS NULL",
                (to_db(now), closed_by, question_id))
            if cursor.rowcount == 0:
                return False
            await insert_deliveries(conn, results, now)
            return True

    async def question_tally(self, question_id: int) -> QuestionTally | None:
        question = await self.question(question_id)
        if question is None:
            return None
        rows = await self.db.fetchall("SELECT choice FROM codesign_answers WHERE question_id = ?", (question_id,))
        return tally(question, [row[0] for row in rows])

    async def closed_question_tallies(self, hub_id: str, start: datetime, end: datetime) -> list[QuestionTally]:
        """Every question of the hub that closed in [start, end), with its counts, oldest first."""
        rows = await self.db.fetchall(
            f"SELECT {_QUESTION_COLUMNS} FROM codesign_questions WHERE hub_id = ? AND closed_at >= ?"
            " AND closed_at < ? ORDER BY closed_at, id", (hub_id, to_db(start), to_db(end)))
        questions = [_question(row) for row in rows]
        if not questions:
            return []
        marks = ", ".join("?" for _ in questions)
        answers = await self.db.fetchall(
            f"SELECT question_id, choice FROM codesign_answers WHERE question_id IN ({marks})",
            [q.id for q in questions])
        by_question: dict[int, list[int]] = {q.id: [] for q in questions}
        for row in answers:
            by_question[row[0]].append(row[1])
        return [tally(q, by_question[q.id]) for q in questions]

    async def codesign_people(self, hub_id: str, start: datetime, end: datetime) -> int:
        """Members who answered at least one question of the hub that closed in [start, end) (still linked)."""
        row = await self.db.fetchone(
            "SELECT COUNT(DISTINCT a.member_id) FROM codesign_answers a JOIN codesign_questions q"
            " ON q.id = a.question_id WHERE q.hub_id = ? AND q.closed_at >= ? AND q.closed_at < ?"
            " AND a.member_id IS NOT NULL", (hub_id, to_db(start), to_db(end)))
        return int(row[0]) if row else 0

    async def create_idea(self, hub_id: str, member_id: int, text: str, now: datetime,
                          notices: Iterable[NewDelivery]) -> int:
        """Keep the idea and owe it to the hub's coordinators (`notices`, whose payload gets the idea's id),
        in one transaction: it is kept before the member is thanked."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO codesign_ideas (hub_id, member_id, text, sent_at) VALUES (?, ?, ?, ?)",
                (hub_id, member_id, text, to_db(now)))
            idea_id = cursor.lastrowid or 0
            await insert_deliveries(conn, [
                NewDelivery(kind=n.kind, dedupe_key=f"{n.dedupe_key}{idea_id}:{n.chat_id}", chat_id=n.chat_id,
                            due_at=n.due_at, hub_id=n.hub_id, expires_at=n.expires_at,
                            payload={**n.payload, "idea": idea_id})
                for n in notices
            ], now)
            return idea_id

    async def idea(self, idea_id: int) -> Idea | None:
        row = await self.db.fetchone(
            "SELECT id, hub_id, member_id, text, sent_at FROM codesign_ideas WHERE id = ?", (idea_id,))
        if row is None:
            return None
        return Idea(row["id"], row["hub_id"], row["member_id"], row["text"], from_db(row["sent_at"]))  # type: ignore[arg-type]

    async def idea_count(self, hub_id: str, start: datetime, end: datetime) -> tuple[int, int]:
        """(ideas sent to the hub in [start, end), members who sent them, of those still linked to a member)."""
        row = await self.db.fetchone(
            "SELECT COUNT(*), COUNT(DISTINCT member_id) FROM codesign_ideas WHERE hub_id = ? AND sent_at >= ?"
            " AND sent_at < ?", (hub_id, to_db(start), to_db(end)))
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def member_codesign_counts(self, member_id: int) -> tuple[int, int]:
        """(answers to hub questions, ideas) held about a member: for /mydata's summary."""
        row = await self.db.fetchone(
            "SELECT (SELECT COUNT(*) FROM codesign_answers WHERE member_id = ?),"
            " (SELECT COUNT(*) FROM codesign_ideas WHERE member_id = ?)", (member_id, member_id))
        return (int(row[0]), int(row[1])) if row else (0, 0)
