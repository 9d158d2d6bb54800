"""The weekly summary's figures and words, as plain functions of counts already made by SQLite.

Pure: no Telegram, no database. Every percentage carries its denominator. Anything meant to be forwarded
hides small cells: a count of 1 to 4 shows as "<5", and a percentage whose part is 1 to 4 or whose whole is
under 5 is not shown. The coordinator's private part (follow-ups, alerts, next week) is exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.domain.codesign import QuestionTally
from bot.domain.sessions import Session
from bot.domain.volunteers import hours_text
from bot.messages.catalog import Catalog
from bot.messages.i18n import format_clock
from bot.reports.codesign import summary_lines as codesign_lines
from storage.reports import AlertTally, CheckinTally, UpcomingTally
from storage.snapshot import FollowUp, HeldSessionTally, ReturnTally, WeekTally
from storage.volunteers import VolunteerTally

SUPPRESS_BELOW = 5
TELEGRAM_LIMIT = 4096
MAX_FOLLOW_UPS = 40


@dataclass(frozen=True, slots=True)
class Ratio:
    part: int
    whole: int

    @property
    def percent(self) -> int | None:
        """Rounded half up, in integers (no float surprises); None when there is no denominator."""
        if self.whole <= 0:
            return None
        return (200 * self.part + self.whole) // (2 * self.whole)

    def suppressed(self) -> bool:
        return self.whole < SUPPRESS_BELOW or 0 < self.part < SUPPRESS_BELOW

    def __add__(self, other: Ratio) -> Ratio:
        return Ratio(self.part + other.part, self.whole + other.whole)


@dataclass(frozen=True, slots=True)
class CheckinTotals:
    asked: int = 0
    responses: int = 0
    happier: int = 0
    same: int = 0
    less_happy: int = 0
    absent: int = 0
    connected_yes: int = 0
    connected_little: int = 0
    connected_not: int = 0
    on_behalf: int = 0

    @property
    def answers(self) -> int:
        return self.happier + self.same + self.less_happy

    @property
    def happier_leaving(self) -> Ratio:
        return Ratio(self.happier, self.answers)

    @property
    def more_connected(self) -> Ratio:
        return Ratio(self.connected_yes + self.connected_little,
                     self.connected_yes + self.connected_little + self.connected_not)

    @property
    def response_rate(self) -> Ratio:
        return Ratio(self.responses, self.asked)


def total_checkins(tallies: Iterable[CheckinTally]) -> CheckinTotals:
    names = list(CheckinTotals.__dataclass_fields__)
    sums = dict.fromkeys(names, 0)
    for tally in tallies:
        for name in names:
            sums[name] += getattr(tally, name)
    return CheckinTotals(**sums)


@dataclass(frozen=True, slots=True)
class ReturnMeasures:
    """The three return figures, because "85 % come back" alone is ambiguous."""

    next_week: Ratio  # came in week t and t-1, over everyone who came in a week that had a next one
    starters_back: Ratio  # week-1 starters who came in week `last_week`
    last_week: int
    regulars: Ratio  # came to at least `need` of the first `span` weeks
    need: int
    span: int


def return_measures(tally: ReturnTally) -> ReturnMeasures:
    return ReturnMeasures(
        next_week=Ratio(tally.next_week_back, tally.next_week_of),
        starters_back=Ratio(tally.starters_back, tally.starters),
        last_week=tally.last_week,
        regulars=Ratio(tally.regulars, tally.people),
        need=tally.need,
        span=tally.span,
    )


@dataclass(frozen=True)
class WeekFigures:
    """Everything one summary shows, gathered from the store for one hub and one week."""

    hub_name: str
    timezone: str
    first_day: date
    last_day: date
    so_far: bool  # "this week so far" (/summary) rather than last week
    sessions: Sequence[HeldSessionTally]
    checkins: Sequence[CheckinTally]
    term_name: str | None
    term_weeks: Sequence[WeekTally]
    term_checkins: Sequence[CheckinTally]
    returns: ReturnTally | None
    follow_ups: Sequence[FollowUp]
    upcoming: Sequence[UpcomingTally]
    alerts: AlertTally
    cancelled: Sequence[Session] = ()  # the week's cancelled sessions, said as such (not "no sessions were held")
    codesign: Sequence[QuestionTally] = ()  # co-design questions that closed in the week
    ideas: int = 0  # ideas members sent in the week
    open_questions: int = 0  # co-design questions still open at the end of the week (or now, if sooner)
    volunteers: VolunteerTally | None = None  # issue 17: for hubs that set up volunteering
    step_names: tuple[tuple[str, str], ...] = ()  # (step id, name) of the hub's pathway, in order


class Render:
    """Words for counts and ratios, suppressing small cells when the text may be forwarded."""

    def __init__(self, texts: Catalog, lang: str, *, forwardable: bool) -> None:
        self.texts, self.lang, self.forwardable = texts, lang, forwardable

    def t(self, key: str, **values: object) -> str:
        return self.texts.get(key, self.lang, **values)

    def count(self, n: int) -> str:
        if self.forwardable and 0 < n < SUPPRESS_BELOW:
            return self.t("summary.small")
        return str(n)

    def counted(self, key: str, n: int) -> str:
        """A count with its noun by the language's plural rules ("1 household", "<5 people")."""
        hidden = self.forwardable and 0 < n < SUPPRESS_BELOW
        return self.texts.plural(key, self.lang, SUPPRESS_BELOW if hidden else n,
                                 shown=self.t("summary.small") if hidden else None)

    def counts(self, values: Sequence[int], *, total_shown: bool = True) -> list[str]:
        """Counts that add up to a total (secondary suppression).

        When exactly one of them is hidden and the total is shown, the smallest other one is hidden too, or
        subtracting from the total would give the hidden one away. A hidden count under 5 shows as "<5" (true
        even of 0); a larger one shows as "not shown". When the total is hidden itself, nothing can be worked
        out, so a 0 stays 0 (a first-time walk-in is not shown as "returning <5").
        """
        shown = [self.count(n) for n in values]
        small = [i for i, n in enumerate(values) if 0 < n < SUPPRESS_BELOW]
        if self.forwardable and total_shown and len(small) == 1 and len(values) > 1:
            other = min((i for i in range(len(values)) if i != small[0]), key=lambda i: values[i])
            shown[other] = self.t("summary.small" if values[other] < SUPPRESS_BELOW else "summary.not_shown")
        return shown

    def ratio(self, ratio: Ratio, unit: str = "ratio") -> str:
        if ratio.whole == 0:
            return self.t("summary.ratio_none")
        if self.forwardable and ratio.suppressed():
            return self.t("summary.ratio_hidden")
        return self.t(f"summary.{unit}", percent=ratio.percent, part=ratio.part, whole=ratio.whole)


