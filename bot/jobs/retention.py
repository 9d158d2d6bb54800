"""Retention: once a day, individual wellbeing answers and safeguarding alerts older than their periods lose
their person; abandoned joins, unanswered questions and the ledger rows of long-past sessions are deleted.

A planner on the dispatcher (so it runs every few seconds in production and at `bot.dispatch()` in tests)
checks whether today's run, at or after `retention.run_at` local time, has happened; the database's
retention_runs table says so, which makes it restart-safe: after downtime it runs on the next tick,
and never twice on one local day. Counts for term and funder figures stay; the person cannot be found.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.retention import cutoff, cutoffs, due_day

__all__ = ["cutoff", "due_day", "plan_retention"]
from bot.services import Services

log = logging.getLogger(__name__)



async def plan_retention(now: datetime, svc: Services) -> int:
    """Run today's retention if it is due and not done yet; plans no messages, so always returns 0."""
    settings = svc.settings.retention
    day = due_day(now, settings)
    if day is None or await svc.store.retention_ran_on(day):
        return 0
    done = await svc.store.retention_once(day, cutoffs(now, settings), now)
    if done is not None:
        log.info("retention %s: %d answer(s), %d alert(s) and %d co-design answer(s) or idea(s) detached from their"
                 " person; %d abandoned join(s), %d unanswered question(s) and %d past delivery row(s) removed", day,
                 done.anonymised, done.alerts_detached, done.other_rows_detached, done.drafts_removed,
                 done.inputs_removed, done.deliveries_pruned)
    return 0
