"""Safeguarding: the kind reply with help numbers, and alerts to a hub's safeguarding lead.

Decisions (see the domain notes):
- A low answer (check-in "Less happy"; ONS happiness or satisfaction 0-4; anxiety 6-10) gets an immediate
  reply with the configured help numbers and is stored as the answer it is. It raises no alert: mild low
  scores reach coordinators only as anonymous counts in the weekly summary.
- "I'd like someone to talk to" raises a `talk_request` alert: a private message to the hub's lead with the
  member's first name, the hub, what was pressed and when (never a score) and an Acknowledge button. Without a
  lead, the hub's coordinators (else the admins) get it. Not acknowledged within `acknowledge_within_minutes`:
  the alert is repeated, up to `max_repeats` times, and the hub's coordinators are told once. Everything goes
  through the ledger; the planner works from the alerts table, so a restart neither loses nor doubles a repeat.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from babel.dates import format_timedelta

from bot.config import HubSettings
from bot.delivery.dispatcher import Outgoing
from bot.domain.ledger import Delivery, NewDelivery
from bot.domain.people import Member
from bot.domain.safeguarding import (
    ALERT_KIND,
    ESCALATION_KIND,
    PREFIX,
    STAFF_LANGUAGE,
    TALK,
    escalation_due,
    escalation_recipients,
    lead_recipients,
    repeats_due,
)
from bot.domain.wellbeing import Alert
from bot.messages.i18n import format_clock, format_day
from bot.messages.keyboards import keyboard
from bot.services import Services

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------- pure rules


def may_acknowledge(svc: Services, user_id: int, hub_id: str) -> bool:
    """The hub's lead, its coordinators and the admins; nobody from another hub."""
    hub = svc.hub(hub_id)
    return hub is not None and (user_id == hub.safeguarding_lead or svc.coordinates(user_id, hub_id))


# ---------------------------------------------------------------------------------------------- words

def signposting(svc: Services, lang: str) -> str:
    signs = svc.settings.safeguarding.signposting
    return svc.texts.get(
        "safeguarding.signposting", lang, samaritans=signs.samaritans, shout_keyword=signs.shout_keyword,
        shout_number=signs.shout_number, nhs=signs.nhs, nhs_option=signs.nhs_option,
        emergency=signs.emergency, childline=signs.childline,
    )


def low_answer_reply(svc: Services, lang: str) -> str:
    """The immediate kind reply to a low answer."""
    return f"{svc.texts.get('safeguarding.low_reply', lang)}\n\n{signposting(svc, lang)}"


def talk_reply(svc: Services, lang: str, hub: HubSettings, created: bool) -> str:
    key = "safeguarding.talk_sent" if created else "safeguarding.talk_already"
    signs = svc.settings.safeguarding.signposting
    urgent = svc.texts.get("safeguarding.urgent", lang, samaritans=signs.samaritans, emergency=signs.emergency)
    return f"{svc.texts.get(key, lang, hub=hub.name)}\n\n{urgent}"


def _when(moment: datetime, hub: HubSettings) -> str:
    return f"{format_day(moment, hub.tz, STAFF_LANGUAGE)}, {format_clock(moment, hub.tz, STAFF_LANGUAGE)}"


def alert_text(svc: Services, alert: Alert, member: Member | None, hub: HubSettings, *, repeat: int = 0,
               escalation: bool = False) -> str:
    t = svc.texts
    name = member.first_name if member else t.get("safeguarding.unknown_name", STAFF_LANGUAGE)
    facts = t.get("safeguarding.alert_facts", STAFF_LANGUAGE, name=name, hub=hub.name,
                  pressed=t.get("safeguarding.pressed_talk", STAFF_LANGUAGE), time=_when(alert.raised_at, hub))
    if escalation:
        minutes = svc.settings.safeguarding.acknowledge_within_minutes
        waited = format_duration_minutes(minutes)
        return "\n".join([t.get("safeguarding.escalation", STAFF_LANGUAGE, waited=waited), facts,
                          t.get("safeguarding.escalation_ask", STAFF_LANGUAGE, hub=hub.name)])
    head = (t.get("safeguarding.alert_repeat", STAFF_LANGUAGE, n=repeat) if repeat
            else t.get("safeguarding.alert", STAFF_LANGUAGE))
    return "\n".join([head, facts, t.get("safeguarding.alert_ask", STAFF_LANGUAGE)])