def render_summary(figures: WeekFigures, texts: Catalog, lang: str = "en") -> tuple[str, str]:
    """(the part that may be forwarded, the coordinator's private part)."""
    return _forwardable(figures, Render(texts, lang, forwardable=True)), _private(figures, Render(texts, lang,
                                                                                                   forwardable=False))


def summary_messages(figures: WeekFigures, texts: Catalog, lang: str = "en",
                     limit: int = TELEGRAM_LIMIT) -> list[str]:
    """The summary as Telegram messages: the forwardable part never shares a message with the private one."""
    public, private = render_summary(figures, texts, lang)
    return split_message(public, limit) + split_message(private, limit)


def _day(day: date, lang: str) -> str:
    return format_date(day, "EEEE d MMMM", locale=lang)


def _session_name(r: Render, tz: str, session: HeldSessionTally | UpcomingTally | Session) -> str:
    title = f" ({session.title})" if session.title else ""
    return r.t("summary.session_name", day=_day(session.starts_at.astimezone(ZoneInfo(tz)).date(), r.lang),
               time=format_clock(session.starts_at, tz, r.lang), title=title)


def _forwardable(f: WeekFigures, r: Render) -> str:
    title_key = "summary.title_so_far" if f.so_far else "summary.title"
    lines = [r.t(title_key, hub=f.hub_name, first=_day(f.first_day, r.lang), last=_day(f.last_day, r.lang)),
             r.t("summary.forward_note"), "", r.t("summary.sessions_heading")]
    if not f.sessions and not f.cancelled:
        lines.append(r.t("summary.no_sessions"))
    elif not f.sessions:
        lines.append(r.t("summary.none_held"))
    for s in f.sessions:
        source = r.t("summary.source_register" if s.register_taken else "summary.source_inferred")
        lines.append(r.t("summary.session_line", name=_session_name(r, f.timezone, s), source=source))
        lines.append(r.t("summary.answers_line", yes=r.counted("counts.households", s.yes),
                         people=r.counted("counts.people", s.yes_people),
                         maybe=r.counted("counts.households", s.maybe), no=r.counted("counts.households", s.no)))
        total_shown = not (r.forwardable and 0 < s.attended < SUPPRESS_BELOW)
        returning, new, walk_ins = r.counts([s.returning, s.new, s.walk_ins], total_shown=total_shown)
        lines.append(r.t("summary.came_line", came=r.counted("counts.people", s.attended), returning=returning,
                         new=new, walk_ins=walk_ins))
        lines.append(r.t("summary.no_shows_line", no_shows=r.counted("counts.households", s.no_shows)))
    for c in f.cancelled:  # the reason stays out: this part may be forwarded, and a reason may name someone
        lines.append(r.t("summary.cancelled_line", name=_session_name(r, f.timezone, c)))
    week = total_checkins(f.checkins)
    lines += ["", r.t("summary.checkins_heading")]
    if week.asked == 0:
        lines.append(r.t("summary.no_checkins"))
    else:
        rate = week.response_rate
        lines.append(r.t("summary.response_line", ratio=r.ratio(rate, "ratio_asked")))
        happier, same, less = r.counts([week.happier, week.same, week.less_happy])
        lines.append(r.t("summary.feelings_line", happier=happier, same=same, less=less,
                         absent=r.count(week.absent)))
        lines.append(r.t("summary.happier_line", ratio=r.ratio(week.happier_leaving, "ratio_answers")))
        lines.append(r.t("summary.connected_line", ratio=r.ratio(week.more_connected, "ratio_answers")))
    codesign = codesign_lines(f.codesign, f.ideas, f.open_questions, r)
    if codesign:
        lines += ["", *codesign]
    if f.term_name is not None:
        lines += ["", *_term_lines(f, r)]
    if f.volunteers is not None:
        lines += ["", *volunteer_lines(f.volunteers, f.step_names, r)]
    lines += ["", r.t("summary.caveat")]
    return "\n".join(lines)


