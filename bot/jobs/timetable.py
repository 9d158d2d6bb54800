"""Keeps each hub's sessions stored some weeks ahead, in step with the configured timetable."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.delivery.dispatcher import Planner
from bot.domain.calendar import sessions_between
from bot.jobs.notices import CHANGE_KIND, NOTICE_KIND, NOTICE_LIFETIME
from bot.services import Services

log = logging.getLogger(__name__)

WEEKS_AHEAD = 8
WEEKS_BEHIND = 1  # so a session removed from the timetable this week is still seen
RESYNC_EVERY = timedelta(hours=1)


async def sync_all_hubs(svc: Services) -> int:
    """Store every configured hub's sessions from last week to WEEKS_AHEAD; returns how many were added.

    A session whose time, length or venue changed in the configuration is the same session, moved: it keeps
    its answers and waiting list, and whoever said Yes or Maybe is told once (storage owes the notices in the
    same transaction, so a restart neither repeats nor loses them). Only a date that left the timetable cancels.
    """
    now = svc.clock.now()
    added_total = 0
    for hub in svc.settings.hubs:
        today = now.astimezone(hub.tz).date()
        first, last = today - timedelta(weeks=WEEKS_BEHIND), today + timedelta(weeks=WEEKS_AHEAD)
        planned = sessions_between(hub, first, last)
        result = await svc.store.sync_sessions(hub.id, planned, first, last, now, change_notice=CHANGE_KIND)
        added_total += result.added
        if result.changed:
            log.warning("hub %s: %d session(s) changed time, length or venue; %d member(s) to be told",
                        hub.id, len(result.changed), result.told)
            svc.dispatcher.kick()
        for session in result.withdrawn:
            # Taken out of the timetable (a new skip date, a changed term): the same as a coordinator's
            # /cancel, so whoever said Yes or Maybe is told and nobody is reminded of it.
            told = await svc.store.cancel_session_telling(
                session.id, "", now, notice_kind=NOTICE_KIND, expires_at=session.ends_at + NOTICE_LIFETIME
            )
            log.warning("session %s of hub %s left the timetable: cancelled, %s told", session.key, hub.id, told)
    return added_total


def planner() -> Planner:
    last_run: list[datetime] = []

    async def plan(now: datetime, svc: Services) -> int:
        if last_run and now - last_run[0] < RESYNC_EVERY and now >= last_run[0]:
            return 0
        last_run[:] = [now]
        await sync_all_hubs(svc)
        return 0

    return plan
