"""Co-design messages the bot sends on its own: each member's copy of a question, the results to the coordinators
when it closes, and a member's idea to the coordinators.

A question closes at its time through a dispatcher planner that reads the database (so a restart or downtime
closes it on the next tick, once); a coordinator may close it sooner (/questions). Closing and owing the results
happen in one transaction, so the results go out once. Every row is rendered at send time: a question that has
closed is not sent, an idea whose author has been forgotten is not sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from telegram import InlineKeyboardMarkup

from bot.config import HubSettings
from bot.delivery.dispatcher import Outgoing
from bot.domain.codesign import QUESTION_PREFIX, Question
from bot.domain.ledger import Delivery, NewDelivery
from bot.messages.catalog import Catalog
from bot.messages.i18n import format_clock, format_day
from bot.messages.keyboards import keyboard
from bot.reports.codesign import results_message
from bot.reports.summary import Render
from bot.services import Services

QUESTION_KIND = "codesign_question"
RESULTS_KIND = "codesign_results"
IDEA_KIND = "codesign_idea"
RESULTS_LIFETIME = timedelta(days=3)
IDEA_LIFETIME = timedelta(days=7)
RESULT_PARTS = ("public", "private")


def closing_words(texts: Catalog, moment: datetime, hub: HubSettings, lang: str) -> str:
    """'Tuesday 1 December at 10:00', in the hub's time zone and the reader's language."""
    return texts.get("codesign.when", lang, day=format_day(moment, hub.tz, lang),
                     time=format_clock(moment, hub.tz, lang))


def question_card(texts: Catalog, question: Question, hub: HubSettings, lang: str, chosen: int | None,
                  now: datetime) -> tuple[str, InlineKeyboardMarkup | None]:
    """The question as a member sees it: one button per answer (their own marked ✓); no buttons once closed."""
    known = chosen is not None and 0 <= chosen < len(question.options)
    if not question.is_open(now):
        lines = [texts.get("codesign.card_asked", lang, hub=hub.name, question=question.text)]
        if known:
            lines.append(texts.get("codesign.card_final", lang, choice=question.options[chosen or 0]))
        return "\n\n".join([*lines, texts.get("codesign.card_closed", lang)]), None
    text = texts.get("codesign.card", lang, hub=hub.name, question=question.text,
                     when=closing_words(texts, question.closes_at, hub, lang))
    if known:
        text += "\n\n" + texts.get("codesign.card_chosen", lang, choice=question.options[chosen or 0])
    rows = [[(("✓ " if index == chosen else "") + option, f"{QUESTION_PREFIX}:{question.id}:{index}")]
            for index, option in enumerate(question.options)]
    return text, keyboard(*rows)


async def staff_language(svc: Services, chat_id: int) -> str:
    """A coordinator who is also a member reads in their chosen language; others in the configured default."""
    member = await svc.store.member_by_user(chat_id)
    return member.language if member is not None else svc.settings.default_language


async def render_question(delivery: Delivery, svc: Services) -> Outgoing | None:
    """A member's copy, while the question is open and they are in the hub and may be messaged."""
    if delivery.member_id is None:
        return None
    question = await svc.store.question(int(delivery.payload.get("question", 0)))
    member = await svc.store.member_by_id(delivery.member_id)
    now = svc.clock.now()
    if question is None or member is None or not question.is_open(now):
        return None
    hub = svc.hub(question.hub_id)
    if hub is None or member.paused or not member.reachable:
        return None
    if not await svc.store.is_member_of(member.id, hub.id) or not await svc.store.has_consent(member.id, "contact"):
        return None
    chosen = await svc.store.member_answer(question.id, member.id)
    text, markup = question_card(svc.texts, question, hub, member.language, chosen, now)
    return Outgoing(text, markup)


def results_rows(question: Question, hub: HubSettings, now: datetime) -> list[NewDelivery]:
    """What closing a question owes: to each coordinator, the forwardable results and the exact ones."""
    return [
        NewDelivery(kind=RESULTS_KIND, dedupe_key=f"{RESULTS_KIND}:{question.id}:{coordinator}:{part}",
                    chat_id=coordinator, due_at=now, hub_id=hub.id, expires_at=now + RESULTS_LIFETIME,
                    payload={"question": question.id, "part": part})
        for coordinator in hub.coordinators for part in RESULT_PARTS
    ]


async def close_with_results(svc: Services, question: Question, now: datetime, closed_by: int | None,
                             closed_at: datetime | None = None) -> bool:
    """Close the question and owe its results, once; False if it was closed already (or its hub is gone)."""
    hub = svc.hub(question.hub_id)
    rows = results_rows(question, hub, now) if hub is not None else []
    return await svc.store.close_question(question.id, closed_at or now, closed_by, rows)


async def plan_closing(now: datetime, svc: Services) -> int:
    """Close every question whose time has come (after downtime too), recording it as closed at its time."""
    planned = 0
    for question in await svc.store.questions_due_to_close(now):
        if await close_with_results(svc, question, now, None, closed_at=question.closes_at):
            planned += 2 * len(getattr(svc.hub(question.hub_id), "coordinators", ()))
    return planned


async def render_results(delivery: Delivery, svc: Services) -> Outgoing | None:
    hub = svc.hub(delivery.hub_id or "")
    if hub is None or delivery.chat_id not in hub.coordinators:
        return None  # no longer this hub's coordinator
    tally = await svc.store.question_tally(int(delivery.payload.get("question", 0)))
    if tally is None:
        return None
    lang = await staff_language(svc, delivery.chat_id)
    forwardable = delivery.payload.get("part") != "private"
    return Outgoing(results_message(tally, hub.name, Render(svc.texts, lang, forwardable=forwardable)))


def idea_notices(hub: HubSettings, member_id: int, now: datetime) -> list[NewDelivery]:
    """One row per coordinator of the hub; storage adds the idea's id to each key and payload. The payload names
    the member by id, so forgetting them deletes an idea not yet delivered as well."""
    return [NewDelivery(kind=IDEA_KIND, dedupe_key=f"{IDEA_KIND}:", chat_id=coordinator, due_at=now, hub_id=hub.id,
                        expires_at=now + IDEA_LIFETIME, payload={"member_id": member_id})
            for coordinator in hub.coordinators]


async def render_idea(delivery: Delivery, svc: Services) -> Outgoing | None:
    hub = svc.hub(delivery.hub_id or "")
    if hub is None or delivery.chat_id not in hub.coordinators:
        return None
    idea = await svc.store.idea(int(delivery.payload.get("idea", 0)))
    if idea is None or idea.text is None or idea.member_id is None:
        return None
    member = await svc.store.member_by_id(idea.member_id)
    if member is None:
        return None
    lang = await staff_language(svc, delivery.chat_id)
    return Outgoing(svc.texts.get("codesign.idea_notice", lang, name=member.first_name, hub=hub.name,
                                  text=idea.text))
