"""The term page's new and returning people: the term's distinct people, hand-checked, small numbers suppressed.

A small Camden hub (Thursdays 16:00, London): Summer 2026 (July) and Autumn 2026 (1 September to 18 December).
Everyone joined on 1 June; a Yes with no check-in is someone who came (storage/presence.py).

  Thursday 16 July (Summer):   Pat, Quinn, Rhys, Sue, Tom, Xena
  Thursday 3 September:        Pat, Quinn, Rhys, Sue, Tom, Uma with her daughter Ada; Xena said No
  Thursday 10 September:       Pat (again), Val, Wes
  Thursday 17 September:       Yan, Zoe

So on Tuesday 8 September the term has 7 people: returning (seen before 1 September) Pat, Quinn, Rhys, Sue and
Tom = 5; new Uma and Ada = 2, under 5, so "<5", and returning hidden too ("not shown"), since 7 - 5 would give
the 2 away. On Wednesday 18 November: returning 5, new Uma, Ada, Val, Wes, Yan, Zoe = 6, 11 people (Pat counted
once; Xena, seen only before the term, not at all). Then Xena says Yes to 17 September: returning 6, 12 people,
on the next view (the figures cache follows the database).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from bot.domain.calendar import sessions_between
from bot.domain.people import NewCompanion
from tests.conftest import COORDINATOR_ID, OTHER_COORDINATOR_ID
from tests.dashboard_support import client, dashboard_bot, sign_in
from tests.seed_term import JOINED
from tests.test_coordinator_commands import WEDNESDAY

CAMDEN_TERMS = {"terms": [{"name": "Summer 2026", "start": "2026-07-01", "end": "2026-07-31"},
                          {"name": "Autumn 2026", "start": "2026-09-01", "end": "2026-12-18"}]}
TUESDAY_8_SEPTEMBER = datetime(2026, 9, 8, 12, 0, tzinfo=UTC)
CAME = {date(2026, 7, 16): ("Pat", "Quinn", "Rhys", "Sue", "Tom", "Xena"),
        date(2026, 9, 3): ("Pat", "Quinn", "Rhys", "Sue", "Tom", "Uma"),
        date(2026, 9, 10): ("Pat", "Val", "Wes"),
        date(2026, 9, 17): ("Yan", "Zoe")}
SAID_NO = {date(2026, 9, 3): ("Xena",)}
PEOPLE = ("Pat", "Quinn", "Rhys", "Sue", "Tom", "Uma", "Val", "Wes", "Xena", "Yan", "Zoe")


async def seed_camden(store, hub) -> tuple[dict[str, int], dict[date, int]]:
    planned = sessions_between(hub, date(2026, 7, 1), date(2026, 12, 31))
    await store.sync_sessions(hub.id, planned, date(2026, 7, 1), date(2026, 12, 31), JOINED)
    sessions = {s.local_date: (await store.session_by_key(s.key)).id for s in planned}
    members = {}
    for number, name in enumerate(PEOPLE):
        member = await store.complete_join(
            telegram_user_id=3001 + number, chat_id=3001 + number, first_name=name, language="en",
            role="family" if name == "Uma" else "participant", hub_id=hub.id,
            consents={"contact": "v1", "wellbeing": "v1"},
            companions=[NewCompanion("Ada", "age_5_11", "child")] if name == "Uma" else [], now=JOINED)
        members[name] = member.id
    for day, names in CAME.items():
        for name in names:
            await store.record_rsvp(sessions[day], members[name], "yes", JOINED + timedelta(days=1))
    for day, names in SAID_NO.items():
        for name in names:
            await store.record_rsvp(sessions[day], members[name], "no", JOINED + timedelta(days=1))
    return members, sessions


async def term_line(http, bot) -> str:
    async with http.get(f"{bot.base}/dashboard/h/camden/term") as response:
        assert response.status == 200
        page = await response.text()
    lines = re.findall(r"<li>(People who came this term: [^<]*)</li>", page)
    assert len(lines) == 1, page
    return lines[0]


async def test_the_term_page_counts_the_terms_new_and_returning_people(start_bot, api, db_path, clock):
    bot = await dashboard_bot(start_bot, api, db_path, clock, camden=CAMDEN_TERMS)
    camden = bot.services.hub("camden")
    members, sessions = await seed_camden(bot.store, camden)

    clock.set(TUESDAY_8_SEPTEMBER)
    async with client() as http:
        assert (await sign_in(http, bot, OTHER_COORDINATOR_ID, hub="camden"))[0] == 200
        assert await term_line(http, bot) == ("People who came this term: 7. Returning (came before the term began):"
                                              " not shown. New this term: &lt;5.")

    clock.set(WEDNESDAY)
    async with client() as http:
        assert (await sign_in(http, bot, OTHER_COORDINATOR_ID, hub="camden"))[0] == 200
        expected = "People who came this term: 11. Returning (came before the term began): 5. New this term: 6."
        assert await term_line(http, bot) == expected
        assert await term_line(http, bot) == expected  # the second view, from the figures cache
        await bot.store.record_rsvp(sessions[date(2026, 9, 17)], members["Xena"], "yes", WEDNESDAY)
        assert await term_line(http, bot) == ("People who came this term: 12. Returning (came before the term"
                                              " began): 6. New this term: 6.")

    async with client() as http:  # in the coordinator's language, right to left
        assert (await sign_in(http, bot, OTHER_COORDINATOR_ID, hub="camden", language="ar"))[0] == 200
        async with http.get(f"{bot.base}/dashboard/h/camden/term") as response:
            page = await response.text()
        assert '<html lang="ar" dir="rtl">' in page
        plain = re.sub("[\u200f\u2068\u2069]", "", page)  # the catalog's direction marks around the text and numbers
        assert ("<li>الأشخاص الذين جاؤوا هذا الفصل: 12. العائدون (جاؤوا قبل بدء الفصل): 6."
                " الجدد هذا الفصل: 6.</li>") in plain


async def test_the_term_figure_is_the_weekly_summarys_and_the_funder_reports(start_bot, api, db_path, clock):
    """The page's figure is `gather_term`'s (the summary's term figures with the term's people, which the summary
    itself leaves out), and counts people as the funder report does."""
    from bot.reports.funder_report import gather_report
    from bot.reports.weekly_summary import gather, gather_term, term_period, week_so_far

    bot = await dashboard_bot(start_bot, api, db_path, clock, camden=CAMDEN_TERMS)
    camden = bot.services.hub("camden")
    await seed_camden(bot.store, camden)
    now = bot.services.clock.now()
    figures = await gather_term(bot.store, camden, week_so_far(camden, now), now)
    report = await gather_report(bot.store, camden, term_period(camden, now.date())[1], now)
    assert (figures.reach.returning, figures.reach.new) == (5, 6)
    assert (report.reach.returning, report.reach.new) == (5, 6)
    # and its term figures are the weekly summary's
    summary = await gather(bot.store, camden, week_so_far(camden, now), now, so_far=True)
    assert (figures.name, figures.weeks, figures.returns) == (summary.term_name, summary.term_weeks, summary.returns)
    assert list(figures.checkins) == list(summary.term_checkins)


async def test_the_seeded_woking_term_counted_by_hand(start_bot, api, db_path, clock):
    """tests/seed_term.py: Autumn 2026 so far (Wednesday 18 November) had all 13 members and the 5 companions
    their answers brought (Mia, Leo, Rose, Sam, Ravi): 18 people. Returning: the Summer session's Anna, Bob and
    Cara with Mia, Leo and Rose = 6; new: the other 10 members with Sam and Ravi = 12. Walk-ins are visits."""
    bot = await dashboard_bot(start_bot, api, db_path, clock)
    async with client() as http:
        assert (await sign_in(http, bot, COORDINATOR_ID))[0] == 200
        async with http.get(f"{bot.base}/dashboard/h/woking/term") as response:
            page = await response.text()
    assert ("<li>People who came this term: 18. Returning (came before the term began): 6. New this term: 12.</li>"
            in page)
