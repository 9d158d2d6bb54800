"""What each dashboard page shows, taken from the functions the chat and the reports use.

- today: /sessions' `upcoming_sessions` and `session_tallies` (Yes / Maybe / No, households, waiting list);
- term: the weekly summary's term figures (`gather_term`: weeks, check-ins, returns, and the term's new and
  returning people as the funder report counts them), words and suppression from its `Render`;
- follow-ups: the weekly summary's follow-ups (its window and query), with the "contacted" marks;
- register: the chat /register's queries (`sessions_for_register`, `open_register`, `register`, ...);
- alerts: open safeguarding alerts, acknowledged as from the chat's button;
- downloads: /export's `export_files` and the funder report (`gather_report`, `render_report`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.config import HubSettings
from bot.dashboard.auth import Visitor
from bot.dashboard.svg import SvgWords, term_chart
from bot.domain.sessions import Session
from bot.messages.i18n import format_clock, format_day, long_date
from bot.reports.charts import off_loop
from bot.reports.csv_export import export_files
from bot.reports.funder_report import gather_report, render_report
from bot.reports.summary import SUPPRESS_BELOW, Ratio, Render, return_measures, total_checkins
from bot.reports.weekly_summary import FOLLOW_UP_WEEKS, Period, gather_term, term_period, week_so_far
from bot.services import Services

if TYPE_CHECKING:
    from storage.register import Register
    from storage.snapshot import ReachTally

AGE_BANDS = ("under_5", "age_5_11", "age_12_15", "age_16_17", "adult", "older")
RECENT = timedelta(days=14)  # as the chat's /register
OPENS_BEFORE_START = timedelta(hours=2)
SESSIONS_SHOWN = 6
PER_PAGE = 60
RANGES = ("term", "last4", "last12", "year")
_DAYS = {"last4": 28, "last12": 84, "year": 365}
FILES = {"sessions.csv": "text/csv", "attendance.csv": "text/csv", "answers.csv": "text/csv",
         "report.md": "text/markdown", "report.html": "text/html", "report.pdf": "application/pdf"}


FIGURES = web.AppKey("dashboard_figures", object)
CHAT_ONLY_ENGLISH = ("summary", "register", "export")
"""Tables of the chat's coordinator words kept in English only; the dashboard has its own copies in [dashboard]."""


def word_key(texts: Any, key: str) -> str:
    """The [dashboard] copy (in every language) of a key from an English-only coordinators' table, if any."""
    table, _, name = key.partition(".")
    if table in CHAT_ONLY_ENGLISH:
        copy = f"dashboard.{table}_{name}"
        if copy in texts.catalogs["en"]:
            return copy
    return key


class PageRender(Render):
    """The weekly summary's words and suppression, in the coordinator's language."""

    def t(self, key: str, **values: object) -> str:
        return self.texts.get(word_key(self.texts, key), self.lang, **values)


class Refusal(Exception):
    def __init__(self, key: str, status: int, back: str | None = None) -> None:
        super().__init__(key)
        self.key, self.status, self.back = key, status, back


@dataclass
class Page:
    svc: Services
    request: web.Request
    who: Visitor
    hub: HubSettings
    now: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.now = self.svc.clock.now()

    @property
    def lang(self) -> str:
        return self.who.language

    def t(self, key: str, **values: Any) -> str:
        return self.svc.texts.get(word_key(self.svc.texts, key), self.lang, **values)

    def url(self, path: str = "") -> str:
        return f"/dashboard/h/{self.hub.id}/{path}"

    def session_name(self, session: Session | Any) -> str:
        name = f"{format_day(session.starts_at, self.hub.tz, self.lang)}, " \
               f"{format_clock(session.starts_at, self.hub.tz, self.lang)}"
        return f"{name} ({session.title})" if session.title else name

    async def register_session(self, text: str) -> Session:
        """A session of this hub whose register may be taken (started, at most two weeks ago), or a refusal."""
        number = int(text) if text.isdigit() and len(text) < 12 else None
        session = await self.svc.store.session(number) if number is not None else None
        if session is None or session.hub_id != self.hub.id or session.cancelled:
            raise Refusal("dashboard.not_found", 404, self.url("register"))
        if session.starts_at - OPENS_BEFORE_START > self.now:
            raise Refusal("register.too_early", 400, self.url("register"))
        if session.starts_at < self.now - RECENT:  # as the chat's /register: the last two weeks
            raise Refusal("dashboard.not_found", 404, self.url("register"))
        return session


async def today(page: Page) -> dict[str, Any]:
    store, hub = page.svc.store, page.hub

    async def figures() -> tuple[Any, Any]:
        sessions = await store.upcoming_sessions(hub.id, page.now, SESSIONS_SHOWN)
        return sessions, await store.session_tallies([s.id for s in sessions])

    sessions, tallies = await cached(page, "today", figures)
    rows = [{"session": s, "name": page.session_name(s), "tally": tallies[s.id]} for s in sessions]
    return {"template": "today.html", "page": "today", "rows": rows, "capacity": hub.capacity,
            "title": page.t("dashboard.today_title", hub=hub.name)}


