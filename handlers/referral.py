"""Referrals at /start: a referred person's link (`ref_<code>`) and a referrer's own link (`rfw_<code>`).

Both payloads have a fixed, validated shape (a prefix and 12 letters or digits), distinct from a hub id or any
other payload, and are looked up in the database; anything else is not theirs. A referred person joins the hub
as anyone does, and is asked one more question, separately and optionally: may the referrer be told, once, that
they came. A referrer who opens their own link registers this chat to receive that one notice; their name is never
stored. handlers.join calls these functions, so joining itself stays in one place.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiosqlite
from telegram import InlineKeyboardMarkup, Message, Update, User
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.domain.people import Member
from bot.messages.callbacks import parse_callback
from bot.messages.catalog import Catalog
from bot.messages.i18n import format_full_date
from bot.messages.keyboards import keyboard
from bot.services import Services, services
from handlers.common import close_question, refuse
from storage.referrals import CODE_LENGTH, record_referral

PEOPLE_PREFIX = "ref_"
REFERRER_PREFIX = "rfw_"
PEOPLE_LINK = re.compile(rf"^{PEOPLE_PREFIX}[A-Za-z0-9]{{{CODE_LENGTH}}}$")
REFERRER_LINK = re.compile(rf"^{REFERRER_PREFIX}[A-Za-z0-9]{{{CODE_LENGTH}}}$")
CONSENT_STEP = "refc"
CONSENT_VERSION = "referral-notice-v1"
ANSWER_LABELS = {"yes": "referral.button_yes", "no": "referral.button_no"}
CHANGE_PREFIX = "rfc"  # rfc:on / rfc:off from /consent: change the answer while the notice is not yet owed


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CallbackQueryHandler(on_change, pattern=rf"^{CHANGE_PREFIX}:"), group)


def claims(payload: str) -> bool:
    """Whether a /start payload is a referral link's (either kind), well formed or not: a payload that starts
    like one is answered here, never taken for a hub id."""
    return payload.startswith((PEOPLE_PREFIX, REFERRER_PREFIX))


async def on_start(svc: Services, message: Message, user: User, payload: str,
                   lang: str) -> tuple[str, dict[str, Any]] | None:
    """Answer a referral payload. Returns (hub id, what the join draft should carry) when the person should go on
    to join the hub; None when it was fully answered here (a referrer registered, or a link that does not work)."""
    now = svc.clock.now()
    if REFERRER_LINK.match(payload):
        link = await svc.store.register_referrer(payload[len(REFERRER_PREFIX):], user.id, lang, now)
        if link is None or svc.hub(link.hub_id) is None:
            await message.reply_text(svc.texts.get("referral.unknown_link", lang))
            return None
        hub = svc.hub(link.hub_id)
        assert hub is not None
        await message.reply_text(svc.texts.get("referral.referrer_registered", lang, organisation=link.organisation,
                                               hub=hub.name))
        return None
    link = await svc.store.referral_link(payload[len(PEOPLE_PREFIX):]) if PEOPLE_LINK.match(payload) else None
    if link is None or svc.hub(link.hub_id) is None:
        await message.reply_text(svc.texts.get("referral.unknown_link", lang))
        return None
    return link.hub_id, {"ref": link.id, "ref_org": link.organisation}


def step_after_role(data: dict[str, Any]) -> str | None:
    """The consent question comes after the role for someone who came through a referral link."""
    return CONSENT_STEP if isinstance(data.get("ref"), int) else None


def consent_question(texts: Catalog, lang: str, data: dict[str, Any],
                     prefix: str) -> tuple[str, InlineKeyboardMarkup]:
    organisation = str(data.get("ref_org", ""))
    return texts.get("referral.consent_question", lang, organisation=organisation), keyboard([
        (texts.get(ANSWER_LABELS["yes"], lang), f"{prefix}:{CONSENT_STEP}:yes"),
        (texts.get(ANSWER_LABELS["no"], lang), f"{prefix}:{CONSENT_STEP}:no"),
    ])


def recorder(data: dict[str, Any], hub_id: str,
             now: datetime) -> Callable[[aiosqlite.Connection, int], Awaitable[None]] | None:
    """What the join's transaction should also write: the referral and the answer about telling the referrer."""
    link_id = data.get("ref")
    if not isinstance(link_id, int):
        return None
    consent = data.get("ref_notify") is True

    async def record(conn: aiosqlite.Connection, member_id: int) -> None:
        await record_referral(conn, member_id, link_id, hub_id, consent, CONSENT_VERSION, now)

    return record


async def consent_part(svc: Services, member: Member) -> tuple[str, tuple[str, str] | None] | None:
    """For /consent: the member's answer about telling the referrer, and a button to change it while the notice
    is not yet owed. None for a member who did not come through a referral link."""
    answer = await svc.store.referral_consent(member.id)
    if answer is None:
        return None
    t, lang = svc.texts, member.language
    hub = svc.hub(answer.hub_id)
    tz = hub.timezone if hub else "Europe/London"
    org = answer.organisation
    if answer.told_at is not None:
        return t.get("referral.consent_told", lang, organisation=org,
                     date=format_full_date(answer.told_at, tz, lang)), None
    if answer.consent:
        line = t.get("referral.consent_yes", lang, organisation=org,
                     date=format_full_date(answer.answered_at, tz, lang))
        return line, (t.get("referral.button_stop_telling", lang, organisation=org), f"{CHANGE_PREFIX}:off")
    return (t.get("referral.consent_no", lang, organisation=org),
            (t.get("referral.button_start_telling", lang, organisation=org), f"{CHANGE_PREFIX}:on"))


async def on_change(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, query = services(context), update.callback_query
    if query is None:
        return
    member, lang = await svc.person(query.from_user)
    parts = parse_callback(query.data, CHANGE_PREFIX, 1)
    answer = await svc.store.referral_consent(member.id) if member is not None else None
    if parts is None or parts[0] not in ("on", "off") or member is None or answer is None:
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    tell = parts[0] == "on"
    if not await svc.store.set_referral_consent(member.id, tell, CONSENT_VERSION, svc.clock.now()):
        await refuse(svc, query, "common.old_button", lang=lang)  # already so, or the notice is already owed
        return
    await query.answer()
    key = "referral.started_telling" if tell else "referral.stopped_telling"
    await close_question(query, svc.texts.get(key, lang, organisation=answer.organisation))
