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
from datetime import datetime

from telegram import InlineKeyboardMarkup

from bot.config import HubSettings
from bot.delivery.dispatcher import Outgoing
from bot.domain.ledger import Delivery
from bot.domain.people import Companion
from bot.domain.reminders import KIND, LOOKAHEAD, due, wanted
from bot.domain.sessions import Invitation
from bot.messages.session_card import session_card
from bot.services import Services

log = logging.getLogger(__name__)



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
    text, markup = await member_card(svc, invitation, hub, now)
    return Outgoing(text, markup)


async def member_card(svc: Services, invitation: Invitation, hub: HubSettings, now: datetime,
                      companions: list[Companion] | None = None) -> tuple[str, InlineKeyboardMarkup | None]:
    """The session card as this member sees it now, with the companions they can say are coming (`companions`:
    the member's, when the caller has read them already)."""
    if invitation.answer not in ("yes", "maybe"):
        return session_card(svc.texts, invitation, hub, now, [])
    if companions is None:
        companions = await svc.store.companions_of(invitation.member.id)
    return session_card(svc.texts, invitation, hub, now, companions)
