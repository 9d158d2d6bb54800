"""Joining a hub: invite link -> language -> age -> privacy and consents -> role -> companions -> member.

Every step is kept in the join_drafts table, so a restart in the middle loses nothing, and
every button is checked against the step the person is actually on.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.config import HubSettings
from bot.domain import consent
from bot.domain.invites import looks_like_invite_code
from bot.domain.people import MAX_NAME, JoinDraft, NewCompanion, clean_name, name_problem
from bot.jobs.reminders import member_card
from bot.messages.callbacks import parse_callback
from bot.messages.catalog import LANGUAGES
from bot.messages.i18n import format_duration
from bot.messages.keyboards import grid, keyboard
from bot.services import Services, services
from handlers import referral
from handlers.common import close_question, refuse
from handlers.coordinator.invite import send_request_card
from handlers.text_input import register_text_input

PREFIX = "j"
HUB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ROLES = ("family", "carer", "participant", "volunteer")
AGE_BANDS = ("under_5", "age_5_11", "age_12_15", "age_16_17", "adult", "older")
RELATIONSHIPS = ("child", "grandchild", "supported", "partner", "friend", "other")
MAX_COMPANIONS = 8
NAME_INPUT = "join.companion_name"
BUTTONS_INPUT = "join.buttons"

COMMANDS = ("start",)


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CommandHandler("start", start), group)
    application.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:"), group)
    register_text_input(application, NAME_INPUT, on_companion_name)
    register_text_input(application, BUTTONS_INPUT, on_text_instead_of_button)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, /start <hub id>: begin joining, or for a member, turn messages back on."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or update.effective_chat is None or update.effective_chat.type != "private":
        return
    svc = services(context)
    member, lang = await svc.person(user)
    payload = context.args[0] if context.args else ""
    if member is not None and member.paused:
        await svc.store.set_paused(member.id, False, svc.clock.now())
        await message.reply_text(svc.texts.get("common.resumed", lang))
        if not payload:
            return
    if not payload:
        key = "common.help" if member else "common.how_to_join"
        await message.reply_text(svc.texts.get(key, lang, **_signposts(svc)))
        return
    extra: dict[str, Any] = {}
    if referral.claims(payload):  # issue 17: a referral link (ref_...) or a referrer's own link (rfw_...)
        referred = await referral.on_start(svc, message, user, payload, lang)
        if referred is None:
            return
        hub_id, extra = referred
        hub = svc.hub(hub_id)  # a referral link is an invitation of its own, whatever the hub's invite code
    else:
        hub = await invited_hub(svc, payload)
    if hub is None:
        await message.reply_text(svc.texts.get("invite.link_not_valid", lang))
        return
    if member is not None:
        if await svc.store.is_member_of(member.id, hub.id):
            await message.reply_text(svc.texts.get("join.already_member", lang, hub=hub.name))
            return
        if await svc.store.open_join_request(member.id, hub.id) is not None:
            await message.reply_text(svc.texts.get("invite.still_waiting", lang, hub=hub.name))
            return
        await _ask(svc, message.chat_id, JoinDraft(user.id, hub.id, "again", {"lang": lang}))
        return
    await _ask(svc, message.chat_id, JoinDraft(user.id, hub.id, "lang", {"lang": lang, **extra}))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    parts = parse_callback(query.data, PREFIX, 2)
    draft = await svc.store.join_draft(query.from_user.id)
    if parts is None or draft is None or parts[0] != draft.step or svc.hub(draft.hub_id) is None:
        lang = draft.data.get("lang") if draft else svc.texts.best_language(query.from_user.language_code)
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    step, value = parts
    handler = _STEPS.get(step)
    if handler is None or not await handler(svc, query, draft, value):
        await query.answer(svc.texts.get("common.old_button", draft.data.get("lang")), show_alert=True)
        return
    await query.answer()


async def _step_lang(svc: Services, query: CallbackQuery, draft: JoinDraft, value: str) -> bool:
    if not svc.texts.supports(value):
        return False
    await close_question(query, LANGUAGES[value].name)
    await _ask(svc, query.from_user.id, _next(draft, "age", lang=value))
    return True


async def _step_age(svc: Services, query: CallbackQuery, draft: JoinDraft, value: str) -> bool:
    lang = draft.data["lang"]
    if value == "no":
        await close_question(query, svc.texts.get("buttons.no_16", lang))
        await svc.store.discard_join_draft(draft.telegram_user_id)
        await svc.store.clear_input(draft.telegram_user_id)
        await query.get_bot().send_message(query.from_user.id, svc.texts.get("join.under_16", lang))
        return True
    if value != "yes":
        return False
    await close_question(query, svc.texts.get("buttons.yes_16", lang))
    await _ask(svc, query.from_user.id, _next(draft, "contact"))
    return True


async def _step_contact(svc: Services, query: CallbackQuery, draft: JoinDraft, value: str) -> bool:
    lang = draft.data["lang"]
    if value == "no":
        await close_question(query, svc.texts.get("buttons.decline", lang))
        await svc.store.discard_join_draft(draft.telegram_user_id)
        await svc.store.clear_input(draft.telegram_user_id)
        await query.get_bot().send_message(query.from_user.id, svc.texts.get("join.contact_declined", lang))
        return True
    if value != "yes":
        return False
    await close_question(query, svc.texts.get("buttons.agree", lang))
    await _ask(svc, query.from_user.id, _next(draft, "wb", contact=True))
    return True


async def _step_wellbeing(svc: Services, query: CallbackQuery, draft: JoinDraft, value: str) -> bool:
    if value not in ("yes", "no"):
        return False
    label = "buttons.wellbeing_yes" if value == "yes" else "buttons.wellbeing_no"
    await close_question(query, svc.texts.get(label, draft.data["lang"]))
    await _ask(svc, query.from_user.id, _next(draft, "role", wellbeing=value == "yes"))
    return True


async def _step_role(svc: Services, query: CallbackQuery, draft: JoinDraft, value: str) -> bool:
    if value not in ROLES:
        return False
    await close_question(query, svc.texts.get(f"buttons.role_{value}", draft.data["lang"]))
    await _ask(svc, query.from_user.id, _next(draft, referral.step_after_role(draft.data) or "comp", role=value))
    return True


async def _step_referral_consent(svc: Services, query: CallbackQuery, draft: JoinDraft, value: str) -> bool:
    """Issue 17: the separate, optional consent to tell the referrer once that the person came."""
    if value not in referral.ANSWER_LABELS or referral.step_after_role(draft.data) is None:
        return False
    await close_question(query, svc.texts.get(referral.ANSWER_LABELS[value], draft.data["lang"]))
    await _ask(svc, query.from_user.id, _next(draft, "comp", ref_notify=value == "yes"))
    return True


async def _step_companions(svc: Services, query: CallbackQuery, draft: JoinDraft, value: str) -> bool:
    lang = draft.data["lang"]
    if value == "add":
        if len(draft.data.get("companions", [])) >= MAX_COMPANIONS:
            await query.get_bot().send_message(
                query.from_user.id, svc.texts.get(
                    "join.companions_full", lang, max=svc.texts.plural("counts.people", lang, MAX_COMPANIONS))
            )
            return True
        await close_question(query, svc.texts.get("buttons.add_person", lang))
        await _ask(svc, query.from_user.id, _next(draft, "cname"))
        return True
    if value != "done":
        return False
    await close_question(query, svc.texts.get("buttons.that_is_all", lang))
    await _finish(svc, query, draft)
    return True


async def _step_companion_age(svc: Services, query: CallbackQuery, draft: JoinDraft, value: str) -> bool:
    if value not in AGE_BANDS or "pending" not in draft.data:
        return False
    await close_question(query, svc.texts.get(f"age_band.{value}", draft.data["lang"]))
    pending = {**draft.data["pending"], "age_band": value}
    await _ask(svc, query.from_user.id, _next(draft, "crel", pending=pending))
    return True


async def _step_companion_relationship(svc: Services, query: CallbackQuery, draft: JoinDraft, value: str) -> bool:
    pending = draft.data.get("pending")
    if value not in RELATIONSHIPS or not pending or "age_band" not in pending:
        return False
    lang = draft.data["lang"]
    await close_question(query, svc.texts.get(f"relationship.{value}", lang))
    companions = [*draft.data.get("companions", []), {**pending, "relationship": value}]
    data = {key: item for key, item in draft.data.items() if key != "pending"}
    await query.get_bot().send_message(
        query.from_user.id, svc.texts.get("join.companion_added", lang, name=pending["name"])
    )
    await _ask(svc, query.from_user.id, JoinDraft(draft.telegram_user_id, draft.hub_id, "comp",
                                                  {**data, "companions": companions}))
    return True


async def _step_join_again(svc: Services, query: CallbackQuery, draft: JoinDraft, value: str) -> bool:
    """An existing member joining a further hub: their consents and companions carry over."""
    lang = draft.data["lang"]
    member = await svc.store.member_by_user(query.from_user.id)
    hub = svc.hub(draft.hub_id)
    if value not in ("yes", "no") or member is None or hub is None:
        return False
    await svc.store.discard_join_draft(draft.telegram_user_id)
    await svc.store.clear_input(draft.telegram_user_id)
    if value == "no":
        await close_question(query, svc.texts.get("buttons.join_no", lang))
        await query.get_bot().send_message(query.from_user.id, svc.texts.get("join.cancelled", lang))
        return True
    await close_question(query, svc.texts.get("buttons.join_yes", lang))
    if hub.approval:
        await svc.store.request_to_join(member.id, hub.id, svc.clock.now())
        await ask_for_approval(svc, member.id, hub, lang)
        return True
    await svc.store.add_membership(member.id, hub.id, svc.clock.now())
    await query.get_bot().send_message(query.from_user.id, svc.texts.get("join.done", lang, hub=hub.name))
    return True


_STEPS = {
    "lang": _step_lang,
    "age": _step_age,
    "contact": _step_contact,
    "wb": _step_wellbeing,
    "role": _step_role,
    "comp": _step_companions,
    "cage": _step_companion_age,
    "crel": _step_companion_relationship,
    "again": _step_join_again,
    referral.CONSENT_STEP: _step_referral_consent,
}


async def on_companion_name(update: Update, context: ContextTypes.DEFAULT_TYPE, _: dict[str, Any]) -> None:
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    svc = services(context)
    draft = await svc.store.join_draft(user.id)
    if draft is None or draft.step != "cname":
        await svc.store.clear_input(user.id)
        await message.reply_text(svc.texts.get("common.text_not_needed", svc.texts.best_language(user.language_code)))
        return
    problem = name_problem(message.text or "")
    if problem is not None:
        await message.reply_text(name_refusal(svc, problem, draft.data["lang"]))
        return
    name = clean_name(message.text or "")
    assert name is not None
    await _ask(svc, message.chat_id, _next(draft, "cage", pending={"name": name}))


async def on_text_instead_of_button(update: Update, context: ContextTypes.DEFAULT_TYPE, _: dict[str, Any]) -> None:
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    svc = services(context)
    draft = await svc.store.join_draft(user.id)
    if draft is None:
        await svc.store.clear_input(user.id)
        await message.reply_text(svc.texts.get("common.text_not_needed", svc.texts.best_language(user.language_code)))
        return
    await message.reply_text(svc.texts.get("common.use_buttons", draft.data.get("lang")))
    await _ask(svc, message.chat_id, draft)



def _next(draft: JoinDraft, step: str, **changes: Any) -> JoinDraft:
    return JoinDraft(draft.telegram_user_id, draft.hub_id, step, {**draft.data, **changes})


async def _ask(svc: Services, chat_id: int, draft: JoinDraft) -> None:
    """Store the draft at its step, then send that step's question (the draft is saved before asking)."""
    now = svc.clock.now()
    await svc.store.save_join_draft(draft, now)
    kind = NAME_INPUT if draft.step == "cname" else BUTTONS_INPUT
    await svc.store.expect_input(draft.telegram_user_id, kind, {}, now)
    text, markup = _question(svc, draft)
    await svc.bot.send_message(chat_id, text, reply_markup=markup)


