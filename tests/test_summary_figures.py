"""The summary's figures over the hand-made term of tests/seed_term.py, checked against numbers worked out by hand.

How the expected numbers were worked out (weeks 1 to 10; people = members and their companions):
  Present, person by person (1 = came):      Anna, Mia, Leo, Bob, Eve, Jo  1111111111 (10 each)
    Cara, Rose 1111011011 (8)   Dev, Sam 1101010111 (7; week 5 register: not there)   Finn 1010101010 (5)
    Gita 0011111111 (8)   Ravi 0011111110 (7; week 10 register: stayed home)   Hana 1111110111 (9)
    Ivan 1111111100 (8)   Kemi 0000000001 (1)   Omar 1111110000 (6)   Lin never came to a weekly session.
  People each week, walk-ins added: 14 13 14 15 12+1 15 12 12 14 13+2.
  Came again the next week: pairs of weeks both 1 = 9x6 + 5+5 + 3+3 + 0 + 7 + 6 + 7 + 7 + 5 = 102,
    over the 1s in weeks 1-9 = 134 - 13 = 121 -> 84%.
  Week-1 starters (14) back in week 10: Anna, Mia, Leo, Bob, Cara, Rose, Dev, Sam, Eve, Hana, Jo = 11 -> 79%.
  At least 8 of 10 weeks: Anna, Mia, Leo, Bob, Cara, Rose, Eve, Gita, Hana, Ivan, Jo = 11 of 17 -> 65%.
  Happier answers per week 7 7 9 8 9 10 8 7 7 7 = 79, of answers 9 9 10 9 9 10 8 7 9 9 = 89 -> 89%.
  More connected: 88 connected answers (Anna skipped it in week 9), 3 "Not really" -> 85 of 88 -> 97%.
  Asked per week 10 9 10 10 10 10 10 9 10 11 = 99; replies 9 9 10 9 9 10 9 7 10 10 = 92 -> 93%.
  Week 10 (17 November): Yes 9 (14 people), Maybe 2 (Kemi, Lin), No 1 (Finn); came 13 + Tia and Nell = 15;
    new: Kemi only; no-show: Ivan. Check-ins: 11 asked, 10 replied (91%); Happier 7, Same 1 (Cara),
    Less happy 1 (Hana), Could not come 1 (Ivan): 7 of 9 happier (78%), 8 of 9 more connected (89%).
  Follow-ups: Ivan missed weeks 9 and 10 but answered; Omar has not answered or come since week 6.
  Next week (24 November): Yes Anna (+Mia, Leo), Cara (+Rose), Eve, Lin, Jo = 5 with places: 6 adults,
    2 children; Kemi waiting; Maybe Bob, Hana; No Dev.
  Co-design (tests/seed_codesign.py): in the week, "Which day suits you for the winter party?" closed (Friday
    20 November) with Saturday 5, Sunday 2 of 7 answers: Sunday shows as <5 and so Saturday, the only other
    count, is not shown (7 - <5 would give it away); ideas from Hana and Eve = 2 (<5); the drumming question
    (asked Saturday 21 November) is still open on Monday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.calendar import sessions_between
from bot.messages.catalog import Catalog
from bot.reports.summary import Ratio, Render, WeekFigures, render_summary, split_message, summary_messages
from bot.reports.weekly_summary import Period, gather, latest_due, term_period, week_before, week_so_far
from storage import Store
from storage.presence import Window
from tests.seed_term import JOINED, SUMMARY_DUE, seed_term, term_hub

WEEK10 = [
    "📊 Woking Community Hub: the week of Monday 16 November to Sunday 22 November",
    "Numbers under 5 show as <5, so you can forward this message.",
    "",
    "Sessions",
    "Tuesday 17 November, 10:00: register taken",
    "Said Yes: 9 households (14 people). Maybe: <5 households. No: <5 households.",
    "Came: 15 people. Came before 12, first time <5, walk-ins <5.",
    "Said Yes but did not come: <5 households",
    "",
    "Check-ins",
    "Response rate: 91% (10 of 11 asked)",
    "Happier 7, About the same <5, Less happy <5, Could not come <5",
    "Happier leaving: 78% (7 of 9 answers)",
    "More connected: 89% (8 of 9 answers)",
    "",
    "Co-design",
    "Which day suits you for the winter party? (7 answered)",
    "• Saturday: not shown",
    "• Sunday: <5",
    "Ideas from members: <5",
    "Questions still open: 1",
    "",
    "Term so far: Autumn 2026, 10 weeks",
    "Happier leaving: 89% (79 of 89 answers)",
    "More connected: 97% (85 of 88 answers)",
    "Came again the next week: 84% (102 of 121)",
    "Week 1 starters who came in week 10: 79% (11 of 14)",
    "Came to at least 8 of 10 weeks: 65% (11 of 17 people)",
    "",
    "The check-in is one quick question, not a validated wellbeing scale.",
]
PRIVATE = [
    "🔒 For you only. Please do not forward this message.",
    "",
    "Less happy answers: 1",
    "Safeguarding alerts: 2 raised, 1 acknowledged. Still waiting: 1.",
    "",
    "Please get in touch with:",
    "• Ivan: missed the last two sessions",
    "• Omar: has gone quiet",
    "",
    "Coming up in the next 7 days",
    "Tuesday 24 November, 10:00: Yes 5 households, 8 people (6 adults, 2 children). Maybe 2 households."
    " No 1 household. Waiting list 1 household.",
]


@pytest.fixture
async def term(tmp_path):
    hub = term_hub()
    async with Store(tmp_path / "term.sqlite3") as store:
        await store.sync_hubs([hub], JOINED)
        seeded = await seed_term(store, hub)
        yield store, hub, seeded


async def test_week_ten_summary_matches_the_hand_worked_figures(term):
    store, hub, _ = term
    figures = await gather(store, hub, week_before(date(2026, 11, 23)), SUMMARY_DUE, so_far=False)
    public, private = summary_messages(figures, Catalog.load())
    assert public.split("\n") == WEEK10
    assert private.split("\n") == PRIVATE


async def test_the_counts_under_the_summary_are_exact(term):
    store, hub, seeded = term
    window = week_before(date(2026, 11, 23)).window(hub, SUMMARY_DUE)
    _, term_days = term_period(hub, date(2026, 11, 22))
    term_window = term_days.window(hub, SUMMARY_DUE)
    async with store.attendance_snapshot(Window(hub.id, term_window.start, window.end, SUMMARY_DUE,
                                                term_window.anchor)) as snapshot:
        [week10] = await snapshot.session_tallies(window)
        weeks = await snapshot.week_tallies(term_window)
        back = await snapshot.return_tally(term_window)
    assert (week10.session_id, week10.register_taken) == (seeded.weeks[9], True)
    assert (week10.yes, week10.yes_people, week10.maybe, week10.no) == (9, 14, 2, 1)
    assert (week10.attended, week10.returning, week10.new, week10.walk_ins, week10.no_shows) == (15, 12, 1, 2, 1)
    [checkins] = await store.checkin_tallies(window)
    assert (checkins.asked, checkins.responses, checkins.happier, checkins.same, checkins.less_happy,
            checkins.absent) == (11, 10, 7, 1, 1, 1)
    assert (checkins.connected_yes, checkins.connected_little, checkins.connected_not) == (7, 1, 1)

    assert [w.attended for w in weeks] == [14, 13, 14, 15, 13, 15, 12, 12, 14, 15]
    assert [w.happier for w in weeks] == [7, 7, 9, 8, 9, 10, 8, 7, 7, 7]
    assert [w.answers for w in weeks] == [9, 9, 10, 9, 9, 10, 8, 7, 9, 9]
    assert weeks[0].first_day == date(2026, 9, 15) and weeks[9].first_day == date(2026, 11, 17)
    assert (back.weeks, back.next_week_back, back.next_week_of) == (10, 102, 121)
    assert (back.starters, back.last_week, back.starters_back) == (14, 10, 11)
    assert (back.span, back.need, back.regulars, back.people) == (10, 8, 11, 17)
    alerts = await store.alert_tally(hub.id, window.start, window.end)
    assert (alerts.raised, alerts.acknowledged, alerts.talk_requests, alerts.low_checkins, alerts.open_now) == (
        2, 1, 1, 1, 1)


async def test_new_and_returning_look_back_before_the_span_counted(term):
    """Counted over week 10 alone, everyone but Kemi was seen before, in earlier weeks or in July."""
    store, hub, _ = term
    window = week_before(date(2026, 11, 23)).window(hub, SUMMARY_DUE)
    async with store.attendance_snapshot(window) as snapshot:
        [week10] = await snapshot.session_tallies(window)
    assert (week10.returning, week10.new) == (12, 1)
    september = Period(date(2026, 9, 15), date(2026, 9, 21)).window(hub, SUMMARY_DUE)
    async with store.attendance_snapshot(september) as snapshot:
        [week1] = await snapshot.session_tallies(september)
    assert (week1.attended, week1.returning, week1.new) == (14, 6, 8)  # back from 7 July: Anna, Mia, Leo, Bob,
    # Cara, Rose


async def test_week_nine_has_no_register_so_attendance_is_inferred(term):
    store, hub, _ = term
    figures = await gather(store, hub, week_before(date(2026, 11, 16)), SUMMARY_DUE, so_far=False)
    public, _private = summary_messages(figures, Catalog.load())
    lines = public.split("\n")
    start = lines.index("Sessions")
    assert lines[start + 1:start + 10] == [
        "Tuesday 10 November, 10:00: no register, worked out from RSVPs and check-ins",
        "Said Yes: 10 households (15 people). Maybe: 0 households. No: 0 households.",
        "Came: 14 people. Came before 14, first time 0, walk-ins 0.",
        "Said Yes but did not come: <5 households",
        "Saturday 14 November, 14:00 (Autumn sharing): register taken",
        "Said Yes: <5 households (5 people). Maybe: 0 households. No: 0 households.",
        "Came: 9 people. Came before <5, first time <5, walk-ins <5.",
        "Said Yes but did not come: 0 households",
        "",
    ]
    assert "Term so far: Autumn 2026, 9 weeks" in lines


async def test_this_week_so_far_on_a_wednesday(term):
    store, hub, _ = term
    wednesday = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    period = week_so_far(hub, wednesday)
    assert period == Period(date(2026, 11, 16), date(2026, 11, 18))
    figures = await gather(store, hub, period, wednesday, so_far=True)
    public, private = summary_messages(figures, Catalog.load())
    assert public.startswith("📊 Woking Community Hub: this week so far, Monday 16 November to Wednesday 18 November")
    assert "Came: 15 people. Came before 12, first time <5, walk-ins <5." in public
    assert "Tuesday 24 November, 10:00: Yes 5 households, 8 people (6 adults, 2 children)" in private


def test_the_summary_is_due_at_the_hubs_local_time_across_the_clock_change():
    hub = term_hub(weekly_summary={"weekday": "monday", "at": "09:00"})
    assert latest_due(hub, datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert latest_due(hub, datetime(2026, 11, 23, 8, 59, tzinfo=UTC)) == datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    # In British Summer Time 09:00 in London is 08:00 UTC.
    assert latest_due(hub, datetime(2026, 10, 19, 8, 0, tzinfo=UTC)) == datetime(2026, 10, 19, 8, 0, tzinfo=UTC)
    friday = term_hub(weekly_summary={"weekday": "friday", "at": "17:30"})
    assert latest_due(friday, datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) == datetime(2026, 11, 20, 17, 30,
                                                                                     tzinfo=UTC)
    assert week_before(date(2026, 11, 20)) == Period(date(2026, 11, 13), date(2026, 11, 19))


def test_percentages_round_half_up_and_small_cells_are_hidden():
    assert [Ratio(1, 8).percent, Ratio(1, 3).percent, Ratio(2, 3).percent, Ratio(0, 0).percent] == [13, 33, 67, None]
    texts = Catalog.load()
    forward, private = Render(texts, "en", forwardable=True), Render(texts, "en", forwardable=False)
    assert [forward.count(n) for n in (0, 1, 4, 5)] == ["0", "<5", "<5", "5"]
    assert [private.count(n) for n in (0, 1, 4, 5)] == ["0", "1", "4", "5"]
    assert forward.ratio(Ratio(4, 20)) == "not shown (fewer than 5)"
    assert forward.ratio(Ratio(4, 4)) == "not shown (fewer than 5)"
    assert forward.ratio(Ratio(0, 6)) == "0% (0 of 6)"
    assert forward.ratio(Ratio(0, 0)) == "no answers yet"
    assert private.ratio(Ratio(4, 20)) == "20% (4 of 20)"


def test_a_lone_hidden_count_takes_another_with_it_so_subtraction_cannot_reveal_it():
    forward = Render(Catalog.load(), "en", forwardable=True)
    assert forward.counts([7, 1, 0]) == ["7", "<5", "<5"]  # 0 shown as <5: true, and hides the 1
    assert forward.counts([7, 1, 6]) == ["7", "<5", "not shown"]
    assert forward.counts([7, 1, 2]) == ["7", "<5", "<5"]
    assert forward.counts([7, 8, 9]) == ["7", "8", "9"]


def test_long_summaries_split_on_line_boundaries():
    lines = [f"• Person {n}: has gone quiet" for n in range(400)]
    pieces = split_message("\n".join(lines), limit=4096)
    assert len(pieces) > 2 and all(len(piece) <= 4096 for piece in pieces)
    assert "\n".join(pieces).split("\n") == lines
    assert split_message("short") == ["short"]
    assert split_message("x" * 5000, limit=4096) == ["x" * 4096, "x" * 904]


async def test_new_and_returning_look_back_before_the_window(term):
    """Whether someone at last week's session came before is asked of the whole history, not only the window."""
    store, hub, _ = term
    window = week_before(date(2026, 11, 23)).window(hub, SUMMARY_DUE)
    async with store.attendance_snapshot(window) as snapshot:
        [week10] = await snapshot.session_tallies(window)
        reach = await snapshot.reach_tally(window)
    assert (week10.returning, week10.new) == (12, 1)
    assert (reach.returning, reach.new) == (12, 1)


