"""Term measures, step by step: the invitation's buttons, each question's buttons, Pause, Continue and /checkin.

A question's buttons carry `ms:<run>:<position>:<value>`; the answer is stored only if the run is the
tapping member's, is still at that position, and the value is on the item's scale. Each answer is committed
before the next question replaces it.
"""

from __future__ import annotations

from typing import Any

from telegram import CallbackQuery, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.domain import measures as measure_rules
from bot.domain.consent import WELLBEING
from bot.domain.ledger import Delivery
from bot.domain.people import Member
from bot.domain.wellbeing import MeasureRun
from bot.jobs import measures
from bot.jobs.checkins import ANSWERED_AS, needs_who_question
from bot.jobs.safeguarding import low_answer_reply
from bot.messages.callbacks import parse_callback, parse_int
from bot.messages.keyboards import keyboard
from bot.services import Services, services
from handlers.checkin import in_private_chat
from handlers.common import edit_and_answer, refuse

COMMANDS = ("checkin",)


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CommandHandler("checkin", checkin_command), group)
    application.add_handler(CallbackQueryHandler(on_invite, pattern=rf"^{measures.INVITE_PREFIX}:"), group)
    application.add_handler(CallbackQueryHandler(on_step, pattern=rf"^{measures.STEP_PREFIX}:"), group)


async def _invite_of(svc: Services, member: Member, hub_id: str, term: str, point: str) -> Delivery | None:
    """The invitation that lets this member answer this point of this term, if one was sent."""
    key = measures.invite_key(hub_id, term, point, member.id)
    invites = await svc.store.deliveries_where(kind=measures.INVITE_KIND, chat_id=member.chat_id)
    return next((d for d in invites if d.dedupe_key == key and d.state in ("sent", "sending")), None)


async def _next_view(svc: Services, member: Member, invite: Delivery) -> tuple[str, Any]:
    """The question to ask now, or the closing thanks when every set is answered."""
    assert invite.hub_id is not None
    step = await measures.current_question(svc, member, invite.hub_id, invite.payload["term"],
                                           invite.payload["point"])
    if step is None:
        return svc.texts.get("measure.done", member.language), None
    qset, run = step
    return measures.question_view(svc, member.language, qset, run)


