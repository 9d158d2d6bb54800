"""When each reminder rule fires for a session, and whether a member may still be reminded (see bot.jobs.reminders)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import HubSettings, ReminderRule
from bot.domain.calendar import local_instant
from bot.domain.sessions import Invitation

KIND = "reminder"
LOOKAHEAD = timedelta(days=16)  # rules reach at most 14 days (+ a time of day) before a session


@dataclass(frozen=True, slots=True)
class ScheduledReminder:
    rule_key: str
    fires_at: datetime  # UTC


def fires_at(rule: ReminderRule, starts_at: datetime, hub: HubSettings) -> datetime:
    """The instant a rule fires for a session starting at `starts_at`, in the hub's time zone."""
    start = starts_at.astimezone(hub.tz)
    if rule.minutes_before is None:
        assert rule.days_before is not None and rule.at is not None
        return local_instant(start.date() - timedelta(days=rule.days_before), rule.at, hub)
    days, minutes = divmod(rule.minutes_before, 24 * 60)
    base = starts_at if days == 0 else local_instant(start.date() - timedelta(days=days), start.time(), hub)
    return base - timedelta(minutes=minutes)


def schedule(rules: list[ReminderRule], starts_at: datetime, hub: HubSettings) -> list[ScheduledReminder]:
    """Every rule that fires before the session starts, earliest first."""
    fired = [ScheduledReminder(rule.key, fires_at(rule, starts_at, hub)) for rule in rules]
    return sorted((r for r in fired if r.fires_at < starts_at), key=lambda r: (r.fires_at, r.rule_key))


def due(rules: list[ReminderRule], starts_at: datetime, hub: HubSettings, now: datetime) -> list[ScheduledReminder]:
    """Rules whose instant has come while the session has not started, earliest first."""
    if now >= starts_at:
        return []
    return [r for r in schedule(rules, starts_at, hub) if r.fires_at <= now]


def may_message(invitation: Invitation | None) -> bool:
    """The person's side: still in the hub, agreed to contact, has not paused messages or blocked the bot."""
    if invitation is None:
        return False
    member = invitation.member
    return invitation.in_hub and invitation.contact_consent and not member.paused and member.reachable


def wanted(invitation: Invitation | None, now: datetime) -> bool:
    """Whether a member should still get a message about this session now (it is on and has not started)."""
    return invitation is not None and may_message(invitation) and invitation.session.open_at(now)