def _question(svc: Services, draft: JoinDraft) -> tuple[str, InlineKeyboardMarkup | None]:
    t, lang, step = svc.texts, draft.data["lang"], draft.step
    hub = svc.hub(draft.hub_id)
    hub_name = hub.name if hub else draft.hub_id

    def b(key: str, value: str) -> tuple[str, str]:
        return t.get(f"buttons.{key}", lang), f"{PREFIX}:{step}:{value}"

    if step == "lang":
        ordered = sorted(t.languages, key=lambda language: language.code != lang)
        items = [(("✓ " if x.code == lang else "") + x.name, f"{PREFIX}:lang:{x.code}") for x in ordered]
        return t.get("join.welcome", lang, hub=hub_name), grid(items)
    if step == "age":
        return t.get("join.age_question", lang), keyboard([b("yes_16", "yes"), b("no_16", "no")])
    if step == "contact":
        notice = t.get("privacy.notice", lang, **_privacy_values(svc, lang))
        return f"{notice}\n\n{t.get('join.contact_question', lang)}", keyboard([b("agree", "yes"), b("decline", "no")])
    if step == "wb":
        return t.get("join.wellbeing_question", lang), keyboard([b("wellbeing_yes", "yes"), b("wellbeing_no", "no")])
    if step == "role":
        return t.get("join.role_question", lang), grid([b(f"role_{role}", role) for role in ROLES], per_row=2)
    if step == "comp":
        first = not draft.data.get("companions")
        add = b("add_person" if first else "add_another", "add")
        done = b("nobody" if first else "that_is_all", "done")
        return t.get("join.companions_question", lang), keyboard([add, done])
    if step == "cname":
        return t.get("join.companion_name", lang), None
    name = draft.data.get("pending", {}).get("name", "")
    if step == "cage":
        items = [(t.get(f"age_band.{band}", lang), f"{PREFIX}:cage:{band}") for band in AGE_BANDS]
        return t.get("join.companion_age", lang, name=name), grid(items)
    if step == "crel":
        items = [(t.get(f"relationship.{rel}", lang), f"{PREFIX}:crel:{rel}") for rel in RELATIONSHIPS]
        return t.get("join.companion_relationship", lang, name=name), grid(items, per_row=2)
    if step == referral.CONSENT_STEP:
        return referral.consent_question(t, lang, draft.data, PREFIX)
    if step == "again":
        return t.get("join.join_another", lang, hub=hub_name), keyboard([b("join_yes", "yes"), b("join_no", "no")])
    raise ValueError(f"unknown join step {step}")