async def test_a_quiet_week_at_a_hub_without_terms_still_makes_a_short_clear_summary(tmp_path):
    hub = term_hub(terms=[], events=[])
    async with Store(tmp_path / "empty.sqlite3") as store:
        await store.sync_hubs([hub], JOINED)
        figures = await gather(store, hub, week_before(date(2026, 11, 23)), SUMMARY_DUE, so_far=False)
        public, private = summary_messages(figures, Catalog.load())
    assert "No sessions were held." in public and "Nobody was asked to check in." in public
    assert "Term so far" not in public and figures.term_weeks == []
    assert "Nobody needs a follow-up." in private and "No sessions in the next 7 days." in private
    assert "Safeguarding alerts: 0 raised, 0 acknowledged. Still waiting: 0." in private


# ---------------------------------------------------------------- issue 15 item 7: the summary's wording

def _first_week(**changes) -> WeekFigures:
    from storage.reports import AlertTally
    from storage.snapshot import HeldSessionTally, ReturnTally

    held = HeldSessionTally(session_id=1, kind="weekly", title="", starts_at=datetime(2026, 11, 17, 10, tzinfo=UTC),
                            local_date=date(2026, 11, 17), register_taken=True, yes=0, maybe=0, no=0, yes_people=0,
                            attended=1, walk_ins=1, new=0, returning=0, no_shows=0)
    values = dict(hub_name="Woking Community Hub", timezone="Europe/London", first_day=date(2026, 11, 16),
                  last_day=date(2026, 11, 22), so_far=False, sessions=[held], checkins=[], term_name="Autumn 2026",
                  term_weeks=[], term_checkins=[],
                  returns=ReturnTally(weeks=1, next_week_back=0, next_week_of=0, starters=1, last_week=1,
                                      starters_back=0, span=1, need=1, regulars=0, people=1),
                  follow_ups=[], upcoming=[], alerts=AlertTally(0, 0, 0, 0, 0, 0))
    return WeekFigures(**{**values, **changes})


