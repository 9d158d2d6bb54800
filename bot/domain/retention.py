"""Retention policy: which local day's run is due, and which answers are older than the retention period."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import RetentionSettings

RETENTION_ZONE = ZoneInfo("Europe/London")  # run_at is documented as a Europe/London time


def due_day(now: datetime, settings: RetentionSettings) -> date | None:
    """The local day whose run is due at `now` (today, once run_at has passed), else None."""
    local = now.astimezone(RETENTION_ZONE)
    return local.date() if local.time() >= settings.run_at else None


def cutoff(now: datetime, settings: RetentionSettings) -> datetime:
    """Answers dated before this instant are older than the retention period."""
    return now - timedelta(days=settings.anonymise_answers_after_days)