async def _finish(svc: Services, query: CallbackQuery, draft: JoinDraft) -> None:
    """Write the member with both consent answers and companions in one transaction, then confirm."""
    data, lang, user = draft.data, draft.data["lang"], query.from_user
    hub = svc.hub(draft.hub_id)
    assert hub is not None
    consents = {consent.CONTACT: consent.TEXT_VERSIONS[consent.CONTACT]}
    if data.get("wellbeing"):
        consents[consent.WELLBEING] = consent.TEXT_VERSIONS[consent.WELLBEING]
    companions = [NewCompanion(c["name"], c["age_band"], c["relationship"]) for c in data.get("companions", [])]
    await svc.store.complete_join(
        telegram_user_id=user.id,
        chat_id=user.id,
        first_name=(user.first_name or "?")[:64],
        language=lang,
        role=data["role"],
        hub_id=hub.id,
        consents=consents,
        companions=companions,
        now=svc.clock.now(),
        needs_approval=hub.approval,
        also=referral.recorder(data, hub.id, svc.clock.now()),
    )
    await svc.store.clear_input(user.id)
    if hub.approval:
        member = await svc.store.member_by_user(user.id)
        assert member is not None
        await ask_for_approval(svc, member.id, hub, lang)
        return
    text = svc.texts.get("join.done", lang, hub=hub.name)
    if companions:
        text += "\n" + svc.texts.get("join.done_with", lang, names=", ".join(c.name for c in companions))
    await query.get_bot().send_message(user.id, text)
    await _next_session_card(svc, query, hub, user.id)