def format_duration_minutes(minutes: int) -> str:
    """'60 minutes', '24 hours', '2 days'."""
    return format_timedelta(timedelta(minutes=minutes), threshold=2, locale=STAFF_LANGUAGE)


def acknowledged_line(svc: Services, alert: Alert, hub: HubSettings, who: str) -> str:
    assert alert.acknowledged_at is not None
    return svc.texts.get("safeguarding.acknowledged", STAFF_LANGUAGE, who=who,
                         time=_when(alert.acknowledged_at, hub))


# ---------------------------------------------------------------------------------------------- actions

def _message(kind: str, alert_id: int, user_id: int, hub_id: str, now: datetime, tag: str,
             repeat: int = 0) -> NewDelivery:
    return NewDelivery(kind=kind, dedupe_key=f"alert:{alert_id}:{tag}:{user_id}", chat_id=user_id, due_at=now,
                       hub_id=hub_id, payload={"alert_id": alert_id, "repeat": repeat})


async def request_talk(svc: Services, member: Member, hub: HubSettings, session_id: int | None) -> tuple[Alert, bool]:
    """Store a talk request and queue the alert to the lead; (the open alert, False) if one is already open."""
    now = svc.clock.now()
    recipients = lead_recipients(hub, svc.settings.admins)
    if not recipients:
        log.error("hub %s has no safeguarding lead, coordinator or admin: a talk request is stored, nobody told",
                  hub.id)

    def messages(alert_id: int) -> list[NewDelivery]:
        return [_message(ALERT_KIND, alert_id, user, hub.id, now, "first") for user in recipients]

    return await svc.store.raise_alert(hub_id=hub.id, member_id=member.id, session_id=session_id, trigger=TALK,
                                       now=now, messages=messages)


async def plan_alert_repeats(now: datetime, svc: Services) -> int:
    """Repeat unacknowledged talk requests and tell the coordinators, as their waiting periods pass."""
    rules = svc.settings.safeguarding
    within = timedelta(minutes=rules.acknowledge_within_minutes)
    planned = 0
    for alert in await svc.store.unacknowledged_alerts(TALK):
        hub = svc.hub(alert.hub_id)
        if hub is None:
            continue
        target = max(alert.repeats, repeats_due(alert.raised_at, now, within, rules.max_repeats))
        escalate = alert.escalated_at is None and escalation_due(alert.raised_at, now, within)
        if target == alert.repeats and not escalate:
            continue
        messages = []
        if target > alert.repeats:
            messages += [_message(ALERT_KIND, alert.id, user, hub.id, now, f"repeat{target}", target)
                         for user in lead_recipients(hub, svc.settings.admins)]
        if escalate:
            messages += [_message(ESCALATION_KIND, alert.id, user, hub.id, now, "escalation")
                         for user in escalation_recipients(hub, svc.settings.admins)]
        if await svc.store.record_alert_repeat(alert.id, seen_repeats=alert.repeats, repeats=target,
                                               escalate=escalate, messages=messages, now=now):
            planned += len(messages)
    return planned


async def render_alert(delivery: Delivery, svc: Services) -> Outgoing | None:
    """An alert, repeat or escalation as it stands now; None once someone has acknowledged it."""
    alert = await svc.store.alert(int(delivery.payload.get("alert_id", 0)))
    hub = svc.hub(alert.hub_id) if alert else None
    if alert is None or hub is None or alert.acknowledged:
        return None
    member = await svc.store.member_by_id(alert.member_id) if alert.member_id is not None else None
    text = alert_text(svc, alert, member, hub, repeat=int(delivery.payload.get("repeat", 0)),
                      escalation=delivery.kind == ESCALATION_KIND)
    button = (svc.texts.get("safeguarding.button_acknowledge", STAFF_LANGUAGE), f"{PREFIX}:ack:{alert.id}")
    return Outgoing(text, keyboard([button]))
