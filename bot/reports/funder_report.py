"""The funder report: a hub's sessions, reach, headline figures and term measures over a period, as Markdown.

Written with the CSV files and the chart into one folder (`imm-bot report`). It is meant to be forwarded, so
every count of people from 1 to 4 shows as "<5" and percentages built on such counts are not shown.
Term measures use matched start/end pairs only; answers a carer gave on someone's behalf are shown apart and
left out of the ONS4 figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import HubSettings
from bot.domain.codesign import QuestionTally
from bot.domain.volunteers import hours_text
from bot.messages.catalog import Catalog
from bot.messages.i18n import long_date
from bot.reports.charts import ChartWords, attendance_chart, off_process
from bot.reports.codesign import option_lines
from bot.reports.csv_export import export_files
from bot.reports.summary import SUPPRESS_BELOW, CheckinTotals, Ratio, Render, return_measures, total_checkins
from bot.reports.weekly_summary import Period
from storage.exports import PairTally
from storage.presence import CHILD_BANDS
from storage.referrals import OrganisationTally
from storage.reports import AlertTally
from storage.snapshot import HeldSessionTally, ReachTally, ReturnTally, WeekTally
from storage.volunteers import VolunteerTally

if TYPE_CHECKING:
    from storage import Store

BANDS = ("under_5", "age_5_11", "age_12_15", "age_16_17", "adult", "older")
KINDS = ("weekly", "sharing", "celebration", "event")
ONS4 = "ons4"
SUMMED_SCALES = ("ucla_1_3",)
LONELINESS_TOTAL = "total:ucla_1_3"
# Items where a lower answer is the better one (see bot/domain/questions/*.toml); every other item: higher is better.
ITEM_ORDER = ("ons_life_satisfaction", "ons_worthwhile", "ons_happiness", "ons_anxiety", "loneliness_direct",
              "ucla_lack_companionship", "ucla_left_out", "ucla_isolated", LONELINESS_TOTAL)
LOWER_IS_BETTER = frozenset({"ons_anxiety", "loneliness_direct", "ucla_lack_companionship", "ucla_left_out",
                             "ucla_isolated", LONELINESS_TOTAL})


@dataclass(frozen=True)
class ReportFigures:
    hub: HubSettings
    period: Period
    today: date
    sessions: list[HeldSessionTally]
    cancelled: int
    checkins: CheckinTotals
    returns: ReturnTally
    weeks: list[WeekTally]
    reach: ReachTally
    pairs: list[PairTally]
    alerts: AlertTally
    codesign: list[QuestionTally] = field(default_factory=list)  # questions closed in the period
    codesign_people: int = 0  # members who answered at least one of them
    ideas: tuple[int, int] = (0, 0)  # (ideas, members who sent them)
    volunteers: VolunteerTally | None = None  # issue 17: for hubs that set up volunteering
    referrals: tuple[OrganisationTally, ...] = ()


async def gather_report(store: Store, hub: HubSettings, period: Period, now: datetime) -> ReportFigures:
    window = period.window(hub, now)
    all_sessions = await store.sessions_of_hub(hub.id, window.start, window.end)
    async with store.attendance_snapshot(window) as snapshot:
        sessions = await snapshot.session_tallies(window)
        returns = await snapshot.return_tally(window)
        weeks = await snapshot.week_tallies(window)
        reach = await snapshot.reach_tally(window)
    return ReportFigures(
        hub=hub, period=period, today=now.astimezone(hub.tz).date(), sessions=sessions,
        cancelled=sum(1 for s in all_sessions if s.cancelled and s.starts_at <= now),
        checkins=total_checkins(await store.checkin_tallies(window)), returns=returns, weeks=weeks, reach=reach,
        pairs=await store.measure_pairs(hub.id, await store.terms_in(window), SUMMED_SCALES),
        alerts=await store.alert_tally(hub.id, window.start, window.end),
        codesign=await store.closed_question_tallies(hub.id, window.start, window.end),
        codesign_people=await store.codesign_people(hub.id, window.start, window.end),
        ideas=await store.idea_count(hub.id, window.start, window.end),
        volunteers=await store.volunteer_tally(hub.id, window.start, window.end,
                                               [step.id for step in hub.volunteers.steps])
        if hub.volunteers.configured else None,
        referrals=tuple(await store.referral_tallies(hub.id, window.start, window.end)),
    )


def render_report(f: ReportFigures, texts: Catalog) -> str:
    r = Render(texts, "en", forwardable=True)
    first, last = long_date(f.period.first), long_date(f.period.last)
    lines = [r.t("report.title", hub=f.hub.name, first=first, last=last), ""]
    if not f.sessions:  # said first, so "Sessions held: 0" and "0 of 0 weeks" are not read as results
        lines += [r.t("report.empty_warning", hub=f.hub.name), ""]
    lines += [r.t("report.prepared", today=long_date(f.today)), ""]
    for section in (_sessions, _reach, _feelings, _returns, _measures, _codesign, _volunteers, _referrals, _alerts,
                    _city, _files):
        body = section(f, r)
        if body or section not in (_volunteers, _referrals):  # issue 17's sections only for hubs that have them
            lines += [*body, ""]
    return "\n".join(lines).rstrip() + "\n"


def _sessions(f: ReportFigures, r: Render) -> list[str]:
    kinds = Counter(s.kind for s in f.sessions)
    listed = ", ".join(r.t(f"report.kind_{kind}", count=kinds[kind]) for kind in KINDS if kinds[kind])
    held = (r.t("report.sessions_held", count=len(f.sessions), kinds=listed) if f.sessions
            else r.t("report.sessions_none"))
    return [r.t("report.sessions_heading"), held, r.t("report.sessions_cancelled", count=f.cancelled)]


def _reach(f: ReportFigures, r: Render) -> list[str]:
    reach = f.reach
    people = reach.direct_people + reach.indirect_people
    visits = reach.direct_visits + reach.indirect_visits
    lines = [r.t("report.reach_heading"),
             r.t("report.reach_total", total=r.count(people + visits), people=r.count(people), visits=r.count(visits)),
             r.t("report.reach_direct", count=r.count(reach.direct_people + reach.direct_visits)),
             r.t("report.reach_indirect", count=r.count(reach.indirect_people + reach.indirect_visits)),
             r.t("report.reach_new", new=r.count(reach.new), returning=r.count(reach.returning),
                 first=long_date(f.period.first)),
             "", r.t("report.band_table"), r.t("report.band_rule")]
    by_band: Counter[str] = Counter()
    for row in reach.by_band:
        key = "members" if row.what == "member" else (row.band if row.band in BANDS else "unknown")
        by_band[key] += row.people + row.visits
    # Children add up to their total, adults to theirs: each group is suppressed as a group.
    adult_bands = ("members", "adult", "older")
    marks = dict(zip(CHILD_BANDS, r.counts([by_band[band] for band in CHILD_BANDS]), strict=True))
    marks.update(zip(adult_bands, r.counts([by_band[band] for band in adult_bands]), strict=True))
    for band in BANDS:
        lines.append(r.t("report.band_row", band=r.t(f"age_band.{band}"), count=marks[band]))
    # ... and children, adults and "age not given" add up to the people reached.
    children = sum(by_band[band] for band in CHILD_BANDS)
    adults = sum(by_band[band] for band in adult_bands)
    kids, grown, unknown = r.counts([children, adults, by_band["unknown"]])
    for label, count in (("band_members", marks["members"]), ("band_unknown", unknown),
                         ("band_children", kids), ("band_adults", grown)):
        lines.append(r.t("report.band_row", band=r.t(f"report.{label}"), count=count))
    return [*lines, "", r.t("report.reach_note")]


def _feelings(f: ReportFigures, r: Render) -> list[str]:
    c = f.checkins
    return [r.t("report.feel_heading"),
            r.t("report.feel_response", ratio=r.ratio(c.response_rate, "ratio_asked")),
            r.t("report.feel_happier", ratio=r.ratio(c.happier_leaving, "ratio_answers")),
            r.t("report.feel_connected", ratio=r.ratio(c.more_connected, "ratio_answers")),
            r.t("report.feel_on_behalf", count=r.count(c.on_behalf)),
            "", r.t("report.feel_caveat")]


def _returns(f: ReportFigures, r: Render) -> list[str]:
    if f.returns.weeks == 0:
        return [r.t("report.return_heading"), r.t("report.return_none")]
    back = return_measures(f.returns)
    return [r.t("report.return_heading"),
            r.t("report.return_next_week", ratio=r.ratio(back.next_week)),
            r.t("report.return_starters", week=back.last_week, ratio=r.ratio(back.starters_back)),
            r.t("report.return_regulars", need=back.need, span=back.span,
                ratio=r.ratio(back.regulars, "ratio_people")),
            "", r.t("report.return_note")]


def _measures(f: ReportFigures, r: Render) -> list[str]:
    lines = [r.t("report.measures_heading"), r.t("report.measures_intro"), ""]
    ordered = sorted(f.pairs, key=_item_order)
    own = [p for p in ordered if not p.proxy]
    proxy = [p for p in ordered if p.proxy]
    if not f.pairs:
        return [*lines, r.t("report.measures_none")]
    lines += _pair_table(own, r)
    total = next((p for p in own if p.item == LONELINESS_TOTAL), None)
    if total is not None:
        lines += ["", r.t("report.measures_connected", ratio=r.ratio(Ratio(total.went_down, total.pairs),
                                                                      "ratio_people"))]
    if proxy:
        lines += ["", r.t("report.measures_proxy_heading"), r.t("report.measures_proxy_note"), ""]
        lines += _pair_table(proxy, r, with_figures=lambda p: p.question_set != ONS4)
    return [*lines, "", r.t("report.measures_ons_source")]


def _item_order(pair: PairTally) -> tuple[int, int, str]:
    """ONS4 first, then the other sets; items in the order they are asked, a set's total after its items."""
    known = ITEM_ORDER.index(pair.item) if pair.item in ITEM_ORDER else len(ITEM_ORDER)
    return (pair.question_set != ONS4, known, pair.item)


