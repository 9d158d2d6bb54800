""""I'd like someone to talk to" from a check-in, a term measure or the answer to distress typed as free text,
and the lead's Acknowledge button.

A talk request is honoured only from the person the check-in or questions were sent to; an acknowledgement
only from that hub's safeguarding lead, its coordinators or an admin. Anything else is answered and changes
nothing.
"""

from __future__ import annotations

from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.config import HubSettings
from bot.domain.people import Member
from bot.jobs import checkins, safeguarding
from bot.messages.callbacks import parse_callback, parse_int
from bot.services import Services, services
from handlers.checkin import in_private_chat
from handlers.common import edit_and_answer, refuse, together


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{safeguarding.PREFIX}:"), group)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    member, lang = await svc.person(query.from_user)
    parts = parse_callback(query.data, safeguarding.PREFIX, 2)
    if parts is not None and parts[0] == "ack":
        await _acknowledge(svc, query, parts[1])
    elif parts is not None and parts[0] == "talk" and member is not None:
        await _talk(svc, query, member, parts[1])
    else:
        await refuse(svc, query, "common.old_button", lang=lang)


async def _talk_hub(svc: Services, member: Member, where: str) -> tuple[HubSettings, int | None] | None:
    """The hub (and session) a talk button belongs to, if it was really shown to this member."""
    number = parse_int(where[1:], low=0) if len(where) > 1 else None
    if number is None:
        return None
    if where[0] == "s":
        session = await svc.store.session(number)
        if session is None or not await svc.store.was_delivered(checkins.dedupe_key(session.id, member.id)):
            return None
        hub = svc.hub(session.hub_id)
        return (hub, session.id) if hub else None
    if where[0] == "h":  # from the answer to distress typed as free text: one of their hubs, by position
        hubs = svc.settings.hubs
        if number >= len(hubs) or not await svc.store.is_member_of(member.id, hubs[number].id):
            return None
        return hubs[number], None
    if where[0] == "r":
        run = await svc.store.measure_run(number)
        if run is None or run.member_id != member.id:
            return None
        hub = svc.hub(run.hub_id)
        return (hub, None) if hub else None
    return None


async def _talk(svc: Services, query: CallbackQuery, member: Member, where: str) -> None:
    found = await _talk_hub(svc, member, where) if in_private_chat(query) else None
    if found is None:
        await refuse(svc, query, "common.old_button", lang=member.language)
        return
    hub, session_id = found
    _, created = await safeguarding.request_talk(svc, member, hub, session_id)
    if created and svc.application is not None:
        svc.dispatcher.kick()
    reply = safeguarding.talk_reply(svc, member.language, hub, created)
    await together(svc.bot.send_message(query.from_user.id, reply), query.answer())


async def _acknowledge(svc: Services, query: CallbackQuery, alert_text: str) -> None:
    user = query.from_user
    alert_id = parse_int(alert_text)
    alert = await svc.store.alert(alert_id) if alert_id else None
    if alert is None or not safeguarding.may_acknowledge(svc, user.id, alert.hub_id):
        await refuse(svc, query, "common.not_allowed", lang=safeguarding.STAFF_LANGUAGE)
        return
    hub = svc.hub(alert.hub_id)
    assert hub is not None  # may_acknowledge checked it
    first = await svc.store.acknowledge_alert(alert.id, user.id, svc.clock.now())
    acknowledged = await svc.store.alert(alert.id)
    assert acknowledged is not None
    who = user.first_name if first else await _acknowledger_name(svc, acknowledged.acknowledged_by)
    text = getattr(query.message, "text", None) or ""
    key = "safeguarding.ack_thanks" if first else "safeguarding.already_acknowledged"
    await edit_and_answer(query, f"{text}\n\n{safeguarding.acknowledged_line(svc, acknowledged, hub, who)}",
                          note=svc.texts.get(key, safeguarding.STAFF_LANGUAGE))


async def _acknowledger_name(svc: Services, user_id: int | None) -> str:
    member = await svc.store.member_by_user(user_id) if user_id is not None else None
    return member.first_name if member else str(user_id)
