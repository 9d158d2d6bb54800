"""Term measures paired start to end (`Store.measure_pairs`, the funder report's "before and after") against a plain
Python reading of the same rows, for any mix of runs: skipped and missing answers, runs without their other half,
answers given on someone's behalf, anonymised runs, other hubs and terms, totals of a summed scale."""

from __future__ import annotations

import asyncio
import tempfile
from collections import defaultdict
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import Store
from tests.conftest import hub_settings

STAMP = "2026-09-01 10:00:00.000000"
# (item, scale): two items on the summed scale "ucla", one on a scale of its own
ITEMS = (("lonely", "ucla"), ("left_out", "ucla"), ("happy", "ons"))
SUMMED = ("ucla",)

# None: no row at all; "skip": skipped; "blank": a row without a value (not skipped either)
answer = st.one_of(st.none(), st.just("skip"), st.just("blank"), st.integers(0, 3))
run = st.fixed_dictionaries({
    "member": st.sampled_from([1, 1, 2, 2, 3, None]),  # None: anonymised
    "hub": st.sampled_from(["camden", "camden", "camden", "woking"]),
    "term": st.sampled_from(["Autumn", "Autumn", "Autumn", "Spring"]),
    "point": st.sampled_from(["start", "end"]),
    "qset": st.sampled_from(["ucla3", "ons4"]),
    "proxy": st.booleans(),
    "answers": st.tuples(answer, answer, answer),
})


def expected(runs: list[dict], hub: str, terms: list[str]) -> list[tuple]:
    """The definition, read plainly: each person's start and end run of one term and set, item by item, and each
    summed scale's total where every item on it is answered."""
    halves: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for r in runs:
        if r["member"] is not None and r["hub"] == hub and r["term"] in terms:
            halves[(r["member"], r["term"], r["qset"])][r["point"]] = r
    tallies: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])

    def value(r: dict, item: str) -> int | None:
        got = dict(zip((name for name, _ in ITEMS), r["answers"], strict=True))[item]
        return got if isinstance(got, int) else None

    def total(r: dict, scale: str) -> int | None:
        on = [a for (name, s), a in zip(ITEMS, r["answers"], strict=True) if s == scale and a is not None]
        if len(on) > 1 and all(isinstance(a, int) for a in on):
            return sum(on)
        return None

    for (_, _, qset), both in halves.items():
        if set(both) != {"start", "end"}:
            continue
        start, end = both["start"], both["end"]
        proxy = start["proxy"] or end["proxy"]
        pairs = [(name, value(start, name), value(end, name)) for name, _ in ITEMS]
        pairs += [(f"total:{scale}", total(start, scale), total(end, scale)) for scale in SUMMED]
        for item, v0, v1 in pairs:
            if v0 is None or v1 is None:
                continue
            t = tallies[(qset, item, proxy)]
            t[0] += 1
            t[1] += v0
            t[2] += v1
            t[3] += v1 > v0
            t[4] += v1 == v0
            t[5] += v1 < v0
    order = sorted(tallies, key=lambda k: (k[0], k[1].startswith("total:"), k[1], k[2]))
    return [(*key, *tallies[key]) for key in order]


async def stored(runs: list[dict]) -> list[tuple]:
    with tempfile.TemporaryDirectory() as folder:
        async with Store(Path(folder) / "pairs.sqlite3") as store:
            from datetime import UTC, datetime
            now = datetime(2026, 9, 1, tzinfo=UTC)
            await store.sync_hubs([hub_settings(id="camden", name="Camden"), hub_settings(id="woking", name="Woking")],
                                  now)
            async with store.db.transaction() as conn:
                await conn.executemany(
                    "INSERT INTO members (id, telegram_user_id, chat_id, first_name, role, created_at, updated_at)"
                    " VALUES (?, ?, ?, 'P', 'participant', ?, ?)",
                    [(m, 100 + m, 100 + m, STAMP, STAMP) for m in range(1, 5)])
                seen = set()
                for r in runs:
                    key = (r["member"], r["hub"], r["term"], r["point"], r["qset"])
                    if r["member"] is not None and key in seen:
                        continue  # UNIQUE: one run per person, hub, term, point and set
                    seen.add(key)
                    cursor = await conn.execute(
                        "INSERT INTO measure_runs (member_id, hub_id, term, point, question_set, answered_as,"
                        " started_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        (r["member"], r["hub"], r["term"], r["point"], r["qset"],
                         "on_behalf" if r["proxy"] else "self", STAMP, STAMP))
                    (run_id,) = await cursor.fetchone()
                    for (item, scale), a in zip(ITEMS, r["answers"], strict=True):
                        if a is not None:
                            await conn.execute(
                                "INSERT INTO measure_answers (run_id, item, scale, value, skipped, answered_at)"
                                " VALUES (?, ?, ?, ?, ?, ?)",
                                (run_id, item, scale, a if isinstance(a, int) else None, int(a == "skip"), STAMP))
            pairs = await store.measure_pairs("camden", ["Autumn"], SUMMED)
            return [(p.question_set, p.item, p.proxy, p.pairs, p.sum_start, p.sum_end, p.went_up, p.unchanged,
                     p.went_down) for p in pairs]


def unique(runs: list[dict]) -> list[dict]:
    """The runs the database keeps (the first of each person's hub, term, point and set)."""
    kept, seen = [], set()
    for r in runs:
        key = (r["member"], r["hub"], r["term"], r["point"], r["qset"])
        if r["member"] is None or key not in seen:
            kept.append(r)
            seen.add(key)
    return kept


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(run, min_size=2, max_size=16))
def test_pairs_are_the_plain_reading_of_the_runs(runs):
    assert asyncio.run(stored(runs)) == expected(unique(runs), "camden", ["Autumn"])


def test_a_known_pair_by_hand():
    """Member 1: start (lonely 1, left out 2, happy 0), end (3, 3, skipped): lonely up, left out up, no happy
    pair, total 3 -> 6 up. Member 2 on someone's behalf at the end: only their own tallies are proxy."""
    runs = [
        {"member": 1, "hub": "camden", "term": "Autumn", "point": "start", "qset": "ucla3", "proxy": False,
         "answers": (1, 2, 0)},
        {"member": 1, "hub": "camden", "term": "Autumn", "point": "end", "qset": "ucla3", "proxy": False,
         "answers": (3, 3, "skip")},
        {"member": 2, "hub": "camden", "term": "Autumn", "point": "start", "qset": "ucla3", "proxy": False,
         "answers": (2, 2, 1)},
        {"member": 2, "hub": "camden", "term": "Autumn", "point": "end", "qset": "ucla3", "proxy": True,
         "answers": (2, 1, 1)},
    ]
    assert asyncio.run(stored(runs)) == [
        ("ucla3", "happy", True, 1, 1, 1, 0, 1, 0),
        ("ucla3", "left_out", False, 1, 2, 3, 1, 0, 0),
        ("ucla3", "left_out", True, 1, 2, 1, 0, 0, 1),
        ("ucla3", "lonely", False, 1, 1, 3, 1, 0, 0),
        ("ucla3", "lonely", True, 1, 2, 2, 0, 1, 0),
        ("ucla3", "total:ucla", False, 1, 3, 6, 1, 0, 0),
        ("ucla3", "total:ucla", True, 1, 4, 3, 0, 0, 1),
    ]
