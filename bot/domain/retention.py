"""Retention policy: which local day's run is due, and which answers are older than the retention period."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class RetentionCutoffs:
    """For each retention rule, the instant before which its rows are removed or detached."""

    answers: datetime  # individual wellbeing answers: detached
    join_drafts: datetime  # abandoned joins: deleted
    pending_inputs: datetime  # unanswered free-text questions: deleted
    alerts: datetime  # safeguarding alerts: detached from the person
    deliveries: datetime  # ledger rows of sessions that ended before this: deleted (once sent or settled)


def cutoffs(now: datetime, settings: RetentionSettings) -> RetentionCutoffs:
    return RetentionCutoffs(
        answers=cutoff(now, settings),
        join_drafts=now - timedelta(days=settings.join_drafts_after_days),
        pending_inputs=now - timedelta(days=settings.pending_inputs_after_days),
        alerts=now - timedelta(days=settings.alerts_after_days),
        deliveries=now - timedelta(days=settings.deliveries_after_days),
    )
