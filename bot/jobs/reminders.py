"""Session reminders: when each rule fires (pure), the planner that owes them once, and their renderer.

When a rule fires: `days_before` + `at` is that wall-clock time on the day so many days before the session's
local date. `minutes_before` counts whole days on the calendar and the rest in real minutes, so "2880 minutes"
(two days) before a 10:00 session is 10:00 two days earlier even across a clock change, while "90 minutes"
is exactly 90 minutes. A rule that would fire at or after the start is never used.

Planning: a rule becomes due at its instant and is expanded once (reminder_batches) into one ledger row per
member of the hub at that moment. After downtime, if several rules of a session are due at once, only the
latest is sent; the earlier ones are recorded as superseded. Rows expire when the session starts.

Rendering happens at send time, so it uses the member's current language and answer. A member is not
reminded if they said No, paused messages, blocked the bot, withdrew contact consent or left the hub, or if
the session was cancelled or has started. Someone who said Yes or Maybe is still reminded, with their
answer shown and the buttons to change it: people forget, and plans change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from telegram.ext import Application

from bot.config import HubSettings, ReminderRule
from bot.delivery.dispatcher import Outgoing
from bot.domain.calendar import local_instant
from bot.messages.session_card import session_card
from bot.services import services
from storage.delivery import Delivery
from storage.reminders import Invitation

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

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


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    svc = services(application)
    svc.dispatcher.register_planner("reminders", plan_reminders)
    svc.dispatcher.register_renderer(KIND, render_reminder)


async def plan_reminders(now: datetime, svc: Services) -> int:
    """Expand every rule that has become due into ledger rows, once; returns how many rows were added."""
    added = 0
    for hub in svc.settings.hubs:
        if not hub.reminders:
            continue
        sessions = await svc.store.sessions_of_hub(hub.id, now, now + LOOKAHEAD, include_cancelled=False)
        planned = await svc.store.planned_reminder_rules([s.id for s in sessions])
        for session in sessions:
            ready = due(hub.reminders, session.starts_at, hub, now)
            if not ready or (session.id, ready[-1].rule_key) in planned:
                continue
            latest = ready[-1]
            superseded = [r.rule_key for r in ready[:-1] if (session.id, r.rule_key) not in planned]
            count = await svc.store.plan_reminder(
                session, latest.rule_key, kind=KIND, due_at=latest.fires_at, now=now, superseded=superseded
            )
            if count is not None:
                log.info("reminder %s for session %s: %d member(s)%s", latest.rule_key, session.key, count,
                         f", superseding {superseded}" if superseded else "")
                added += count
    return added


async def render_reminder(delivery: Delivery, svc: Services) -> Outgoing | None:
    if delivery.session_id is None or delivery.member_id is None:
        return None
    now = svc.clock.now()
    invitation = await svc.store.invitation(delivery.session_id, delivery.member_id)
    if not wanted(invitation, now) or invitation is None or invitation.answer == "no":
        return None
    hub = svc.hub(invitation.session.hub_id)
    if hub is None:
        return None
    text, markup = await session_card(svc, invitation, hub, now)
    return Outgoing(text, markup)