async def _next_session_card(svc: Services, query: CallbackQuery, hub: HubSettings, user_id: int) -> None:
    """The hub's next session with its Yes / No / Maybe buttons, at once: someone joining after the reminder went
    out would otherwise hear nothing until the next one."""
    member = await svc.store.member_by_user(user_id)
    sessions = await svc.store.upcoming_sessions(hub.id, svc.clock.now(), 1)
    if member is None or not sessions:
        return
    invitation = await svc.store.invitation(sessions[0].id, member.id)
    if invitation is None:
        return
    text, markup = await member_card(svc, invitation, hub, svc.clock.now())
    await query.get_bot().send_message(user_id, text, reply_markup=markup)



def _signposts(svc: Services) -> dict[str, str]:
    signs = svc.settings.safeguarding.signposting
    return {"emergency": signs.emergency, "samaritans": signs.samaritans}


def _privacy_values(svc: Services, lang: str) -> dict[str, str]:
    org, days = svc.settings.organisation, svc.settings.retention.anonymise_answers_after_days
    return {"organisation": org.name, "contact": org.contact, "retention": format_duration(days, lang)}


def name_refusal(svc: Services, problem: str, lang: str) -> str:
    """Why a name was not taken, and what to send instead."""
    key = "join.name_too_long" if problem == "too_long" else "join.name_not_a_name"
    return svc.texts.get(key, lang, max=svc.texts.plural("counts.letters", lang, MAX_NAME))


# Invite codes and approval (issue 14), kept apart from the steps above.

async def invited_hub(svc: Services, payload: str) -> HubSettings | None:
    """The hub a deep-link payload lets someone join: a hub's *current* invite code, or the hub's id where its
    link is open (`open_link`). An old code, a closed hub's id and anything else: None, refused in one way."""
    if looks_like_invite_code(payload):
        hub_id = await svc.store.hub_of_invite_code(payload)
        if hub_id is not None:
            return svc.hub(hub_id)
    hub = svc.hub(payload) if HUB_ID.match(payload) else None
    return hub if hub is not None and hub.open_link else None


async def ask_for_approval(svc: Services, member_id: int, hub: HubSettings, lang: str) -> None:
    """The request is stored: tell the person it waits, and send each of the hub's coordinators Accept / Decline."""
    member = await svc.store.member_by_id(member_id)
    request = await svc.store.open_join_request(member_id, hub.id)
    assert member is not None and request is not None
    await svc.bot.send_message(member.chat_id, svc.texts.get("invite.waiting", lang, hub=hub.name))
    for coordinator in hub.coordinators:
        await send_request_card(svc, coordinator, request)

