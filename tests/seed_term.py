"""A hand-made term of the Woking hub, for the summary, register, export and report tests.

Autumn 2026 runs ten Tuesdays, 15 September (week 1) to 17 November (week 10). Before it, one Summer session
(7 July); inside it, a sharing event (Saturday 14 November) and a cancelled event (31 October); after it,
Winter 2026 starts on Tuesday 24 November ("next week" for the summary sent on Monday 23 November).

Each member's week-by-week code (weeks 1 to 10):
  H  Yes, then checked in "Happier" / connected "Yes"       S  Yes, "About the same" / "A little"
  L  Yes, "Less happy" / "Not really"                         h  Yes, "Happier", connected not answered
  Y  Yes, no check-in (so inferred present)                   A  Yes, then "I couldn't come" (not present)
  M  Maybe, no check-in (not present)                         m  Maybe, then "Happier" / "Yes" (present)
  N  No                                                        .  nothing at all
Registers were taken in week 5 (Dev and Sam did not come after all; walk-in Priya) and week 10 (Ravi stayed
home; walk-ins Tia and Nell), and at the sharing event (walk-ins Joe, Ama, Kit, Bea).

Issue 17. Volunteers (Activators): Jo, Eve, Hana, Ivan and Omar. Pathway steps (VOLUNTEER_STEPS, ticked 20
September): induction Jo, Eve, Hana, Ivan, Omar; co-led Jo, Eve; led Jo; and Hana's co-led ticked on 25 November,
after the term. Tasks: week 9 Jo tea and Eve welcome desk, week 10 Jo tea. Referrals (REFERRALS): two links of
"Woking Surgery link worker" (Anna, Bob, Lin, Kemi, Finn; and Gita) and one of "Community mental health team"
(Omar, Hana), all referred when they joined; Anna agreed that the referrer be told when she first came.

Tests may write rows with SQL here (production code may not); the Store's own methods are used where they exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.config import HubSettings
from bot.domain.calendar import sessions_between
from bot.domain.people import NewCompanion
from storage.db import to_db
from tests.conftest import COORDINATOR_ID, hub_settings
from tests.seed_codesign import seed_codesign

HUB = "woking"
JOINED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SUMMARY_DUE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 09:00 in London (GMT)

# (name, role, companions as (name, age band, relationship))
PEOPLE: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    ("Anna", "family", [("Mia", "age_5_11", "child"), ("Leo", "under_5", "child")]),
    ("Bob", "participant", []),
    ("Cara", "carer", [("Rose", "older", "supported")]),
    ("Dev", "family", [("Sam", "age_12_15", "child")]),
    ("Eve", "volunteer", []),
    ("Finn", "participant", []),
    ("Gita", "family", [("Ravi", "age_5_11", "child")]),
    ("Hana", "volunteer", []),
    ("Ivan", "volunteer", []),
    ("Jo", "volunteer", []),
    ("Kemi", "participant", []),
    ("Lin", "participant", []),
    ("Omar", "volunteer", []),
]

TERM = {
    "Anna": "HHHSHHHHhH",
    "Bob": "HSHYHHHHLH",
    "Cara": "SHHH.HHMHS",
    "Dev": "HHNHYHAHHH",
    "Eve": "YHHHHHHYHH",
    "Finn": "H.H.H.H.HN",
    "Gita": "..HHHHHHHH",
    "Hana": "LSSHHHMHSL",
    "Ivan": "HHHHHHHHAA",
    "Jo": "HHHHHHHHHH",
    "Kemi": ".........m",
    "Lin": ".........M",
    "Omar": "HHHHHH....",
}
ON_BEHALF = {("Cara", 1), ("Cara", 2)}  # Cara answered for Rose in weeks 1 and 2
SUMMER = {"Anna": "H", "Bob": "Y", "Cara": "S"}  # 7 July
SHARING_YES = ("Anna", "Bob", "Lin")
NEXT_WEEK = {"Anna": "yes", "Cara": "yes", "Eve": "yes", "Lin": "yes", "Jo": "yes", "Kemi": "yes",
             "Bob": "maybe", "Hana": "maybe", "Dev": "no"}
NEXT_WEEK_WAITLISTED = ("Kemi",)

_CODES: dict[str, tuple[str | None, str | None, str | None, int]] = {
    # code: (rsvp answer, feeling, connected, absent)
    "H": ("yes", "happier", "yes", 0), "S": ("yes", "same", "a_little", 0),
    "L": ("yes", "less_happy", "not_really", 0), "h": ("yes", "happier", None, 0),
    "Y": ("yes", None, None, 0), "A": ("yes", None, None, 1), "M": ("maybe", None, None, 0),
    "m": ("maybe", "happier", "yes", 0), "N": ("no", None, None, 0), ".": (None, None, None, 0),
}

# Term measures, Autumn 2026: (member, answered_as, start values, end values); None = skipped.
ONS = ("ons_life_satisfaction", "ons_0_10"), ("ons_anxiety", "ons_anxiety_0_10")
UCLA = ("ucla_lack_companionship", "ucla_1_3"), ("ucla_left_out", "ucla_1_3"), ("ucla_isolated", "ucla_1_3")
MEASURES: list[tuple[str, str, str, tuple[int | None, ...], tuple[int | None, ...] | None]] = [
    ("ons4", "Anna", "self", (5, 6), (7, 4)),
    ("ons4", "Bob", "self", (6, 3), (6, 3)),
    ("ons4", "Dev", "self", (4, 7), (6, 5)),
    ("ons4", "Eve", "self", (7, 2), (8, 2)),
    ("ons4", "Hana", "with_support", (3, 8), (5, 6)),
    ("ons4", "Jo", "self", (7, 1), (8, 2)),
    ("ons4", "Ivan", "self", (7, 3), (None, 4)),
    ("ons4", "Omar", "self", (6, 4), None),
    ("ons4", "Cara", "on_behalf", (4, 5), (6, 3)),
    ("loneliness", "Anna", "self", (2, 2, 2), (1, 2, 1)),
    ("loneliness", "Bob", "self", (1, 1, 1), (1, 1, 1)),
    ("loneliness", "Dev", "self", (3, 2, 2), (2, 2, 2)),
    ("loneliness", "Eve", "self", (2, 1, 1), (1, 1, 1)),
    ("loneliness", "Hana", "with_support", (3, 3, 3), (2, 2, 3)),
    ("loneliness", "Jo", "self", (1, 2, 1), (1, 1, 1)),
]


def term_hub(**overrides: Any) -> HubSettings:
    """The Woking hub with the three terms and the two events of this seed."""
    base: dict[str, Any] = {
        "terms": [
            {"name": "Summer 2026", "start": "2026-07-01", "end": "2026-07-10"},
            {"name": "Autumn 2026", "start": "2026-09-15", "end": "2026-11-20"},
            {"name": "Winter 2026", "start": "2026-11-24", "end": "2026-12-18"},
        ],
        "events": [
            {"date": "2026-11-14", "start": "14:00", "kind": "sharing", "title": "Autumn sharing"},
            {"date": "2026-10-31", "start": "11:00", "kind": "event", "title": "Halloween songs"},
        ],
    }
    base.update(overrides)
    return hub_settings(**base)


@dataclass
class Seeded:
    members: dict[str, int] = field(default_factory=dict)  # first name -> member id
    companions: dict[str, int] = field(default_factory=dict)
    weeks: list[int] = field(default_factory=list)  # session ids of weeks 1..10
    summer: int = 0
    sharing: int = 0
    cancelled: int = 0
    next_week: int = 0
    questions: list[int] = field(default_factory=list)  # co-design questions (tests/seed_codesign.py)


async def seed_term(store: Any, hub: HubSettings) -> Seeded:
    """Write the term into an open store whose hubs are already synced (a running bot's, or sync_hubs first)."""
    seeded = Seeded()
    planned = sessions_between(hub, date(2026, 7, 1), date(2026, 12, 31))
    await store.sync_sessions(hub.id, planned, date(2026, 7, 1), date(2026, 12, 31), JOINED)
    by_date = {s.local_date: (await store.session_by_key(s.key)).id for s in planned}
    seeded.weeks = [by_date[date(2026, 9, 15) + timedelta(weeks=w)] for w in range(10)]
    seeded.summer, seeded.sharing = by_date[date(2026, 7, 7)], by_date[date(2026, 11, 14)]
    seeded.cancelled, seeded.next_week = by_date[date(2026, 10, 31)], by_date[date(2026, 11, 24)]
    await store.cancel_session(seeded.cancelled, "storm", datetime(2026, 10, 30, tzinfo=UTC))

    for number, (name, role, companions) in enumerate(PEOPLE):
        member = await store.complete_join(
            telegram_user_id=1001 + number, chat_id=1001 + number, first_name=name, language="en", role=role,
            hub_id=hub.id, consents={"contact": "v1", "wellbeing": "v1"},
            companions=[NewCompanion(*c) for c in companions], now=JOINED,
        )
        seeded.members[name] = member.id
        for companion in await store.companions_of(member.id):
            seeded.companions[companion.name] = companion.id

    await _answer(store, seeded, seeded.summer, {name: code for name, code in SUMMER.items()}, set())
    for week, session_id in enumerate(seeded.weeks, start=1):
        codes = {name: pattern[week - 1] for name, pattern in TERM.items()}
        await _answer(store, seeded, session_id, codes, {n for n, w in ON_BEHALF if w == week})
    await _registers(store, seeded)
    await _next_week(store, seeded)
    await _alerts(store, seeded)
    await _measures(store, seeded, hub.id)
    seeded.questions = await seed_codesign(store, hub.id, seeded.members)
    await _volunteering(store, seeded, hub.id)
    await _referrals(store, seeded, hub.id)
    return seeded


async def _answer(store: Any, seeded: Seeded, session_id: int, codes: dict[str, str], proxies: set[str]) -> None:
    """RSVPs through the Store; check-ins and the check-in messages that asked for them with SQL."""
    session = await store.session(session_id)
    for name, code in codes.items():
        answer, feeling, connected, absent = _CODES[code]
        member_id = seeded.members[name]
        if answer is None:
            continue
        await store.record_rsvp(session_id, member_id, answer, session.starts_at - timedelta(days=1))
        if answer == "no":
            continue
        asked = session.ends_at + timedelta(minutes=15)
        async with store.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO deliveries (kind, dedupe_key, member_id, chat_id, hub_id, session_id, due_at, state,"
                " attempts, sent_at, created_at) VALUES ('checkin', ?, ?, ?, ?, ?, ?, 'sent', 1, ?, ?)",
                (f"checkin:{session_id}:{member_id}", member_id, 1000 + member_id, HUB, session_id, to_db(asked),
                 to_db(asked), to_db(asked)),
            )
            if feeling is not None or absent:
                answered = to_db(asked + timedelta(minutes=5))
                await conn.execute(
                    "INSERT INTO checkins (session_id, hub_id, member_id, feeling, connected, absent, answered_as,"
                    " first_answered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (session_id, HUB, member_id, feeling, connected, absent,
                     "on_behalf" if name in proxies else "self", answered, answered),
                )


