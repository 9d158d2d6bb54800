"""Which sessions a hub holds when: weekly slots within terms, skipped dates and bank holidays, one-off events.

Pure functions of the configuration and a date range; every instant is computed in the hub's time zone, so a
10:00 session is at 10:00 local time on both sides of the March and October clock changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Protocol, TypeVar

import holidays

from bot.config import WEEKDAYS, HubSettings, Term


@dataclass(frozen=True, slots=True)
class PlannedSession:
    key: str
    hub_id: str
    kind: str
    title: str
    term: str | None
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    local_date: date
    venue: str = ""


class StoredSlot(Protocol):
    """What matching needs of a stored session (storage's rows satisfy it)."""

    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def local_date(self) -> date: ...
    @property
    def starts_at(self) -> datetime: ...


S = TypeVar("S", bound=StoredSlot)


def match_sessions(
    stored: Sequence[S], planned: Sequence[PlannedSession]
) -> tuple[list[tuple[S, PlannedSession]], list[PlannedSession], list[S]]:
    """Pair stored sessions with the timetable's, so a session keeps its identity (its RSVPs, its waiting list)
    when its start time or length changes: returns (pairs, planned ones to add, stored ones that left).

    A session is the same session when it is on the same local date and of the same kind. Where a day holds
    as many stored as planned sessions of a kind, they pair in start order (10:00 and 11:00 moved to 11:00 and
    12:00 stay themselves); otherwise equal keys pair first and the rest in start order, so removing one of
    two slots on a day withdraws that slot, not the other.
    """
    groups: dict[tuple[date, str], tuple[list[S], list[PlannedSession]]] = {}
    for old in stored:
        groups.setdefault((old.local_date, old.kind), ([], []))[0].append(old)
    for new in planned:
        groups.setdefault((new.local_date, new.kind), ([], []))[1].append(new)
    pairs: list[tuple[S, PlannedSession]] = []
    added: list[PlannedSession] = []
    gone: list[S] = []
    for olds, news in groups.values():
        olds = sorted(olds, key=lambda s: (s.starts_at, s.key))
        news = sorted(news, key=lambda s: (s.starts_at, s.key))
        if len(olds) != len(news):
            new_keys = {n.key for n in news}
            by_key = {o.key: o for o in olds if o.key in new_keys}
            pairs += [(by_key[n.key], n) for n in news if n.key in by_key]
            olds = [o for o in olds if o.key not in by_key]
            news = [n for n in news if n.key not in by_key]
        pairs += list(zip(olds, news, strict=False))
        added += news[len(olds):]
        gone += olds[len(news):]
    added.sort(key=lambda s: (s.starts_at, s.key))
    return pairs, added, gone


def local_instant(day: date, at: time, hub: HubSettings) -> datetime:
    """The UTC instant of a hub-local wall-clock time.

    A time that occurs twice (the October change) is its first occurrence; a time that does not exist
    (the March gap) moves forward by the gap, as a wall clock would show it: 01:30 becomes 02:30 BST.
    """
    naive = datetime.combine(day, at)
    instant = naive.replace(tzinfo=hub.tz).astimezone(UTC)
    if instant.astimezone(hub.tz).replace(tzinfo=None) != naive:
        offset_before = (naive - timedelta(hours=6)).replace(tzinfo=hub.tz).utcoffset() or timedelta(0)
        instant = (naive - offset_before).replace(tzinfo=UTC)
    return instant


def term_of(hub: HubSettings, day: date) -> Term | None:
    return next((term for term in hub.terms if term.start <= day <= term.end), None)


@cache
def _bank_holidays(region: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv=region, years=year).keys())


def is_bank_holiday(hub: HubSettings, day: date) -> bool:
    return day in _bank_holidays(hub.bank_holiday_region, day.year)


def session_key(hub_id: str, day: date, at: time, kind: str = "weekly") -> str:
    base = f"{hub_id}-{day:%Y%m%d}-{at:%H%M}"
    return base if kind == "weekly" else f"{base}-{kind}"


def sessions_between(hub: HubSettings, first: date, last: date) -> list[PlannedSession]:
    """Every session of the hub whose local date lies in [first, last], in start order."""
    planned = [*_weekly(hub, first, last), *_events(hub, first, last)]
    planned.sort(key=lambda session: (session.starts_at, session.key))
    return planned


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _weekly(hub: HubSettings, first: date, last: date) -> Iterator[PlannedSession]:
    skip = set(hub.skip_dates)
    for day in _days(first, last):
        weekday = WEEKDAYS[day.weekday()]
        slots = [slot for slot in hub.weekly if slot.weekday == weekday]
        if not slots or day in skip or (hub.skip_bank_holidays and is_bank_holiday(hub, day)):
            continue
        term = term_of(hub, day)
        if hub.terms and term is None:
            continue
        for slot in slots:
            starts = local_instant(day, slot.start, hub)
            yield PlannedSession(
                key=session_key(hub.id, day, slot.start),
                hub_id=hub.id,
                kind="weekly",
                title="",
                term=term.name if term else None,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=slot.duration_minutes),
                local_date=day,
                venue=hub.venue,
            )


def _events(hub: HubSettings, first: date, last: date) -> Iterator[PlannedSession]:
    for event in hub.events:
        if first <= event.date <= last:
            starts = local_instant(event.date, event.start, hub)
            term = term_of(hub, event.date)
            yield PlannedSession(
                key=session_key(hub.id, event.date, event.start, event.kind),
                hub_id=hub.id,
                kind=event.kind,
                title=event.title,
                term=term.name if term else None,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=event.duration_minutes),
                local_date=event.date,
                venue=hub.venue,
            )
