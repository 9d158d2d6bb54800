"""Activator volunteers: their own reminder with the open tasks, and the coordinators' notice of untaken tasks.

Both go through the delivery ledger. The planner owes each volunteer of a hub one reminder per session that needs
tasks (`reminder_days_before` the session's day at `reminder_at`, hub time), and each coordinator one notice per
session that still has an untaken task `gap_notice_days_before` days before it starts. Dedupe keys make planning
idempotent, so a restart neither repeats nor skips one; after downtime what is still useful is planned at once,
and rows expire when the session starts. Both are rendered at send time: a volunteer who left, a cancelled
session or a session whose tasks were all taken meanwhile gets nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram import InlineKeyboardMarkup

from bot.config import HubSettings
from bot.delivery.dispatcher import Outgoing
from bot.domain.ledger import Delivery, NewDelivery
from bot.domain.reminders import wanted
from bot.domain.sessions import Session
from bot.domain.volunteers import (
    GAP_KIND,
    REMINDER_KIND,
    TakenTask,
    gap_notice_due,
    held_by,
    may_take,
    open_tasks,
    reminder_due,
    tasks_for,
)
from bot.messages.keyboards import keyboard
from bot.messages.session_card import heading, short_when
from bot.services import Services

log = logging.getLogger(__name__)

PREFIX = "vt"  # vt:t:<session>:<task> takes a task, vt:g:<session>:<task> gives it back
__all__ = ["GAP_KIND", "PREFIX", "REMINDER_KIND", "gap_line", "plan_volunteer_messages", "render_gap_notice",
           "render_volunteer_reminder", "task_card"]


async def plan_volunteer_messages(now: datetime, svc: Services) -> int:
    """Owe the volunteers' reminders and the coordinators' gap notices that have become due."""
    rows: list[NewDelivery] = []
    planned: set[str] = set()
    for hub in svc.settings.hubs:
        if not hub.volunteers.tasks:
            continue
        lead = timedelta(days=max(hub.volunteers.reminder_days_before, hub.volunteers.gap_notice_days_before) + 1)
        sessions = [s for s in await svc.store.sessions_of_hub(hub.id, now, now + lead, include_cancelled=False)
                    if tasks_for(hub, s.kind)]
        if not sessions:
            continue
        taken = await svc.store.tasks_taken([s.id for s in sessions])
        planned |= await svc.store.planned_keys([s.id for s in sessions], (GAP_KIND,))
        for session in sessions:
            if reminder_due(hub, session.local_date, session.starts_at) <= now:
                volunteers = await svc.store.volunteers_not_yet_told(hub.id, session.id, REMINDER_KIND)
                rows += [NewDelivery(kind=REMINDER_KIND, dedupe_key=f"{REMINDER_KIND}:{session.id}:{v.id}",
                                     chat_id=v.chat_id, due_at=now, member_id=v.id, hub_id=hub.id,
                                     session_id=session.id, expires_at=session.starts_at) for v in volunteers]
            if gap_notice_due(hub, session.starts_at) <= now and open_tasks(tasks_for(hub, session.kind),
                                                                           taken[session.id]):
                rows += [NewDelivery(kind=GAP_KIND, dedupe_key=f"{GAP_KIND}:{session.id}:{coordinator}",
                                     chat_id=coordinator, due_at=now, hub_id=hub.id, session_id=session.id,
                                     expires_at=session.starts_at) for coordinator in hub.coordinators]
    rows = [row for row in rows if row.dedupe_key not in planned]
    return await svc.store.enqueue_deliveries(rows, now) if rows else 0


async def task_card(svc: Services, session: Session, hub: HubSettings, member_id: int,
                    lang: str) -> tuple[str, InlineKeyboardMarkup | None]:
    """The session's tasks as one volunteer sees them: theirs, the open ones, and a button for each."""
    t = svc.texts
    tasks = tasks_for(hub, session.kind)
    taken: dict[str, TakenTask] = (await svc.store.tasks_taken([session.id]))[session.id]
    mine = held_by(taken, member_id)
    free = open_tasks(tasks, taken)
    names = {task.id: task.name for task in tasks}
    lines = [t.get("volunteer.card_title", lang), heading(t, session, hub, lang), ""]
    if mine:
        lines.append(t.get("volunteer.yours", lang, tasks=", ".join(names.get(task, task) for task in mine)))
    if free:
        lines.append(t.get("volunteer.open", lang, tasks=", ".join(task.name for task in free)))
    else:
        lines.append(t.get("volunteer.all_taken", lang))
    rows = []
    if may_take(len(mine), hub.volunteers.tasks_per_volunteer):
        rows += [[(t.get("volunteer.button_take", lang, task=task.name), f"{PREFIX}:t:{session.id}:{task.id}")]
                 for task in free]
        if free:
            lines.append(t.get("volunteer.tap_to_take", lang))
    rows += [[(t.get("volunteer.button_give_back", lang, task=names.get(task, task)),
               f"{PREFIX}:g:{session.id}:{task}")] for task in mine if task in names]
    return "\n".join(lines), keyboard(*rows) if rows else None