async def _registers(store: Any, seeded: Seeded) -> None:
    """Week 5, week 10 and the sharing event, taken with the Store's register methods."""
    week5, week10 = seeded.weeks[4], seeded.weeks[9]
    for session_id, absent, walk_ins in (
        (week5, ("Dev", "Sam"), [("Priya", "adult")]),
        (week10, ("Ravi",), [("Tia", "age_5_11"), ("Nell", None)]),
        (seeded.sharing, (), [("Joe", "older"), ("Ama", "adult"), ("Kit", "under_5"), ("Bea", None)]),
    ):
        session = await store.session(session_id)
        at = session.starts_at + timedelta(minutes=10)
        if session_id == seeded.sharing:
            for name in SHARING_YES:
                await store.record_rsvp(session_id, seeded.members[name], "yes", at - timedelta(days=2))
        register = await store.open_register(session_id, COORDINATOR_ID, at)
        for entry in register.entries:
            if entry.name in absent:
                assert entry.present, f"{entry.name} should have been expected"
                await store.toggle_attendance(entry.id, COORDINATOR_ID, at)
        for name, band in walk_ins:
            await store.add_walk_in(session_id, name, COORDINATOR_ID, at, age_band=band)
        await store.save_register(session_id, COORDINATOR_ID, at + timedelta(hours=1))