class FigureCache:
    """Figures per hub and page, reused while nothing in the database changed (SQLite's data_version on the
    reader: any commit by the writer changes it) and within the same minute (figures depend on `now`). One
    computation at a time per hub, so a burst of page views on a cold cache costs one query, not one each.
    Entries are few (a handful of kinds per hub, one per recent register) and hold what the pages show."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[tuple[int, str], Any]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, page: Page, kind: str, compute: Callable[[], Awaitable[Any]]) -> Any:
        hub = page.hub.id
        async with self._locks.setdefault(hub, asyncio.Lock()):
            # Attendance first: bringing it up to date is itself a commit, which would change data_version
            # after the key was taken and make the next view work everything out once more.
            await page.svc.store.bring_attendance_up_to_date()
            key = (await page.svc.store.data_version(), page.now.strftime("%Y-%m-%dT%H:%M"))
            held = self._entries.get((hub, kind))
            if held is not None and held[0] == key:
                return held[1]
            for stale in [k for k, (version, _) in self._entries.items() if k[0] == hub and version != key]:
                del self._entries[stale]
            value = await compute()
            self._entries[(hub, kind)] = (key, value)
            return value


def cached(page: Page, kind: str, compute: Callable[[], Awaitable[Any]]) -> Awaitable[Any]:
    cache: FigureCache = page.request.app[FIGURES]
    return cache.get(page, kind, compute)


async def term(page: Page) -> dict[str, Any]:
    """The term so far: the weekly summary's term figures and the term's people (gather_term)."""
    figures = await cached(page, "term", lambda: gather_term(page.svc.store, page.hub, week_so_far(page.hub, page.now),
                                                             page.now))
    r = PageRender(page.svc.texts, page.lang, forwardable=True)
    totals = total_checkins(figures.checkins)
    weeks = []
    for week in figures.weeks:
        weeks.append({"week": week.week, "first_day": long_date(week.first_day, page.lang),
                      "came": r.count(week.attended),
                      "happier": r.ratio(Ratio(week.happier, week.answers), "ratio_answers")})
    lines = []
    if figures.returns is not None and figures.returns.weeks > 1:
        back = return_measures(figures.returns)
        lines = [r.t("summary.next_week_line", ratio=r.ratio(back.next_week)),
                 r.t("summary.starters_line", week=back.last_week, ratio=r.ratio(back.starters_back)),
                 r.t("summary.regulars_line", need=back.need, span=back.span,
                     ratio=r.ratio(back.regulars, "ratio_people"))]
    title = page.t("summary.chart_title", hub=page.hub.name, period=figures.name or "")
    words = SvgWords(title=title, description=page.t("summary.chart_caption", hub=page.hub.name),
                     hidden=page.t("summary.small"), week=page.t("summary.chart_week"),
                     empty=page.t("summary.chart_empty"))
    return {
        "template": "term.html", "page": "term", "title": page.t("dashboard.term_title", hub=page.hub.name),
        "term_name": figures.name, "weeks_count": figures.returns.weeks if figures.returns else 0,
        "chart": term_chart(figures.weeks, words), "weeks": weeks,
        "happier": r.t("summary.happier_line", ratio=r.ratio(totals.happier_leaving, "ratio_answers")),
        "connected": r.t("summary.connected_line", ratio=r.ratio(totals.more_connected, "ratio_answers")),
        "response": r.t("summary.response_line", ratio=r.ratio(totals.response_rate, "ratio_asked")),
        "returns": lines,
        "people": term_people(r, figures.reach),
    }


def term_people(r: Render, reach: ReachTally | None) -> str:
    """The term so far in distinct people: returning (seen at the hub before the term began) and new (first seen
    in it), from the snapshot's `reach_tally` over the term (as the funder report). The two add up to the total,
    so they are suppressed as the summary's counts that add up to one (`Render.counts`)."""
    if reach is None:
        return ""
    people = reach.new + reach.returning
    returning, new = r.counts([reach.returning, reach.new], total_shown=not 0 < people < SUPPRESS_BELOW)
    return r.t("dashboard.term_people", people=r.count(people), returning=returning, new=new)


async def follow_ups(page: Page) -> dict[str, Any]:
    async def follow_ups_only() -> Any:
        # gather's follow-up window and query (snapshot.follow_ups), without the rest of the summary
        last = week_so_far(page.hub, page.now).last
        window = Period(last - timedelta(weeks=FOLLOW_UP_WEEKS) + timedelta(days=1), last).window(page.hub, page.now)
        async with page.svc.store.attendance_snapshot(window) as snapshot:
            return await snapshot.follow_ups(window)

    found = await cached(page, "follow-ups", follow_ups_only)
    since = page.now - timedelta(weeks=FOLLOW_UP_WEEKS)
    contacts = await page.svc.store.contacts_since(page.hub.id, since)
    people = []
    for person in found:
        contact = contacts.get(person.member_id)
        people.append({"id": person.member_id, "name": person.first_name, "reason": person.reason,
                       "contacted": format_day(contact.contacted_at, page.hub.tz, page.lang) if contact else None})
    return {"template": "follow_ups.html", "page": "follow-ups", "people": people,
            "title": page.t("dashboard.follow_title", hub=page.hub.name)}


