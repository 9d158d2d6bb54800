"""Volunteers and referrals in the weekly summary and the report's tallies, over the hand-made term of
tests/seed_term.py (issue 17), checked against numbers worked out by hand.

Week 10 (16 to 22 November): the saved register of Tuesday 17 November ticks the volunteers Jo, Eve and Hana
(Ivan could not come, Omar did not answer): 3 active, 3 x 90 minutes = 4.5 hours, hidden with the count (1 to 4).
Steps by Monday 23 November: induction 5, co-led 2 (Hana's co-led is ticked on 25 November), led 1.
Term (1 September to 22 November): 5 active, 12 hours; see tests/test_report.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.messages.catalog import Catalog
from bot.reports.summary import summary_messages
from bot.reports.weekly_summary import gather, week_before
from storage import Store
from tests.seed_term import JOINED, SUMMARY_DUE, seed_term, term_hub, volunteering_hub

VOLUNTEER_LINES = [
    "Volunteers",
    "Active volunteers: <5. Hours: not shown",
    "Pathway, people who have done each step:",
    "Induction: 5",
    "Co-led a session: <5",
    "Led a session: <5",
]


@pytest.fixture
async def store(tmp_path):
    hub = volunteering_hub()
    async with Store(tmp_path / "term.sqlite3") as store:
        await store.sync_hubs([hub], JOINED)
        store.seeded = await seed_term(store, hub)
        yield store


async def test_week_ten_summary_shows_volunteers_with_small_numbers_hidden(store):
    figures = await gather(store, volunteering_hub(), week_before(date(2026, 11, 23)), SUMMARY_DUE, so_far=False)
    public, private = summary_messages(figures, Catalog.load())
    lines = public.split("\n")
    start = lines.index("Volunteers")
    assert lines[start:start + len(VOLUNTEER_LINES)] == VOLUNTEER_LINES
    assert "Volunteers" not in private


async def test_a_hub_without_volunteering_set_up_shows_no_volunteer_lines(store):
    figures = await gather(store, term_hub(), week_before(date(2026, 11, 23)), SUMMARY_DUE, so_far=False)
    assert "Volunteers" not in summary_messages(figures, Catalog.load())[0]


async def test_the_volunteer_and_referral_tallies_are_exact(store):
    week = await store.volunteer_tally("woking", datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC),
                                       ["induction", "co_led", "led"])
    assert (week.volunteers, week.active, week.minutes) == (5, 3, 270)
    assert week.at_step == {"induction": 5, "co_led": 2, "led": 1}
    term = await store.volunteer_tally("woking", datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC),
                                       ["induction", "co_led", "led"])
    assert (term.active, term.minutes) == (5, 720)
    later = await store.volunteer_tally("woking", datetime(2026, 11, 23, tzinfo=UTC),
                                        datetime(2026, 11, 30, tzinfo=UTC), ["co_led"])
    assert later.at_step == {"co_led": 3} and later.active == 0  # Hana's step of 25 November; no register yet
    referrals = await store.referral_tallies("woking", datetime(2026, 9, 1, tzinfo=UTC),
                                             datetime(2026, 11, 23, tzinfo=UTC))
    assert [(r.organisation, r.referred, r.came_once, r.came_three) for r in referrals] == [
        ("Community mental health team", 2, 2, 0), ("Woking Surgery link worker", 6, 6, 2)]
    # Only week 10 counted: Anna, Bob, Kemi, Gita came (Lin and Finn did not); Hana came, Omar did not.
    week10 = await store.referral_tallies("woking", datetime(2026, 11, 16, tzinfo=UTC),
                                          datetime(2026, 11, 23, tzinfo=UTC))
    assert [(r.referred, r.came_once, r.came_three) for r in week10] == [(2, 1, 0), (6, 4, 0)]
