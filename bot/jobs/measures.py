"""Term measures (ONS4, loneliness, any configured licensed set): who is invited when, and what they see.

When: two hours after the first held session of a term ends ("start") and two hours after the last held one
ends ("end"), so the invitation follows the after-session check-in instead of crowding it. The dates come
from the timetable (bot.domain.calendar), so a fresh install in the middle of a term does not ask a "start" set. Every
current member of the hub with wellbeing consent is invited (whether or not they came that day); someone who
joins within INVITE_WINDOW of that point is invited too. Answers are taken until ANSWER_WINDOW after it.
Hubs without terms have no term measures.

How: one message, edited step by step. Each question can be skipped; "Pause" keeps the place (measure_runs
.position) and "Continue" or /checkin resumes it, also after a restart. The questions are shown only in their
validated language: anyone reading another language is told why, in their language, and offered English or
to skip.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from telegram import InlineKeyboardMarkup

from bot.config import HubSettings, Term
from bot.delivery.dispatcher import Outgoing
from bot.domain.calendar import sessions_between
from bot.domain.consent import WELLBEING
from bot.domain.ledger import Delivery, NewDelivery
from bot.domain.measures import (
    ANSWER_WINDOW,
    INVITE_KIND,
    INVITE_PREFIX,
    INVITE_WINDOW,
    STEP_PREFIX,
    invite_due,
    invite_key,
    needs_language_note,
    next_set,
    progress,
    term_points,
)
from bot.domain.people import Member
from bot.domain.questionsets import QuestionSet
from bot.domain.wellbeing import MeasureRun
from bot.jobs.checkins import ANSWERED_AS
from bot.messages.keyboards import keyboard
from bot.services import Services
from storage.db import from_db, to_db

SETS_KEY = "question_sets"
KEYPAD_ROW = 3  # the access rule: at most three buttons a row, so 0-10 is 0 1 2 / 3 4 5 / 6 7 8 / 9 10


# ---------------------------------------------------------------------------------------------- pure rules


def answer_until(delivery: Delivery) -> datetime | None:
    until = delivery.payload.get("until")
    return from_db(until) if isinstance(until, str) else None


# ---------------------------------------------------------------------------------------------- views

def question_sets(svc: Services) -> tuple[QuestionSet, ...]:
    return svc.application.bot_data.get(SETS_KEY, ()) if svc.application is not None else ()


def invite_view(
    svc: Services, member: Member, delivery: Delivery, *, started: bool
) -> tuple[str, InlineKeyboardMarkup]:
    t, lang = svc.texts, member.language
    point = delivery.payload.get("point", "start")
    lines = [t.get(f"measure.invite_{point}", lang, organisation=svc.settings.organisation.name)]
    go_key = "button_continue" if started else "button_start"
    if needs_language_note(lang, question_sets(svc)):
        lines.append(t.get("measure.language_note", lang))
        go_key = "button_english"
    go = (t.get(f"measure.{go_key}", lang), f"{INVITE_PREFIX}:{delivery.id}:go")
    no = (t.get("measure.button_not_now", lang), f"{INVITE_PREFIX}:{delivery.id}:no")
    return "\n\n".join(lines), keyboard([go], [no])


def who_view(svc: Services, lang: str, delivery_id: int) -> tuple[str, InlineKeyboardMarkup]:
    rows = [[(svc.texts.get(f"checkin.button_{mode}", lang), f"{INVITE_PREFIX}:{delivery_id}:{mode}")]
            for mode in ANSWERED_AS]
    return svc.texts.get("checkin.who_question", lang), keyboard(*rows)


def question_view(svc: Services, lang: str, qset: QuestionSet, run: MeasureRun) -> tuple[str, InlineKeyboardMarkup]:
    """One item: progress, the set's intro on its first item, the exact wording, the scale hint, copyright."""
    item = qset.items[run.position]
    number, total = progress(question_sets(svc), qset.id, run.position)
    parts = [svc.texts.get("measure.progress", lang, n=number, total=total)]
    if run.position == 0 and qset.intro:
        parts.append(qset.intro)
    parts.append(item.text)
    if item.scale.hint:
        parts.append(item.scale.hint)
    if qset.copyright:
        parts.append(qset.copyright)
    data = f"{STEP_PREFIX}:{run.id}:{run.position}"
    if item.scale.keypad:
        values = [(str(v), f"{data}:{v}") for v in item.scale.values]
        rows = [values[i:i + KEYPAD_ROW] for i in range(0, len(values), KEYPAD_ROW)]
    else:
        rows = [[(item.scale.labels[v], f"{data}:{v}")] for v in item.scale.values]
    rows.append([(svc.texts.get("measure.button_skip", lang), f"{data}:skip")])
    rows.append([(svc.texts.get("measure.button_pause", lang), f"{data}:pause")])
    return "\n\n".join(parts), keyboard(*rows)


