"""After-session check-ins: who is asked and when (planner), what they see (renderer and views), the rules.

A check-in goes to each member who said Yes or Maybe to a held session, has wellbeing consent and can be
messaged, `checkin_after_minutes` after the session ends. One message carries the whole conversation: an
optional "who answers" question for carers (asked once, remembered), then "how do you feel", then (unless
the hub turned it off) "more connected?", then thanks. Every tap is stored before the message changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.dates import format_timedelta
from telegram import InlineKeyboardMarkup

from bot.config import HubSettings
from bot.delivery.dispatcher import Outgoing
from bot.domain.checkins import (
    ABSENT,
    ANSWERED_AS,
    CONNECTED,
    FEELINGS,
    KIND,
    PREFIX,
    SEND_WITHIN,
    STEP_ABSENT,
    STEP_CHANGE,
    STEP_CONNECTED,
    STEP_FEELING,
    STEP_WHO,
    TALK_PREFIX,
    change_deadline,
    dedupe_key,
    due_at,
    needs_who_question,
)
from bot.domain.consent import WELLBEING
from bot.domain.ledger import Delivery, NewDelivery
from bot.domain.people import Companion, Member
from bot.domain.sessions import Session
from bot.domain.wellbeing import Checkin
from bot.messages.i18n import format_clock, format_day
from bot.messages.keyboards import keyboard
from bot.services import Services

# ---------------------------------------------------------------------------------------------- pure rules


def window_words(hours: int, lang: str) -> str:
    """'24 hours', '2 days' in the reader's language."""
    return format_timedelta(timedelta(hours=hours), threshold=2, locale=lang)


# ---------------------------------------------------------------------------------------------- views

@dataclass(frozen=True)
class Context:
    """What a check-in view needs to know."""

    session: Session
    hub: HubSettings
    lang: str
    checkin: Checkin | None = None
    window_hours: int = 24
    supported: str | None = None
    """The name of the person a carer answers for (None when they answer for themselves or together)."""


def _talk(svc: Services, ctx: Context) -> tuple[str, str]:
    return svc.texts.get("checkin.button_talk", ctx.lang), f"{TALK_PREFIX}:talk:s{ctx.session.id}"


def _about(svc: Services, ctx: Context) -> str:
    day = format_day(ctx.session.starts_at, ctx.hub.tz, ctx.lang)
    return svc.texts.get("checkin.about", ctx.lang, hub=ctx.hub.name, day=day)


def _label(svc: Services, lang: str, value: str, current: str | None, supported: str | None = None) -> str:
    if value == ABSENT and supported is not None:
        label = svc.texts.get("checkin.button_absent_for", lang, name=supported)
    else:
        label = svc.texts.get(f"checkin.button_{value}", lang)
    return f"✓ {label}" if value == current else label


def _question(svc: Services, ctx: Context, key: str) -> str:
    """A question about "you", or about the person supported by name when a carer answers for them."""
    if ctx.supported is None:
        return svc.texts.get(key, ctx.lang)
    return svc.texts.get(f"{key}_for", ctx.lang, name=ctx.supported)


def view(svc: Services, name: str, ctx: Context) -> tuple[str, InlineKeyboardMarkup]:
    """The text and buttons of one step of the check-in message."""
    t, lang, sid, current = svc.texts, ctx.lang, ctx.session.id, ctx.checkin
    if name == "who":
        rows = [[(t.get(f"checkin.button_{mode}", lang), f"{PREFIX}:{sid}:{STEP_WHO}:{mode}")] for mode in ANSWERED_AS]
        return f"{_about(svc, ctx)}\n{t.get('checkin.who_question', lang)}", keyboard(*rows)
    if name == "feeling":
        feeling = current.feeling if current else None
        rows = [[(_label(svc, lang, v, feeling), f"{PREFIX}:{sid}:{STEP_FEELING}:{v}")] for v in FEELINGS]
        absent = _label(svc, lang, ABSENT, ABSENT if current and current.absent else None, ctx.supported)
        rows.append([(absent, f"{PREFIX}:{sid}:{STEP_ABSENT}:{ABSENT}")])
        rows.append([_talk(svc, ctx)])
        return f"{_about(svc, ctx)}\n{_question(svc, ctx, 'checkin.question')}", keyboard(*rows)
    assert current is not None, "only the first views come before an answer"
    if name == "connected":
        row = [(_label(svc, lang, v, current.connected), f"{PREFIX}:{sid}:{STEP_CONNECTED}:{v}") for v in CONNECTED]
        question = _question(svc, ctx, "checkin.connected_question")
        text = "\n".join([_about(svc, ctx), _chosen(svc, lang, current, ctx.supported), "", question])
        return text, keyboard(row, [_talk(svc, ctx)])
    deadline = change_deadline(current.first_answered_at, ctx.window_hours)
    until = t.get("checkin.can_change", lang, time=format_clock(deadline, ctx.hub.tz, lang),
                  day=format_day(deadline, ctx.hub.tz, lang))
    change = (t.get("checkin.button_change", lang), f"{PREFIX}:{sid}:{STEP_CHANGE}:change")
    if name == "absent":
        return "\n".join([_about(svc, ctx), t.get("checkin.absent_thanks", lang), until]), keyboard([change])
    text = "\n".join([_about(svc, ctx), _chosen(svc, lang, current, ctx.supported), "", t.get("checkin.thanks", lang),
                      until])
    return text, keyboard([change], [_talk(svc, ctx)])