async def registers(page: Page) -> dict[str, Any]:
    sessions = await page.svc.store.sessions_for_register([page.hub.id], page.now - RECENT,
                                                          page.now + OPENS_BEFORE_START)
    rows = [{"id": s.id, "name": page.session_name(s)} for s in sessions]
    return {"template": "registers.html", "page": "register", "rows": rows,
            "title": page.t("dashboard.registers_title", hub=page.hub.name)}


async def register(page: Page) -> dict[str, Any]:
    session = await page.register_session(page.request.match_info["session"])
    taken: Register | None = await cached(page, f"register:{session.id}",
                                          lambda: page.svc.store.register(session.id))
    entries = list(taken.entries) if taken else []
    pages = max(1, -(-len(entries) // PER_PAGE))
    wanted = page.request.query.get("page", "0")
    number = pages - 1 if wanted == "last" else int(wanted) if wanted.isdigit() and len(wanted) < 6 else 0
    number = min(number, pages - 1)
    shown = entries[number * PER_PAGE:(number + 1) * PER_PAGE]
    lines = []
    for entry in shown:
        if entry.kind == "companion":
            label = page.t("register.companion_label", name=entry.name, member=entry.with_name)
        else:
            label = page.t(f"register.{entry.kind}_label", name=entry.name)
        lines.append({"id": entry.id, "label": label, "present": entry.present})
    return {
        "template": "register.html", "page": "register", "session_id": session.id,
        "title": page.t("register.title", hub=page.hub.name, name=page.session_name(session)),
        "taken": taken is not None and bool(entries), "saved": bool(taken and taken.saved_at),
        "just_saved": page.request.query.get("saved") == "1",
        "count": page.t("register.count", count=taken.present_count, walk_ins=taken.walk_in_count) if taken else "",
        "lines": lines, "shown_ids": ",".join(str(line["id"]) for line in lines),
        "page_number": number, "pages": pages, "bands": AGE_BANDS,
    }


async def alerts(page: Page) -> dict[str, Any]:
    waiting = await page.svc.store.open_alerts(page.hub.id)
    rows = [{"id": a.id, "name": a.first_name or page.t("dashboard.alert_someone"),
             "trigger": page.t(f"dashboard.alert_{a.trigger}") if a.trigger in ("talk_request", "low_checkin",
                                                                                 "low_measure") else a.trigger,
             "raised": f"{format_day(a.raised_at, page.hub.tz, page.lang)}, "
                       f"{format_clock(a.raised_at, page.hub.tz, page.lang)}"} for a in waiting]
    return {"template": "alerts.html", "page": "alerts", "rows": rows,
            "title": page.t("dashboard.alerts_title", hub=page.hub.name)}


def period_of(page: Page, name: str) -> Period | None:
    today_ = page.now.astimezone(page.hub.tz).date()
    if name == "term":
        found = term_period(page.hub, today_)
        return found[1] if found else None
    days = _DAYS.get(name)
    return Period(today_ - timedelta(days=days - 1), today_) if days else None


async def downloads(page: Page) -> dict[str, Any]:
    ranges = []
    for name in RANGES:
        period = period_of(page, name)
        if period is not None:
            ranges.append({"name": name, "label": page.t(f"export.range_{name}"),
                           "dates": page.t("dashboard.dates", first=long_date(period.first, page.lang),
                                           last=long_date(period.last, page.lang)),
                           "files": list(FILES)})
    return {"template": "downloads.html", "page": "downloads", "ranges": ranges,
            "title": page.t("dashboard.downloads_title", hub=page.hub.name)}


async def download(page: Page) -> web.StreamResponse:
    name, file = page.request.match_info["range"], page.request.match_info["file"]
    period = period_of(page, name)
    if period is None or file not in FILES:
        raise web.HTTPNotFound()
    window = period.window(page.hub, page.now)
    if file.endswith(".csv"):
        content = (await export_files(page.svc.store, page.hub, window))[file]
    else:
        figures = await gather_report(page.svc.store, page.hub, period, page.now)
        markdown_text = render_report(figures, page.svc.texts)
        if file == "report.md":
            content = markdown_text.encode("utf-8")
        else:
            from bot.dashboard.report_html import report_html, report_pdf

            html = report_html(markdown_text, page.t("dashboard.report_title", hub=page.hub.name))
            content = html.encode("utf-8") if file == "report.html" else await off_loop(report_pdf, html)
    filename = f"{page.hub.id}-{name}-{period.first.isoformat()}-{period.last.isoformat()}-{file}"
    response = web.Response(body=content, content_type=FILES[file],
                            headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                     "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
    if FILES[file].startswith("text/"):
        response.charset = "utf-8"
    return response