def paused_view(svc: Services, lang: str, run: MeasureRun) -> tuple[str, InlineKeyboardMarkup]:
    go = (svc.texts.get("measure.button_continue", lang), f"{STEP_PREFIX}:{run.id}:{run.position}:go")
    return svc.texts.get("measure.paused", lang), keyboard([go])


# ---------------------------------------------------------------------------------------------- flow

async def current_question(
    svc: Services, member: Member, hub_id: str, term: str, point: str
) -> tuple[QuestionSet, MeasureRun] | None:
    """The set and run to ask next (starting the run, resuming it if paused); None when all is answered."""
    sets = question_sets(svc)
    runs = await svc.store.measure_runs_for(member.id, hub_id, term, point)
    qset = next_set(sets, runs)
    if qset is None:
        return None
    run = next((r for r in runs if r.question_set == qset.id), None)
    if run is None:
        mode = await svc.store.answer_mode(member.id)
        run = await svc.store.start_measure_run(member_id=member.id, hub_id=hub_id, term=term, point=point,
                                                question_set=qset.id, answered_as=mode or "self",
                                                now=svc.clock.now())
    elif run.paused_at is not None:
        await svc.store.resume_measure_run(run.id)
    return qset, run


async def decline_rest(svc: Services, member: Member, hub_id: str, term: str, point: str) -> None:
    """"Not this time": every question not yet answered is stored as skipped, so nobody is asked again."""
    while (step := await current_question(svc, member, hub_id, term, point)) is not None:
        qset, run = step
        remaining = [(item.id, item.scale.id) for item in qset.items[run.position:]]
        if not await svc.store.skip_rest_of_run(run.id, remaining, svc.clock.now()):
            break  # finished meanwhile by another tap


# ---------------------------------------------------------------------------------------------- planner, renderer

def _planner_terms(hub: HubSettings, today: date) -> list[Term]:
    """Terms whose start or end invitations could be due around today."""
    return [term for term in hub.terms
            if term.start - timedelta(days=1) <= today <= term.end + timedelta(days=1) + INVITE_WINDOW]


async def plan_measure_invites(now: datetime, svc: Services) -> int:
    """Queue the term-start and term-end invitations that are due (once per member, hub, term and point)."""
    if not question_sets(svc):
        return 0
    items: list[NewDelivery] = []
    for hub in svc.settings.hubs:
        for term in _planner_terms(hub, now.astimezone(hub.tz).date()):
            planned = sessions_between(hub, term.start, term.end)
            stored = await svc.store.sessions_of_term(hub.id, term.name, [s.key for s in planned])
            cancelled = {key for key, (_, is_cancelled) in stored.items() if is_cancelled}
            for point, session in term_points(hub, term, cancelled).items():
                due = invite_due(session)
                if not due <= now < due + INVITE_WINDOW:
                    continue
                session_id = stored.get(session.key, (None, False))[0]
                key = invite_key(hub.id, term.name, point)
                items += [
                    NewDelivery(
                        kind=INVITE_KIND, dedupe_key=f"{key}{member.id}",
                        chat_id=member.chat_id, due_at=due, member_id=member.id, hub_id=hub.id,
                        session_id=session_id, expires_at=due + INVITE_WINDOW,
                        payload={"term": term.name, "point": point, "until": to_db(due + ANSWER_WINDOW)},
                    )
                    for member in await svc.store.wellbeing_members_of_hub(hub.id, unplanned_key=key)
                ]
    return await svc.store.enqueue_deliveries(items, now) if items else 0


async def invite_still_wanted(svc: Services, member: Member | None, delivery: Delivery) -> bool:
    until = answer_until(delivery)
    return (
        member is not None and not member.paused and member.chat_id == member.telegram_user_id
        and delivery.hub_id is not None and until is not None and svc.clock.now() < until
        and await svc.store.has_consent(member.id, WELLBEING)
    )


async def render_invite(delivery: Delivery, svc: Services) -> Outgoing | None:
    """The invitation, or None (skipped) if consent was withdrawn or everything is already answered."""
    member = await svc.store.member_by_id(delivery.member_id) if delivery.member_id is not None else None
    if member is None or not await invite_still_wanted(svc, member, delivery):
        return None
    assert delivery.hub_id is not None
    runs = await svc.store.measure_runs_for(member.id, delivery.hub_id, delivery.payload["term"],
                                            delivery.payload["point"])
    if next_set(question_sets(svc), runs) is None:
        return None
    text, markup = invite_view(svc, member, delivery, started=bool(runs))
    return Outgoing(text, markup)