def _pair_table(pairs: list[PairTally], r: Render,
                with_figures: Callable[[PairTally], bool] = lambda _: True) -> list[str]:
    """One row per item: pairs, averages at start and end, and how many were better, the same or worse."""
    rows = [r.t("report.measures_table"), r.t("report.measures_rule")]
    none = r.t("report.no_value")
    for p in pairs:
        lower = p.item in LOWER_IS_BETTER
        better, worse = (p.went_down, p.went_up) if lower else (p.went_up, p.went_down)
        shown = p.pairs >= SUPPRESS_BELOW and with_figures(p)
        key = f"report.item_{p.item.replace(':', '_')}"
        question = r.t(key) if key in r.texts.catalogs["en"] else p.item
        rows.append(r.t(
            "report.measures_row", question=question, pairs=r.count(p.pairs),
            start=f"{p.sum_start / p.pairs:.1f}" if shown else none,
            end=f"{p.sum_end / p.pairs:.1f}" if shown else none,
            **dict(zip(("better", "same", "worse"), _shares(r, [better, p.unchanged, worse], p.pairs) if shown
                       else [none] * 3, strict=True)),
        ))
    return rows


def _shares(r: Render, counts: list[int], whole: int) -> list[str]:
    """"5 (83%)" each, or the hidden mark for a small count (and for the one that would give it away)."""
    marks = r.counts(counts)
    return [mark if mark != str(count) else r.t("report.count_percent", count=count,
                                                 percent=Ratio(count, whole).percent)
            for mark, count in zip(marks, counts, strict=True)]


