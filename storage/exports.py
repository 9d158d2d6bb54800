"""Queries behind the funder report and the CSV exports: reach, term-measure pairs, row-level extracts.

Row-level extracts name nobody: people appear as `m<id>` (member) or `c<id>` (companion); walk-ins and
anonymised answers have no id at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import aiosqlite

from storage.db import Database
from storage.presence import Window, named_fetchall


@dataclass(frozen=True, slots=True)
class PairTally:
    """Matched start/end answers to one item (or a question set's total) over some terms."""

    question_set: str
    item: str  # an item id, or "total:<scale>" for the sum of a run's items on that scale (UCLA 3-9)
    proxy: bool  # answered on someone's behalf at either end
    pairs: int
    sum_start: int
    sum_end: int
    went_up: int
    unchanged: int
    went_down: int


@dataclass(frozen=True, slots=True)
class AnswerRow:
    session_id: int
    local_date: date
    person: str
    feeling: str
    connected: str
    could_not_come: bool
    answered_as: str


def _n(value: object) -> int:
    return int(value or 0)  # type: ignore[call-overload]


class ExportQueries:
    """Mixed into Store."""

    db: Database

    async def measure_pairs(self, hub_id: str, terms: list[str], summed_scales: Sequence[str] = ()) -> list[PairTally]:
        """Start and end answers of the same person, same term, same item; plus per-scale totals per person.

        A total (the items on one of `summed_scales`, summed: the UCLA score) counts only runs with every
        such item answered.
        Anonymised runs cannot be paired and are left out.
        """
        if not terms:
            return []
        marks = ", ".join("?" for _ in terms)
        rows = await named_fetchall(
            self.db,
            f"""WITH runs AS (
                SELECT id, member_id, term, question_set, answered_as = 'on_behalf' AS proxy
                FROM measure_runs WHERE hub_id = ? AND term IN ({marks}) AND member_id IS NOT NULL AND point = 'start'
            ),
            -- A person has at most one run per term, point and set (UNIQUE in measure_runs): each start run
            -- is paired with its end run through that index, then each item of the one with the same item of
            -- the other through the answers' key, instead of sorting every answer into groups of two.
            paired AS (
                SELECT s.id AS s_id, e.id AS e_id, s.question_set, MAX(s.proxy, e.answered_as = 'on_behalf') AS proxy
                FROM runs s JOIN measure_runs e ON e.member_id = s.member_id AND e.hub_id = ? AND e.term = s.term
                     AND e.point = 'end' AND e.question_set = s.question_set
            ),
            items AS (
                SELECT p.question_set, a0.item, p.proxy, a0.value AS v0, a1.value AS v1
                FROM paired p JOIN measure_answers a0 ON a0.run_id = p.s_id
                JOIN measure_answers a1 ON a1.run_id = p.e_id AND a1.item = a0.item
                WHERE a0.skipped = 0 AND a0.value IS NOT NULL AND a1.skipped = 0 AND a1.value IS NOT NULL
            ),
            -- A run's total on a scale: only with more than one item on it and every one answered.
            totals AS (
                SELECT p.question_set, 'total:' || sc.value AS item, p.proxy,
                       (SELECT CASE WHEN COUNT(*) > 1 AND SUM(a.skipped) = 0 AND COUNT(a.value) = COUNT(*)
                               THEN SUM(a.value) END
                        FROM measure_answers a WHERE a.run_id = p.s_id AND a.scale = sc.value) AS v0,
                       (SELECT CASE WHEN COUNT(*) > 1 AND SUM(a.skipped) = 0 AND COUNT(a.value) = COUNT(*)
                               THEN SUM(a.value) END
                        FROM measure_answers a WHERE a.run_id = p.e_id AND a.scale = sc.value) AS v1
                FROM paired p CROSS JOIN json_each(?) sc
            ),
            pairs AS (
                SELECT * FROM items UNION ALL SELECT * FROM totals WHERE v0 IS NOT NULL AND v1 IS NOT NULL
            )
            SELECT question_set, item, proxy, COUNT(*) AS n, SUM(v0) AS s0, SUM(v1) AS s1,
                   SUM(v1 > v0) AS up, SUM(v1 = v0) AS same, SUM(v1 < v0) AS down
            FROM pairs GROUP BY question_set, item, proxy ORDER BY question_set, item LIKE 'total:%', item, proxy""",
            (hub_id, *terms, hub_id, json.dumps(list(summed_scales))),
        )
        return [
            PairTally(r["question_set"], r["item"], bool(r["proxy"]), _n(r["n"]), _n(r["s0"]), _n(r["s1"]),
                      _n(r["up"]), _n(r["same"]), _n(r["down"]))
            for r in rows
        ]

    async def terms_in(self, window: Window) -> list[str]:
        rows = await named_fetchall(
            self.db,
            "SELECT DISTINCT term FROM sessions WHERE hub_id = :hub AND starts_at >= :start AND starts_at < :end"
            " AND term IS NOT NULL ORDER BY term",
            window.params(),
        )
        return [row["term"] for row in rows]

    async def answer_rows(self, window: Window) -> list[AnswerRow]:
        return [answer_row(row) for row in await self.answer_records(window)]

    async def answer_records(self, window: Window) -> list[aiosqlite.Row]:
        """The rows of answer_rows as fetched, for a caller that turns a year of them into AnswerRows (answer_row)
        away from the event loop."""
        return await named_fetchall(
            self.db,
            """SELECT c.session_id, s.local_date, c.member_id, c.feeling, c.connected, c.absent, c.answered_as
            FROM sessions s JOIN checkins c ON c.session_id = s.id
            WHERE s.hub_id = :hub AND s.starts_at >= :start AND s.starts_at < :end AND s.starts_at <= :now
            ORDER BY s.starts_at, c.session_id, c.id""",
            window.params(),
        )


def answer_row(row: aiosqlite.Row) -> AnswerRow:
    """One fetched check-in answer as an AnswerRow (pure: safe in any thread)."""
    return AnswerRow(
        row["session_id"], date.fromisoformat(row["local_date"]),
        f"m{row['member_id']}" if row["member_id"] is not None else "",
        row["feeling"] or "", row["connected"] or "", bool(row["absent"]), row["answered_as"],
    )