def test_a_first_time_walk_in_is_not_shown_as_returning_and_one_week_is_one_week():
    public, _ = render_summary(_first_week(), Catalog.load())
    assert "Came: <5 people. Came before 0, first time 0, walk-ins <5." in public.split("\n")
    assert "Term so far: Autumn 2026, 1 week" in public.split("\n")
    assert "weeks" not in public


def test_no_follow_up_heading_over_nobody():
    _, private = render_summary(_first_week(), Catalog.load())
    assert "Nobody needs a follow-up." in private and "Please get in touch with:" not in private
    from storage.snapshot import FollowUp
    _, private = render_summary(_first_week(follow_ups=[FollowUp(1, "Omar", "quiet")]), Catalog.load())
    assert "Please get in touch with:\n• Omar: has gone quiet" in private and "Nobody needs" not in private


async def test_a_cancelled_week_says_the_session_was_cancelled(tmp_path):
    hub = term_hub(terms=[], events=[])
    async with Store(tmp_path / "cancelled.sqlite3") as store:
        await store.sync_hubs([hub], JOINED)
        first, last = date(2026, 11, 1), date(2026, 11, 30)
        await store.sync_sessions(hub.id, sessions_between(hub, first, last), first, last, JOINED,
                                  change_notice="session_changed")
        [tuesday] = await store.sessions_of_hub(hub.id, datetime(2026, 11, 16, tzinfo=UTC),
                                                datetime(2026, 11, 23, tzinfo=UTC))
        await store.cancel_session_telling(tuesday.id, "The hall flooded", datetime(2026, 11, 16, 9, tzinfo=UTC),
                                           notice_kind="session_cancelled", expires_at=tuesday.ends_at)
        figures = await gather(store, hub, week_before(date(2026, 11, 23)), SUMMARY_DUE, so_far=False)
        public, _ = summary_messages(figures, Catalog.load())
    lines = public.split("\n")
    assert "No sessions were held this week." in lines
    assert "Tuesday 17 November, 10:00: cancelled" in lines
    assert "The hall flooded" not in public  # a reason may name someone; this part may be forwarded
