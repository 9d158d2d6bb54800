"""A session as one member sees it: hub, day, time, venue, their answer, and the one-tap RSVP buttons.

Reminders, /next, the "a place is free" notice and every RSVP edit show the same card, so a member always
sees their current answer in the same place.
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime
from babel.lists import format_list
from telegram import InlineKeyboardMarkup

from bot.config import HubSettings
from bot.domain.people import Companion
from bot.domain.sessions import Invitation, Session
from bot.messages.catalog import Catalog
from bot.messages.i18n import format_clock, format_day, local
from bot.messages.keyboards import keyboard

RSVP_PREFIX = "r"
ANSWER_CODES = {"yes": "y", "no": "n", "maybe": "m"}


def rsvp_data(session_id: int, action: str) -> str:
    """`r:<session id>:<action>`: y / n / m answer, w who is coming, t<mask> toggle, c<mask> confirm, s show the
    session's card (a later date in /next)."""
    return f"{RSVP_PREFIX}:{session_id}:{action}"


def when(session: Session, hub: HubSettings, lang: str) -> tuple[str, str]:
    """('Tuesday 24 November', '10:00') in the hub's time zone and the reader's language."""
    return format_day(session.starts_at, hub.tz, lang), format_clock(session.starts_at, hub.tz, lang)


def short_when(session: Session, hub: HubSettings, lang: str) -> str:
    """'Tue 24 Nov, 10:00': for coordinators' lists and buttons."""
    return format_datetime(local(session.starts_at, hub.tz), "EEE d MMM, HH:mm", locale=lang)


def heading(texts: Catalog, session: Session, hub: HubSettings, lang: str) -> str:
    """The lines that name the session: hub, day and time, event title, venue."""
    day, time = when(session, hub, lang)
    lines = [texts.get("reminder.card", lang, hub=hub.name, day=day, time=time)]
    if session.title:
        lines.append(texts.get("reminder.event", lang, title=session.title))
    if hub.venue:
        lines.append(texts.get("reminder.venue", lang, venue=hub.venue))
    return "\n".join(lines)


def coming_companions(invitation: Invitation, companions: list[Companion]) -> list[Companion]:
    if invitation.all_companions:
        return companions
    return [c for c in companions if c.id in invitation.companion_ids]


def session_card(
    texts: Catalog, invitation: Invitation, hub: HubSettings, now: datetime, companions: list[Companion]
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card's text and buttons; no buttons once the session is cancelled or has started.

    `companions`: the member's companions when they answered Yes or Maybe (they can say who is coming), else [].
    """
    session, lang = invitation.session, invitation.member.language
    top = heading(texts, session, hub, lang)
    if session.cancelled:
        return f"{top}\n\n{texts.get('rsvp.closed_cancelled', lang)}", None
    if not session.open_at(now):
        return f"{top}\n\n{texts.get('rsvp.closed_started', lang)}", None
    text = f"{top}\n\n{answer_line(texts, invitation, companions)}"
    if invitation.answer is not None:
        text += "\n" + texts.get("rsvp.can_change", lang)
    return text, rsvp_keyboard(texts, session.id, invitation.answer, lang, with_who=bool(companions))


def answer_line(texts: Catalog, invitation: Invitation, companions: list[Companion]) -> str:
    lang, answer = invitation.member.language, invitation.answer
    if answer is None:
        return texts.get("reminder.question", lang)
    if answer == "yes" and invitation.waitlist_position is not None:
        return texts.get("rsvp.waiting", lang, position=invitation.waitlist_position)
    if answer == "yes":
        coming = coming_companions(invitation, companions)
        if not coming:
            return texts.get("rsvp.said_yes", lang)
        names = [texts.get("rsvp.you", lang), *(c.name for c in coming)]
        return texts.get("rsvp.said_yes_with", lang, names=format_list(names, locale=lang))
    return texts.get(f"rsvp.said_{answer}", lang)


def rsvp_keyboard(
    texts: Catalog, session_id: int, answer: str | None, lang: str, *, with_who: bool
) -> InlineKeyboardMarkup:
    """Yes / No / Maybe in one row, the current answer ticked; "Who is coming?" for a family that answered."""
    row = []
    for name, code in ANSWER_CODES.items():
        label = texts.get(f"rsvp.{name}", lang)
        if name == answer:
            label = texts.get("rsvp.chosen", lang, label=label)
        row.append((label, rsvp_data(session_id, code)))
    rows = [row]
    if with_who:
        rows.append([(texts.get("rsvp.who_button", lang), rsvp_data(session_id, "w"))])
    return keyboard(*rows)