def closed_view(svc: Services, ctx: Context, key: str, **values: object) -> str:
    """The message once nothing more can be changed: what was answered, and why it is closed."""
    lines = [_about(svc, ctx)]
    if ctx.checkin is not None:
        chosen = _chosen(svc, ctx.lang, ctx.checkin, ctx.supported)
        if chosen:
            lines.append(chosen)
    lines.append(svc.texts.get(key, ctx.lang, **values))
    return "\n".join(lines)


def _chosen(svc: Services, lang: str, checkin: Checkin, supported: str | None = None) -> str:
    if checkin.absent:
        return "✓ " + _label(svc, lang, ABSENT, None, supported)
    keys = []
    if checkin.feeling is not None:
        keys.append(f"checkin.chosen_{checkin.feeling}")
    if checkin.connected is not None:
        keys.append(f"checkin.chosen_connected_{checkin.connected}")
    return "\n".join("✓ " + svc.texts.get(key, lang) for key in keys)


# ---------------------------------------------------------------------------------------------- planner, renderer

async def plan_checkins(now: datetime, svc: Services) -> int:
    """Queue the check-ins that have become due; INSERT OR IGNORE makes planning twice plan once."""
    hubs = {hub.id: hub for hub in svc.settings.hubs}
    if not hubs:
        return 0
    longest_wait = timedelta(minutes=max(hub.checkin_after_minutes for hub in hubs.values()))
    targets = await svc.store.checkin_targets(now - SEND_WITHIN - longest_wait, now, unplanned_kind=KIND)
    items = []
    for target in targets:
        hub = hubs.get(target.hub_id)
        if hub is None:
            continue
        due = due_at(target.ends_at, hub)
        if due > now or due + SEND_WITHIN <= now:
            continue
        items.append(NewDelivery(
            kind=KIND, dedupe_key=dedupe_key(target.session_id, target.member_id), chat_id=target.chat_id,
            due_at=due, member_id=target.member_id, hub_id=hub.id, session_id=target.session_id,
            expires_at=due + SEND_WITHIN,
        ))
    return await svc.store.enqueue_deliveries(items, now) if items else 0


async def still_wanted(svc: Services, member: Member, session: Session) -> bool:
    """Ask only someone who can still be asked: consent in force, messages on, still in the hub and coming,
    and only in their private chat (answers never go to a group)."""
    if member.paused or session.cancelled or member.chat_id != member.telegram_user_id:
        return False
    if not await svc.store.has_consent(member.id, WELLBEING):
        return False
    if not await svc.store.is_member_of(member.id, session.hub_id):
        return False
    rsvp = await svc.store.rsvp(session.id, member.id)
    return rsvp is not None and rsvp.answer in ("yes", "maybe")


async def render_checkin(delivery: Delivery, svc: Services) -> Outgoing | None:
    """The check-in as it should look now; None (skipped) if consent was withdrawn or it is no longer wanted."""
    if delivery.member_id is None or delivery.session_id is None or delivery.hub_id is None:
        return None
    member = await svc.store.member_by_id(delivery.member_id)
    session = await svc.store.session(delivery.session_id)
    hub = svc.hub(delivery.hub_id)
    if member is None or session is None or hub is None or not await still_wanted(svc, member, session):
        return None
    if await svc.store.checkin_of(session.id, member.id) is not None:
        return None
    mode = await svc.store.answer_mode(member.id)
    ctx = Context(session, hub, member.language, window_hours=svc.settings.wellbeing.change_window_hours,
                  supported=await supported_name(svc, member, mode))
    text, markup = view(svc, "who" if needs_who_question(member.role, mode) else "feeling", ctx)
    return Outgoing(text, markup)


async def supported_name(svc: Services, member: Member, mode: str | None) -> str | None:
    """Whom a carer answers for: the person they support by name (their one companion), else "the person you
    support" in their language; None unless they said they answer on that person's behalf."""
    if member.role != "carer" or mode != "on_behalf":
        return None
    return supported_among(svc, member, mode, await svc.store.companions_of(member.id))


def supported_among(svc: Services, member: Member, mode: str | None, companions: Sequence[Companion]) -> str | None:
    """`supported_name`, with the member's companions already read."""
    if member.role != "carer" or mode != "on_behalf":
        return None
    supported = [c for c in companions if c.relationship == "supported"]
    for candidates in (supported, companions):
        if len(candidates) == 1:
            return candidates[0].name
    return svc.texts.get("checkin.person_supported", member.language)