async def render_volunteer_reminder(delivery: Delivery, svc: Services) -> Outgoing | None:
    if delivery.session_id is None or delivery.member_id is None:
        return None
    now = svc.clock.now()
    invitation = await svc.store.invitation(delivery.session_id, delivery.member_id)
    if not wanted(invitation, now) or invitation is None:
        return None
    session, member = invitation.session, invitation.member
    hub = svc.hub(session.hub_id)
    if hub is None or not tasks_for(hub, session.kind) or not await svc.store.is_volunteer_of(member.id, hub.id):
        return None
    taken = (await svc.store.tasks_taken([session.id]))[session.id]
    if not open_tasks(tasks_for(hub, session.kind), taken) and not held_by(taken, member.id):
        return None  # every task is taken by others: nothing to ask
    text, markup = await task_card(svc, session, hub, member.id, member.language)
    return Outgoing(text, markup)


async def render_gap_notice(delivery: Delivery, svc: Services) -> Outgoing | None:
    """"No volunteer has taken: tea, welcome desk", to a coordinator, while it is still true."""
    if delivery.session_id is None:
        return None
    session = await svc.store.session(delivery.session_id)
    if session is None or not session.open_at(svc.clock.now()):
        return None
    hub = svc.hub(session.hub_id)
    if hub is None or delivery.chat_id not in hub.coordinators:
        return None
    member = await svc.store.member_by_user(delivery.chat_id)
    lang = member.language if member else svc.settings.default_language
    line = await gap_line(svc, session, hub, lang)
    if line is None:
        return None
    return Outgoing("\n".join([svc.texts.get("volunteer.gap_title", lang, hub=hub.name,
                                             when=short_when(session, hub, lang)), line,
                               svc.texts.get("volunteer.gap_hint", lang)]))


async def gap_line(svc: Services, session: Session, hub: HubSettings, lang: str) -> str | None:
    """For /sessions and the gap notice: the tasks nobody has taken yet (None when the session needs none or
    none is open)."""
    tasks = tasks_for(hub, session.kind)
    if not tasks:
        return None
    free = open_tasks(tasks, (await svc.store.tasks_taken([session.id]))[session.id])
    if not free:
        return None
    return svc.texts.get("volunteer.gaps", lang, tasks=", ".join(task.name for task in free))


async def volunteer_line(svc: Services, session: Session, hub: HubSettings, lang: str) -> str | None:
    """/sessions: the open tasks, or that every task is taken; None for a session that needs none."""
    if not tasks_for(hub, session.kind):
        return None
    return await gap_line(svc, session, hub, lang) or svc.texts.get("volunteer.all_covered", lang)