async def _next_week(store: Any, seeded: Seeded) -> None:
    when = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    for name, answer in NEXT_WEEK.items():
        await store.record_rsvp(seeded.next_week, seeded.members[name], answer, when)
    async with store.db.transaction() as conn:
        for name in NEXT_WEEK_WAITLISTED:
            await conn.execute("UPDATE rsvps SET waitlisted_at = ? WHERE session_id = ? AND member_id = ?",
                               (to_db(when), seeded.next_week, seeded.members[name]))


async def _alerts(store: Any, seeded: Seeded) -> None:
    """Hana's low check-in in week 1 and Bob's in week 9 (both acknowledged); in week 10 Hana asked to talk
    (not yet acknowledged) and her low check-in was acknowledged the next day."""
    rows = [
        ("Hana", 0, "low_checkin", True), ("Bob", 8, "low_checkin", True),
        ("Hana", 9, "talk_request", False), ("Hana", 9, "low_checkin", True),
    ]
    async with store.db.transaction() as conn:
        for name, week, trigger, acknowledged in rows:
            session = await store.session(seeded.weeks[week])
            raised = session.ends_at + timedelta(minutes=30)
            await conn.execute(
                "INSERT INTO alerts (hub_id, member_id, session_id, trigger, raised_at, acknowledged_at,"
                " acknowledged_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (HUB, seeded.members[name], session.id, trigger, to_db(raised),
                 to_db(raised + timedelta(hours=20)) if acknowledged else None,
                 COORDINATOR_ID if acknowledged else None),
            )


