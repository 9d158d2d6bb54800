"""The weekly summary job: which week, gathering its figures, and the ledger rows that carry it.

Each hub's coordinators get last week's summary at the hub's `weekly_summary` weekday and time (hub-local).
The planner adds, per hub, coordinator and ISO week, a fixed set of ledger rows (the forwardable text, the
private text, a spare for each should either need splitting, and the chart), so a restart or downtime neither
repeats nor loses one: the dedupe keys make planning idempotent, and a summary missed while the bot was down
is sent when it comes back, unless it is more than EXPIRES old. Rows are rendered at send time; a spare that
is not needed renders to nothing and is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from bot.config import WEEKDAYS, HubSettings
from bot.domain.calendar import local_instant
from bot.reports.charts import ChartWords, attendance_chart, off_process
from bot.reports.summary import WeekFigures
from storage.presence import Window

if TYPE_CHECKING:
    from bot.messages.catalog import Catalog
    from storage import Store
    from storage.reports import CheckinTally
    from storage.snapshot import ReachTally, ReturnTally, WeekTally

log = logging.getLogger(__name__)

KIND = "weekly_summary"
FOLLOW_UP_WEEKS = 10


@dataclass(frozen=True, slots=True)
class Period:
    """Local days first..last (inclusive) of one hub."""

    first: date
    last: date

    def window(self, hub: HubSettings, now: datetime) -> Window:
        return Window(hub.id, local_instant(self.first, time(0), hub),
                      local_instant(self.last + timedelta(days=1), time(0), hub), now,
                      self.first - timedelta(days=self.first.weekday()))


def latest_due(hub: HubSettings, now: datetime) -> datetime:
    """The most recent moment (at or before now) this hub's weekly summary was due."""
    local_today = now.astimezone(hub.tz).date()
    target = WEEKDAYS.index(hub.weekly_summary.weekday)
    day = local_today - timedelta(days=(local_today.weekday() - target) % 7)
    due = local_instant(day, hub.weekly_summary.at, hub)
    return due if due <= now else local_instant(day - timedelta(days=7), hub.weekly_summary.at, hub)


def week_before(due_day: date) -> Period:
    """The seven days before the summary's day: Monday to Sunday for the default Monday summary."""
    return Period(due_day - timedelta(days=7), due_day - timedelta(days=1))


def week_so_far(hub: HubSettings, now: datetime) -> Period:
    """From the start of the summary week (the summary weekday) to today, in the hub's time zone."""
    today = now.astimezone(hub.tz).date()
    target = WEEKDAYS.index(hub.weekly_summary.weekday)
    return Period(today - timedelta(days=(today.weekday() - target) % 7), today)


def term_period(hub: HubSettings, last: date) -> tuple[str, Period] | None:
    """The term that last started on or before `last`, cut at `last`; None for a hub without terms."""
    started = [term for term in hub.terms if term.start <= last]
    if not started:
        return None
    term = max(started, key=lambda t: t.start)
    return term.name, Period(term.start, min(term.end, last))


async def gather(store: Store, hub: HubSettings, period: Period, now: datetime, *, so_far: bool) -> WeekFigures:
    """Every count the summary shows: who came worked out once for the whole span, then GROUP BY queries."""
    week = period.window(hub, now)
    term = term_period(hub, period.last)
    term_window = term[1].window(hub, now) if term else None
    follow = Period(period.last - timedelta(weeks=FOLLOW_UP_WEEKS) + timedelta(days=1), period.last).window(hub, now)
    first = min(w.start for w in (week, term_window, follow) if w is not None)
    span = Window(hub.id, first, week.end, now, week.anchor)
    checkins = await store.checkin_tallies(span)
    async with store.attendance_snapshot(span) as snapshot:
        sessions = await snapshot.session_tallies(week)
        term_weeks = await snapshot.week_tallies(term_window) if term_window else []
        returns = await snapshot.return_tally(term_window) if term_window else None
        follow_ups = await snapshot.follow_ups(follow)
    return WeekFigures(
        hub_name=hub.name,
        timezone=hub.timezone,
        first_day=period.first,
        last_day=period.last,
        so_far=so_far,
        sessions=sessions,
        checkins=[c for c in checkins if week.start <= c.starts_at < week.end],
        term_name=term[0] if term else None,
        term_weeks=term_weeks,
        term_checkins=[c for c in checkins if term_window and term_window.start <= c.starts_at < term_window.end],
        returns=returns,
        follow_ups=follow_ups,
        upcoming=await store.upcoming_tallies(hub.id, now, now + timedelta(days=7)),
        alerts=await store.alert_tally(hub.id, week.start, week.end),
        cancelled=[s for s in await store.sessions_of_hub(hub.id, week.start, min(week.end, now)) if s.cancelled],
        codesign=await store.closed_question_tallies(hub.id, week.start, week.end),
        ideas=(await store.idea_count(hub.id, week.start, week.end))[0],
        open_questions=await store.open_question_count(hub.id, min(now, week.end)),  # at the week's end
        volunteers=await store.volunteer_tally(hub.id, week.start, week.end,
                                               [step.id for step in hub.volunteers.steps])
        if hub.volunteers.configured else None,
        step_names=tuple((step.id, step.name) for step in hub.volunteers.steps),
    )


@dataclass(frozen=True, slots=True)
class TermFigures:
    """The term so far as the dashboard's term page shows it: the summary's term figures (weeks, check-ins, return
    measures) and the term's people, new and returning (as the funder report counts them)."""

    name: str | None
    weeks: Sequence[WeekTally]
    checkins: Sequence[CheckinTally]
    returns: ReturnTally | None
    reach: ReachTally | None


async def gather_term(store: Store, hub: HubSettings, period: Period, now: datetime) -> TermFigures:
    """The term that `period` ends in, counted alone: the same storage methods as `gather`'s term figures, over a
    snapshot of the term only (the summary's week and its follow-ups' ten weeks are not on the term page)."""
    term = term_period(hub, period.last)
    if term is None:
        return TermFigures(None, (), (), None, None)
    window = term[1].window(hub, now)
    checkins = await store.checkin_tallies(window)
    async with store.attendance_snapshot(window) as snapshot:
        weeks = await snapshot.week_tallies(window)
        returns = await snapshot.return_tally(window)
        reach = await snapshot.reach_tally(window)
    return TermFigures(term[0], weeks, checkins, returns, reach)


def chart_words(figures: WeekFigures, texts: Catalog, lang: str = "en") -> ChartWords:
    def t(key: str, **values: Any) -> str:
        return texts.get(f"summary.{key}", lang, **values)

    return ChartWords(
        title=t("chart_title", hub=figures.hub_name, period=figures.term_name or ""),
        attended=t("chart_attended"), happier=t("chart_happier"), week=t("chart_week"), people=t("chart_people"),
        percent=t("chart_percent"), hidden=t("small"), empty=t("chart_empty"),
    )


def chart_png(figures: WeekFigures, texts: Catalog, lang: str = "en") -> bytes:
    return attendance_chart(figures.term_weeks, chart_words(figures, texts, lang), forwardable=True, lang=lang)


async def draw_chart_png(figures: WeekFigures, texts: Catalog, lang: str = "en") -> bytes:
    """chart_png in the drawing process: the event loop (and its GIL) stays free for taps meanwhile."""
    return await off_process(attendance_chart, list(figures.term_weeks), chart_words(figures, texts, lang),
                             forwardable=True, lang=lang)