def _codesign(f: ReportFigures, r: Render) -> list[str]:
    """Questions the hub was asked (closed in the period) with their counts, and ideas members sent."""
    lines = [r.t("codesign.report_heading")]
    if not f.codesign:
        lines.append(r.t("codesign.report_none"))
    else:
        lines.append(r.t("codesign.report_questions", count=len(f.codesign), people=r.count(f.codesign_people)))
        for tally in f.codesign:
            lines.append(r.t("codesign.report_question", question=tally.question.text,
                             answered=r.count(tally.answered), asked=r.count(tally.question.recipients)))
            lines += option_lines(tally, r, "codesign.report_option")
    ideas, senders = f.ideas
    lines.append(r.t("codesign.report_ideas", count=r.count(ideas), people=r.count(senders)))
    return [*lines, "", r.t("codesign.report_note")]
def _volunteers(f: ReportFigures, r: Render) -> list[str]:
    """Issue 17: the Activator pathway: volunteers, who was active, hours from registers, people at each step."""
    v = f.volunteers
    if v is None:
        return []
    hours = hours_text(v.minutes) if not 0 < v.active < SUPPRESS_BELOW else r.t("summary.not_shown")
    lines = [r.t("volunteer.report_heading"), r.t("volunteer.report_volunteers", count=r.count(v.volunteers)),
             r.t("volunteer.report_active", count=r.count(v.active)), r.t("volunteer.report_hours", hours=hours)]
    if f.hub.volunteers.steps:
        lines += ["", r.t("volunteer.report_steps", last=long_date(f.period.last)), "",
                  r.t("volunteer.report_table"), r.t("volunteer.report_rule")]
        lines += [r.t("volunteer.report_row", step=_cell(step.name), count=r.count(v.at_step.get(step.id, 0)))
                  for step in f.hub.volunteers.steps]
    return [*lines, "", r.t("volunteer.report_note")]