def _term_lines(f: WeekFigures, r: Render) -> list[str]:
    term = total_checkins(f.term_checkins)
    weeks = f.returns.weeks if f.returns else 0
    lines = [r.t("summary.term_heading", term=f.term_name, weeks=r.texts.plural("counts.weeks", r.lang, weeks)),
             r.t("summary.happier_line", ratio=r.ratio(term.happier_leaving, "ratio_answers")),
             r.t("summary.connected_line", ratio=r.ratio(term.more_connected, "ratio_answers"))]
    if f.returns is not None and weeks > 1:
        back = return_measures(f.returns)
        lines += [r.t("summary.next_week_line", ratio=r.ratio(back.next_week)),
                  r.t("summary.starters_line", week=back.last_week, ratio=r.ratio(back.starters_back)),
                  r.t("summary.regulars_line", need=back.need, span=back.span,
                      ratio=r.ratio(back.regulars, "ratio_people"))]
    return lines


def _private(f: WeekFigures, r: Render) -> str:
    week = total_checkins(f.checkins)
    a = f.alerts
    lines = [r.t("summary.private_title"), "",
             r.t("summary.low_line", count=week.less_happy),
             r.t("summary.alerts_line", raised=a.raised, acknowledged=a.acknowledged, waiting=a.open_now),
             ""]
    # A heading over nothing ("Please get in touch with:" then "Nobody needs a follow-up.") reads as a list lost.
    lines.append(r.t("summary.follow_heading") if f.follow_ups else r.t("summary.follow_none"))
    for person in f.follow_ups[:MAX_FOLLOW_UPS]:
        lines.append(r.t(f"summary.follow_{person.reason}", name=person.first_name))
    if len(f.follow_ups) > MAX_FOLLOW_UPS:
        lines.append(r.t("summary.follow_more", count=len(f.follow_ups) - MAX_FOLLOW_UPS))
    lines += ["", r.t("summary.next_heading")]
    if not f.upcoming:
        lines.append(r.t("summary.next_none"))
    for u in f.upcoming:
        lines.append(r.t("summary.next_line", name=_session_name(r, f.timezone, u),
                         yes=r.counted("counts.households", u.yes),
                         people=r.counted("counts.people", u.adults + u.children),
                         adults=r.counted("counts.adults", u.adults), children=r.counted("counts.children", u.children),
                         maybe=r.counted("counts.households", u.maybe), no=r.counted("counts.households", u.no),
                         waitlisted=r.counted("counts.households", u.waitlisted)))
    return "\n".join(lines)


def split_message(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split on line boundaries into pieces of at most `limit` characters (a longer line is cut)."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return [piece.strip("\n") for piece in pieces if piece.strip()]


def volunteer_lines(tally: VolunteerTally, steps: Sequence[tuple[str, str]], r: Render) -> list[str]:
    """Active volunteers and their hours (hidden with the count when it is small), and people at each step."""
    hours = hours_text(tally.minutes)
    if r.forwardable and 0 < tally.active < SUPPRESS_BELOW:
        hours = r.t("summary.not_shown")
    lines = [r.t("volunteer.summary_heading"),
             r.t("volunteer.summary_active", active=r.count(tally.active), hours=hours)]
    if steps:
        lines.append(r.t("volunteer.summary_steps"))
        lines += [r.t("volunteer.summary_step", step=name, count=r.count(tally.at_step.get(step, 0)))
                  for step, name in steps]
    return lines
