"""Safeguarding rules: who is told about an alert, and when it is repeated and escalated.

The decisions behind them are in docs/wellbeing.md; bot.jobs.safeguarding sends the alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.config import HubSettings

TALK = "talk_request"
ALERT_KIND = "safeguarding_alert"
ESCALATION_KIND = "safeguarding_escalation"
PREFIX = "sg"
STAFF_LANGUAGE = "en"  # coordinators' and leads' texts stay English (still from the catalog)


def repeats_due(raised_at: datetime, now: datetime, within: timedelta, max_repeats: int) -> int:
    """How many repeats should have gone out by now: one per full waiting period, at most max_repeats.

    After downtime this jumps ahead instead of sending the missed repeats one after another.
    """
    if now < raised_at + within:
        return 0
    return min(max_repeats, int((now - raised_at) / within))


def escalation_due(raised_at: datetime, now: datetime, within: timedelta) -> bool:
    return now >= raised_at + within


def lead_recipients(hub: HubSettings, admins: Sequence[int]) -> list[int]:
    """Who gets the alert first: the lead; without one, the coordinators; without those, the admins."""
    if hub.safeguarding_lead is not None:
        return [hub.safeguarding_lead]
    return list(hub.coordinators) or list(admins)


def escalation_recipients(hub: HubSettings, admins: Sequence[int]) -> list[int]:
    """Who is told when the first recipients did not acknowledge (never the same people twice)."""
    first = set(lead_recipients(hub, admins))
    told = [user for user in hub.coordinators if user not in first]
    return told or [user for user in admins if user not in first]