def _referrals(f: ReportFigures, r: Render) -> list[str]:
    """Issue 17: people referred by each organisation, and how many came once and three times or more."""
    if not f.referrals:
        return []
    lines = [r.t("referral.report_heading"), r.t("referral.report_table"), r.t("referral.report_rule")]
    for org in f.referrals:
        once, three = r.count(org.came_once), r.count(org.came_three)
        lines.append(r.t("referral.report_row", organisation=_cell(org.organisation), referred=r.count(org.referred),
                         once=once, three=three))
    return [*lines, "", r.t("referral.report_note", last=long_date(f.period.last))]


def _cell(text: str) -> str:
    """Configured or typed words inside a Markdown table cell: a | would split the cell."""
    return text.replace("|", "/")


def _alerts(f: ReportFigures, r: Render) -> list[str]:
    return [r.t("report.alerts_heading"),
            r.t("report.alerts_line", raised=r.count(f.alerts.raised), acknowledged=r.count(f.alerts.acknowledged))]


def _city(f: ReportFigures, r: Render) -> list[str]:
    if not f.hub.city_of_london:
        return []
    reach = f.reach
    total = reach.direct_people + reach.indirect_people + reach.direct_visits + reach.indirect_visits
    return [r.t("report.city_heading"), r.t("report.city_line", total=r.count(total)), r.t("report.city_note")]


def _files(f: ReportFigures, r: Render) -> list[str]:
    return [r.t("report.files_heading"), r.t("report.files_line"), r.t("report.files_privacy"),
            r.t("report.files_chart")]



def report_chart_words(f: ReportFigures, texts: Catalog) -> ChartWords:
    def t(key: str, **values: object) -> str:
        return texts.get(f"summary.{key}", "en", **values)

    period = f"{long_date(f.period.first)} – {long_date(f.period.last)}"
    return ChartWords(t("chart_title", hub=f.hub.name, period=period), t("chart_attended"), t("chart_happier"),
                      t("chart_week"), t("chart_people"), t("chart_percent"), t("small"), t("chart_empty"))


def report_chart(f: ReportFigures, texts: Catalog) -> bytes:
    return attendance_chart(f.weeks, report_chart_words(f, texts), forwardable=True)


async def report_files(store: Store, hub: HubSettings, period: Period, now: datetime,
                       texts: Catalog) -> dict[str, bytes]:
    """{file name: content}: report.md, the three CSV files and chart.png."""
    figures = await gather_report(store, hub, period, now)
    files: dict[str, bytes] = {"report.md": render_report(figures, texts).encode("utf-8")}
    files.update(await export_files(store, hub, period.window(hub, now)))
    files["chart.png"] = await off_process(attendance_chart, list(figures.weeks), report_chart_words(figures, texts),
                                           forwardable=True)
    return files


def write_files(out: Path, files: dict[str, bytes]) -> list[Path]:
    """Write the files into `out` (created if needed); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        path = out / name
        path.write_bytes(content)
        written.append(path)
    return written
