"""Dates, times and durations in the reader's language (Babel), in the hub's time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, format_timedelta


def format_duration(days: int, lang: str) -> str:
    """730 -> '2 years' in English, the same in the reader's language."""
    return format_timedelta(timedelta(days=days), threshold=1.1, locale=lang)


def local(moment: datetime, tz: str | ZoneInfo) -> datetime:
    return moment.astimezone(tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz))


def format_day(moment: datetime, tz: str | ZoneInfo, lang: str) -> str:
    """'Tuesday 3 March' in the hub's time zone and the reader's language."""
    return _day(local(moment, tz).date(), lang)


def format_clock(moment: datetime, tz: str | ZoneInfo, lang: str) -> str:
    """'10:30' (24-hour, as UK hubs print their timetables) in the reader's digits."""
    at = local(moment, tz)
    return _clock(at.hour, at.minute, lang)


# Every tap's card names its session's day and time: Babel takes a while to format them (its pattern parsing and
# locale data), and a hub has few sessions and five languages, so each text is made once.
@lru_cache(maxsize=4096)
def _day(day: date, lang: str) -> str:
    return format_date(day, "EEEE d MMMM", locale=lang)


@lru_cache(maxsize=4096)
def _clock(hour: int, minute: int, lang: str) -> str:
    return format_time(time(hour, minute), "HH:mm", locale=lang)


def format_full_date(moment: datetime, tz: str | ZoneInfo, lang: str) -> str:
    """'23 November 2026' (with the year: consents and exports look back further than a week)."""
    return format_date(local(moment, tz).date(), "d MMMM y", locale=lang)


def long_date(day: date, lang: str = "en") -> str:
    """'24 November 2026': a day on its own, for reports and coordinators' file names and headings."""
    return format_date(day, "d MMMM y", locale=lang)