async def _measures(store: Any, seeded: Seeded, hub_id: str) -> None:
    start_at, end_at = datetime(2026, 9, 15, 12, tzinfo=UTC), datetime(2026, 11, 17, 12, tzinfo=UTC)
    async with store.db.transaction() as conn:
        for question_set, name, answered_as, start, end in MEASURES:
            items = ONS if question_set == "ons4" else UCLA
            for point, values, at in (("start", start, start_at), ("end", end, end_at)):
                if values is None:
                    continue
                cursor = await conn.execute(
                    "INSERT INTO measure_runs (member_id, hub_id, term, point, question_set, answered_as, position,"
                    " started_at, completed_at) VALUES (?, ?, 'Autumn 2026', ?, ?, ?, ?, ?, ?) RETURNING id",
                    (seeded.members[name], hub_id, point, question_set, answered_as, len(items), to_db(at),
                     to_db(at)),
                )
                run_id = (await cursor.fetchone())[0]
                await conn.executemany(
                    "INSERT INTO measure_answers (run_id, item, scale, value, skipped, answered_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [(run_id, item, scale, value, int(value is None), to_db(at))
                     for (item, scale), value in zip(items, values, strict=True)],
                )


VOLUNTEER_TASKS = [{"id": "welcome", "name": "Welcome desk"}, {"id": "tea", "name": "Tea and biscuits"}]
VOLUNTEER_STEPS = [{"id": "induction", "name": "Induction"}, {"id": "co_led", "name": "Co-led a session"},
                   {"id": "led", "name": "Led a session"}]
STEPS_TICKED = [("Jo", "induction"), ("Eve", "induction"), ("Hana", "induction"), ("Ivan", "induction"),
                ("Omar", "induction"), ("Jo", "co_led"), ("Eve", "co_led"), ("Jo", "led")]
STEP_AFTER_TERM = ("Hana", "co_led")
TASKS_TAKEN = [(9, "Jo", "tea"), (9, "Eve", "welcome"), (10, "Jo", "tea")]
REFERRALS = [("Woking Surgery link worker", ("Anna", "Bob", "Lin", "Kemi", "Finn")),
             ("Woking Surgery link worker", ("Gita",)),
             ("Community mental health team", ("Omar", "Hana"))]
REFERRAL_CONSENT = ("Anna",)


def volunteering_hub(**overrides: Any) -> HubSettings:
    """The term's hub with its volunteer tasks and Activator pathway configured."""
    return term_hub(volunteers={"tasks": VOLUNTEER_TASKS, "steps": VOLUNTEER_STEPS}, **overrides)


async def _volunteering(store: Any, seeded: Seeded, hub_id: str) -> None:
    ticked, after = datetime(2026, 9, 20, 12, tzinfo=UTC), datetime(2026, 11, 25, 12, tzinfo=UTC)
    for name, step in [*STEPS_TICKED, STEP_AFTER_TERM]:
        await store.toggle_step(seeded.members[name], hub_id, step, COORDINATOR_ID,
                                after if (name, step) == STEP_AFTER_TERM else ticked)
    for week, name, task in TASKS_TAKEN:
        session = await store.session(seeded.weeks[week - 1])
        assert await store.take_task(session.id, task, seeded.members[name], 1, session.starts_at - timedelta(days=2))


async def _referrals(store: Any, seeded: Seeded, hub_id: str) -> None:
    from storage.referrals import record_referral

    for organisation, names in REFERRALS:
        link = await store.create_referral_link(hub_id, organisation, COORDINATOR_ID, JOINED)
        async with store.db.transaction() as conn:
            for name in names:
                await record_referral(conn, seeded.members[name], link.id, hub_id, name in REFERRAL_CONSENT,
                                      "referral-notice-v1", JOINED)