async def test_the_co_design_counts_under_the_summary_and_report_are_exact(term):
    """The seeded questions and ideas (tests/seed_codesign.py), counted by hand, before any suppression."""
    store, hub, seeded = term
    window = week_before(date(2026, 11, 23)).window(hub, SUMMARY_DUE)
    [party] = await store.closed_question_tallies(hub.id, window.start, window.end)
    assert (party.question.id, party.counts, party.answered, party.question.recipients) == (
        seeded.questions[1], (5, 2), 7, 13)
    term_window = Period(date(2026, 9, 1), date(2026, 11, 22)).window(hub, SUMMARY_DUE)
    songs, again = await store.closed_question_tallies(hub.id, term_window.start, term_window.end)
    assert (songs.question.text, songs.counts, songs.answered) == ("What shall we sing at the sharing?", (6, 1, 5), 12)
    assert again == party
    assert await store.codesign_people(hub.id, term_window.start, term_window.end) == 13
    assert await store.idea_count(hub.id, window.start, window.end) == (2, 2)
    assert await store.idea_count(hub.id, term_window.start, term_window.end) == (3, 2)
    assert await store.open_question_count(hub.id, SUMMARY_DUE) == 1
    assert await store.open_question_count(hub.id, datetime(2026, 11, 18, 12, 0, tzinfo=UTC)) == 1  # the party
    bob = seeded.members["Bob"]
    assert await store.member_answer(seeded.questions[0], bob) == 0  # Sea shanties, then changed to Beatles songs
