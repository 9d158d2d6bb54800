"""Retention: once a day, individual wellbeing answers older than the configured period lose their person.

A planner on the dispatcher (so it runs every few seconds in production and at `bot.dispatch()` in tests)
checks whether today's run, at or after `retention.run_at` local time, has happened; the database's
retention_runs table says so, which makes it restart-safe: after downtime it runs on the next tick,
and never twice on one local day. Counts for term and funder figures stay; the person cannot be found.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.retention import cutoff, due_day
from bot.services import Services

log = logging.getLogger(__name__)



async def plan_retention(now: datetime, svc: Services) -> int:
    """Run today's retention if it is due and not done yet; plans no messages, so always returns 0."""
    settings = svc.settings.retention
    day = due_day(now, settings)
    if day is None or await svc.store.retention_ran_on(day):
        return 0
    detached = await svc.store.anonymise_answers_once(day, cutoff(now, settings), now)
    if detached is not None:
        log.info("retention %s: %d answer(s) older than %d days detached from their person",
                 day, detached, settings.anonymise_answers_after_days)
    return 0