async def on_invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """mi:<invitation delivery id>:go|no|<who answers>."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    member, lang = await svc.person(query.from_user)
    parts = parse_callback(query.data, measures.INVITE_PREFIX, 2)
    delivery_id = parse_int(parts[0]) if parts else None
    invite = await svc.store.delivery(delivery_id) if delivery_id else None
    if (parts is None or member is None or invite is None or invite.kind != measures.INVITE_KIND
            or invite.member_id != member.id or invite.state not in ("sent", "sending") or not in_private_chat(query)):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if not await measures.invite_still_wanted(svc, member, invite):
        key = "checkin.no_consent" if not await svc.store.has_consent(member.id, WELLBEING) else "measure.closed"
        await refuse(svc, query, key, lang=lang)
        return
    action = parts[1]
    if action == "no":
        assert invite.hub_id is not None
        await measures.decline_rest(svc, member, invite.hub_id, invite.payload["term"], invite.payload["point"])
        await edit_and_answer(query, svc.texts.get("measure.declined", lang))
        return
    if action in ANSWERED_AS and member.role == "carer":
        if await svc.store.answer_mode(member.id) is None:
            await svc.store.set_answer_mode(member.id, action, svc.clock.now())
    elif action != "go":
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if needs_who_question(member.role, await svc.store.answer_mode(member.id)):
        await edit_and_answer(query, *measures.who_view(svc, lang, invite.id))
    else:
        await edit_and_answer(query, *await _next_view(svc, member, invite))


async def on_step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ms:<run>:<position>:<value>|skip|pause|go."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    member, lang = await svc.person(query.from_user)
    parts = parse_callback(query.data, measures.STEP_PREFIX, 3)
    run_id = parse_int(parts[0]) if parts else None
    position = parse_int(parts[1], low=0) if parts else None
    run = await svc.store.measure_run(run_id) if run_id else None
    if (parts is None or member is None or run is None or run.member_id != member.id or position is None
            or not in_private_chat(query)):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    invite = await _invite_of(svc, member, run.hub_id, run.term, run.point)
    if invite is None or not await measures.invite_still_wanted(svc, member, invite):
        has_consent = await svc.store.has_consent(member.id, WELLBEING)
        await refuse(svc, query, "measure.closed" if has_consent else "checkin.no_consent", lang=lang)
        return
    if run.complete or position != run.position:
        await refuse(svc, query, "common.old_button", lang=lang)  # answered already (a double tap) or an old message
        return
    await _step(svc, query, member, invite, run, parts[2])


async def _step(svc: Services, query: CallbackQuery, member: Member, invite: Delivery, run: MeasureRun,
                value_text: str) -> None:
    lang = member.language
    qset = next((s for s in measures.question_sets(svc) if s.id == run.question_set), None)
    if qset is None:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    if value_text == "pause":
        await svc.store.pause_measure_run(run.id, svc.clock.now())
        await edit_and_answer(query, *measures.paused_view(svc, lang, run))
        return
    if value_text == "go":
        await edit_and_answer(query, *await _next_view(svc, member, invite))
        return
    item = qset.items[run.position]
    value = None if value_text == "skip" else measure_rules.parse_value(item, value_text)
    if value is None and value_text != "skip":
        await refuse(svc, query, "common.old_button", lang=lang)  # not a value this question offers
        return
    complete = run.position + 1 == len(qset.items)
    stored = await svc.store.answer_measure_item(run_id=run.id, position=run.position, item=item.id,
                                                 scale=item.scale.id, value=value, complete=complete,
                                                 now=svc.clock.now())
    if not stored:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    text, markup = await _next_view(svc, member, invite)
    if not item.needs_signposting(value):
        await edit_and_answer(query, text, markup)
        return
    # A low answer: close this question, reply with help at once, then ask the next one below the reply.
    chosen = item.scale.labels.get(value, str(value)) if value is not None else ""
    try:
        await edit_and_answer(query, f"{item.text}\n\n✓ {chosen}")
    finally:
        # The answer is stored: the help, and the next question, go out even when the edit or the tap's answer
        # failed; without the next question the person would be left on a question already answered.
        talk = (svc.texts.get("checkin.button_talk", lang), f"sg:talk:r{run.id}")
        await svc.bot.send_message(query.from_user.id, low_answer_reply(svc, lang), reply_markup=keyboard([talk]))
        await svc.bot.send_message(query.from_user.id, text, reply_markup=markup)


async def checkin_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/checkin: carry on with unfinished term questions (or see the invitation again)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or update.effective_chat is None or update.effective_chat.type != "private":
        return
    svc = services(context)
    member = await svc.store.member_by_user(user.id)
    if member is None:
        await message.reply_text(svc.texts.get("common.how_to_join", svc.texts.best_language(user.language_code)))
        return
    invite = await _open_invite(svc, member)
    if invite is None:
        await message.reply_text(svc.texts.get("measure.nothing_waiting", member.language))
        return
    assert invite.hub_id is not None
    runs = await svc.store.measure_runs_for(member.id, invite.hub_id, invite.payload["term"], invite.payload["point"])
    if not runs or needs_who_question(member.role, await svc.store.answer_mode(member.id)):
        text, markup = measures.invite_view(svc, member, invite, started=bool(runs))
    else:
        text, markup = await _next_view(svc, member, invite)
    await message.reply_text(text, reply_markup=markup)


async def _open_invite(svc: Services, member: Member) -> Delivery | None:
    """The newest invitation still answerable with questions left."""
    invites = await svc.store.deliveries_where(kind=measures.INVITE_KIND, chat_id=member.chat_id)
    for invite in reversed(invites):
        if invite.member_id != member.id or invite.state not in ("sent", "sending") or invite.hub_id is None:
            continue
        if not await measures.invite_still_wanted(svc, member, invite):
            continue
        runs = await svc.store.measure_runs_for(member.id, invite.hub_id, invite.payload["term"],
                                                invite.payload["point"])
        if measures.next_set(measures.question_sets(svc), runs) is not None:
            return invite
    return None
