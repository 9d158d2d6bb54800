"""A person's data rights in the chat: /mydata (export), /forget (erasure), /stop (pause), /consent (change).

Every button is re-checked against the database and the tapping user; ids in callback data are never
trusted. Erasure and consent changes are single store calls, each one transaction.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.domain import consent
from bot.domain.people import Member
from bot.messages.callbacks import parse_callback
from bot.messages.catalog import LANGUAGES
from bot.messages.i18n import format_duration, format_full_date
from bot.messages.keyboards import keyboard
from bot.services import Services, services
from handlers import referral
from handlers.common import close_question, refuse

log = logging.getLogger(__name__)

PREFIX = "rt"
COMMANDS = ("mydata", "consent", "stop", "forget")
KINDS = (consent.CONTACT, consent.WELLBEING)


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("mydata", mydata_command, filters=private), group)
    application.add_handler(CommandHandler("consent", consent_command, filters=private), group)
    application.add_handler(CommandHandler("stop", stop_command, filters=private), group)
    application.add_handler(CommandHandler("forget", forget_command, filters=private), group)
    application.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:"), group)


def register_start(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    """/start from a member who had withdrawn contact consent turns it back on; joining's /start still runs."""
    application.add_handler(
        CommandHandler("start", contact_consent_back_on_start, filters=filters.ChatType.PRIVATE), group
    )


async def mydata_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send every row about the person as a JSON file, then a short summary in their language."""
    svc, user, message = services(context), update.effective_user, update.effective_message
    if user is None or message is None:
        return
    member, lang = await svc.person(user)
    export = await svc.store.export_person(user.id)
    if export.empty:
        await message.reply_text(svc.texts.get("rights.nothing_held", lang))
        return
    now = svc.clock.now()
    document = {
        "about": "Everything the IMM music hubs bot holds about you and the people you added.",
        "organisation": svc.settings.organisation.name,
        "contact": svc.settings.organisation.contact,
        "exported_at": now.isoformat(),
        "telegram_user_id": user.id,
        "tables": export.tables,
    }
    content = json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    caption = svc.texts.get("rights.mydata_caption", lang)
    await message.reply_document(InputFile(content, filename=f"my-data-{now:%Y-%m-%d}.json"), caption=caption)
    if member is None:
        await message.reply_text(svc.texts.get("rights.mydata_not_member", lang))
        return
    answers, ideas = await svc.store.member_codesign_counts(member.id)
    summary = await _summary(svc, member, export.count("rsvps"))
    if answers or ideas:
        summary += "\n\n" + svc.texts.get("codesign.mydata_line", member.language, answers=answers, ideas=ideas)
    await message.reply_text(summary)


async def _summary(svc: Services, member: Member, rsvps: int) -> str:
    t, lang = svc.texts, member.language
    hubs = [svc.hub(hub_id) for hub_id in await svc.store.hub_ids_of_member(member.id)]
    companions = [
        f"{c.name} ({t.get(f'age_band.{c.age_band}', lang)})" for c in await svc.store.companions_of(member.id)
    ]
    return t.get(
        "rights.mydata_summary",
        lang,
        name=member.first_name,
        language=LANGUAGES[member.language].name if member.language in LANGUAGES else member.language,
        hubs=", ".join(hub.name for hub in hubs if hub is not None) or t.get("rights.nobody", lang),
        companions=", ".join(companions) or t.get("rights.nobody", lang),
        rsvps=rsvps,
        answers=await svc.store.wellbeing_answer_count(member.id),
        consents=await _consent_lines(svc, member),
    )


async def stop_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, user, message = services(context), update.effective_user, update.effective_message
    if user is None or message is None:
        return
    member, lang = await svc.person(user)
    if member is None:
        await message.reply_text(svc.texts.get("rights.not_member", lang))
    elif member.paused:
        await message.reply_text(svc.texts.get("rights.already_stopped", lang))
    else:
        await svc.store.set_paused(member.id, True, svc.clock.now())
        await message.reply_text(svc.texts.get("rights.stopped", lang))


async def forget_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, user, message = services(context), update.effective_user, update.effective_message
    if user is None or message is None:
        return
    _, lang = await svc.person(user)
    if (await svc.store.export_person(user.id)).empty:
        await message.reply_text(svc.texts.get("rights.nothing_held", lang))
        return
    await message.reply_text(svc.texts.get("rights.forget_question", lang), reply_markup=_forget_buttons(svc, lang))


def _forget_buttons(svc: Services, lang: str) -> InlineKeyboardMarkup:
    t = svc.texts
    return keyboard([(t.get("rights_buttons.forget_yes", lang), f"{PREFIX}:forget:yes"),
                     (t.get("rights_buttons.forget_no", lang), f"{PREFIX}:forget:no")])


async def consent_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, user, message = services(context), update.effective_user, update.effective_message
    if user is None or message is None:
        return
    member, lang = await svc.person(user)
    if member is None:
        await message.reply_text(svc.texts.get("rights.not_member", lang))
        return
    text, markup = await _consent_screen(svc, member)
    await message.reply_text(text, reply_markup=markup)


async def _consent_state(svc: Services, member: Member) -> dict[str, Any]:
    """kind -> the newest consent record of that kind (None when never given)."""
    latest: dict[str, Any] = dict.fromkeys(KINDS)
    for record in await svc.store.consents_of(member.id):
        latest[record.kind] = record
    return latest


async def _consent_lines(svc: Services, member: Member) -> str:
    t, lang = svc.texts, member.language
    hub_ids = await svc.store.hub_ids_of_member(member.id)
    hub = svc.hub(hub_ids[0]) if hub_ids else None
    tz = hub.timezone if hub else "Europe/London"
    lines = []
    for kind, record in (await _consent_state(svc, member)).items():
        if record is None:
            status = t.get("rights.consent_never", lang)
        elif record.active:
            # The text version stays in the /mydata file; in the chat it would be a code nobody can read.
            status = t.get("rights.consent_yes", lang, date=format_full_date(record.given_at, tz, lang))
        else:
            status = t.get("rights.consent_withdrawn", lang, date=format_full_date(record.withdrawn_at, tz, lang))
        lines.append(f"{t.get(f'rights.consent_{kind}', lang)}\n{status}")
    return "\n\n".join(lines)


async def _consent_screen(svc: Services, member: Member) -> tuple[str, InlineKeyboardMarkup]:
    t, lang = svc.texts, member.language
    state = await _consent_state(svc, member)
    text = "\n\n".join([t.get("rights.consent_intro", lang), await _consent_lines(svc, member),
                        t.get("rights.consent_change", lang)])
    rows = []
    for kind in KINDS:
        record = state[kind]
        answer = "no" if record is not None and record.active else "yes"
        rows.append([(t.get(f"rights_buttons.{kind}_{answer}", lang), f"{PREFIX}:{kind}:{answer}")])
    referred = await referral.consent_part(svc, member)  # issue 17: telling the referrer once
    if referred is not None:
        line, button = referred
        parts = text.split("\n\n")
        text = "\n\n".join([*parts[:-1], line, parts[-1]])
        rows += [[button]] if button else []
    return text, keyboard(*rows)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    member, lang = await svc.person(query.from_user)
    parts = parse_callback(query.data, PREFIX, 2)
    action = _ACTIONS.get((parts[0], parts[1])) if parts else None
    if action is None or (member is None and parts is not None and parts[0] != "forget"):
        await refuse(svc, query, "common.old_button", lang=lang)
        return
    reply = await action(svc, query, member, lang)
    await query.answer(reply)


async def _forget_ask(svc: Services, query: CallbackQuery, member: Member | None, lang: str) -> None:
    await close_question(query, svc.texts.get("rights_buttons.forget_offer", lang))
    await query.get_bot().send_message(
        query.from_user.id, svc.texts.get("rights.forget_question", lang), reply_markup=_forget_buttons(svc, lang)
    )


async def _forget_yes(svc: Services, query: CallbackQuery, member: Member | None, lang: str) -> None:
    report = await svc.store.forget_person(query.from_user.id, svc.clock.now())
    log.info("forgot a person on request: deleted %s, detached %s, cleaned %d text(s) in their kept rows",
             {k: v for k, v in report.deleted.items() if v}, {k: v for k, v in report.detached.items() if v},
             report.cleaned)
    await close_question(query, svc.texts.get("rights_buttons.forget_yes", lang))
    await query.get_bot().send_message(query.from_user.id, svc.texts.get("rights.forgotten", lang))


async def _forget_no(svc: Services, query: CallbackQuery, member: Member | None, lang: str) -> None:
    await close_question(query, svc.texts.get("rights_buttons.forget_no", lang))
    await query.get_bot().send_message(query.from_user.id, svc.texts.get("rights.forget_kept", lang))


async def _withdraw(svc: Services, query: CallbackQuery, member: Member, kind: str) -> bool:
    """Withdraw an active consent and refresh the consent screen; False if it was not active (old button)."""
    if not await svc.store.withdraw_consent(member.id, kind, svc.clock.now()):
        return False
    await _refresh(svc, query, member)
    return True


async def _contact_no(svc: Services, query: CallbackQuery, member: Member | None, lang: str) -> str | None:
    assert member is not None
    if not await _withdraw(svc, query, member, consent.CONTACT):
        return svc.texts.get("rights.unchanged", lang)
    # Without contact consent the bot may only answer: every scheduled message stops, as with /stop.
    await svc.store.set_paused(member.id, True, svc.clock.now())
    offer = keyboard([(svc.texts.get("rights_buttons.forget_offer", lang), f"{PREFIX}:forget:ask")])
    await query.get_bot().send_message(member.chat_id, svc.texts.get("rights.contact_withdrawn", lang),
                                       reply_markup=offer)
    return None


async def _wellbeing_no(svc: Services, query: CallbackQuery, member: Member | None, lang: str) -> str | None:
    assert member is not None
    if not await _withdraw(svc, query, member, consent.WELLBEING):
        return svc.texts.get("rights.unchanged", lang)
    count = await svc.store.wellbeing_answer_count(member.id)
    if count == 0:
        await query.get_bot().send_message(member.chat_id, svc.texts.get("rights.wellbeing_withdrawn_none", lang))
        return None
    t = svc.texts
    buttons = keyboard([(t.get("rights_buttons.delete_answers", lang), f"{PREFIX}:answers:delete"),
                        (t.get("rights_buttons.keep_answers", lang), f"{PREFIX}:answers:keep")])
    text = t.get("rights.wellbeing_withdrawn", lang, answers=t.plural("counts.answers", lang, count))
    await query.get_bot().send_message(member.chat_id, text, reply_markup=buttons)
    return None


async def _ask_to_give(svc: Services, query: CallbackQuery, member: Member | None, lang: str) -> str | None:
    """Before consent is given again, show exactly what it covers (the texts whose version is recorded)."""
    assert member is not None and query.data is not None
    kind = query.data.split(":")[1]
    if await svc.store.has_consent(member.id, kind):
        return svc.texts.get("rights.unchanged", lang)
    t = svc.texts
    if kind == consent.CONTACT:
        org = svc.settings.organisation
        notice = t.get("privacy.notice", lang, organisation=org.name, contact=org.contact,
                       retention=format_duration(svc.settings.retention.anonymise_answers_after_days, lang))
        text = f"{notice}\n\n{t.get('join.contact_question', lang)}"
    else:
        text = t.get("join.wellbeing_question", lang)
    buttons = keyboard([(t.get("rights_buttons.agree", lang), f"{PREFIX}:{kind}:agree"),
                        (t.get("rights_buttons.not_now", lang), f"{PREFIX}:{kind}:keep")])
    await query.get_bot().send_message(member.chat_id, text, reply_markup=buttons)
    return None


async def _agree(svc: Services, query: CallbackQuery, member: Member | None, lang: str) -> str | None:
    assert member is not None and query.data is not None
    kind = query.data.split(":")[1]
    await close_question(query, svc.texts.get("rights_buttons.agree", lang))
    if await svc.store.has_consent(member.id, kind):
        return svc.texts.get("rights.unchanged", lang)
    now = svc.clock.now()
    await svc.store.give_consent(member.id, kind, consent.TEXT_VERSIONS[kind], now)
    if kind == consent.CONTACT:
        await svc.store.set_paused(member.id, False, now)
    await query.get_bot().send_message(member.chat_id, svc.texts.get(f"rights.{kind}_given", lang))
    return None


async def _keep_consent_off(svc: Services, query: CallbackQuery, member: Member | None, lang: str) -> None:
    await close_question(query, svc.texts.get("rights_buttons.not_now", lang))
    await query.get_bot().send_message(query.from_user.id, svc.texts.get("rights.unchanged", lang))


async def _delete_answers(svc: Services, query: CallbackQuery, member: Member | None, lang: str) -> str | None:
    assert member is not None
    if await svc.store.has_consent(member.id, consent.WELLBEING):
        return svc.texts.get("common.old_button", lang)  # they said yes again since: keep their answers
    deleted = await svc.store.delete_wellbeing_answers(member.id)
    log.info("deleted %d wellbeing answer(s) after consent was withdrawn", deleted)
    await close_question(query, svc.texts.get("rights_buttons.delete_answers", lang))
    await query.get_bot().send_message(member.chat_id, svc.texts.get("rights.answers_deleted", lang))
    return None


async def _keep_answers(svc: Services, query: CallbackQuery, member: Member | None, lang: str) -> None:
    assert member is not None
    await close_question(query, svc.texts.get("rights_buttons.keep_answers", lang))
    retention = format_duration(svc.settings.retention.anonymise_answers_after_days, lang)
    await query.get_bot().send_message(member.chat_id, svc.texts.get("rights.answers_kept", lang, retention=retention))


_ACTIONS: dict[tuple[str, str], Any] = {
    ("forget", "ask"): _forget_ask,
    ("forget", "yes"): _forget_yes,
    ("forget", "no"): _forget_no,
    (consent.CONTACT, "no"): _contact_no,
    (consent.WELLBEING, "no"): _wellbeing_no,
    (consent.CONTACT, "yes"): _ask_to_give,
    (consent.WELLBEING, "yes"): _ask_to_give,
    (consent.CONTACT, "agree"): _agree,
    (consent.WELLBEING, "agree"): _agree,
    (consent.CONTACT, "keep"): _keep_consent_off,
    (consent.WELLBEING, "keep"): _keep_consent_off,
    ("answers", "delete"): _delete_answers,
    ("answers", "keep"): _keep_answers,
}


async def _refresh(svc: Services, query: CallbackQuery, member: Member) -> None:
    """Show the consent screen as it now stands, with the buttons that now make sense."""
    text, markup = await _consent_screen(svc, member)
    await query.edit_message_text(text, reply_markup=markup)



async def contact_consent_back_on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start from someone who said no to messages is them saying yes again (contact_withdrawn tells them so).

    Runs before join's /start, which then turns their messages back on.
    """
    svc, user = services(context), update.effective_user
    if user is None:
        return
    member = await svc.store.member_by_user(user.id)
    if member is not None and member.paused and not await svc.store.has_consent(member.id, consent.CONTACT):
        await svc.store.give_consent(member.id, consent.CONTACT, consent.TEXT_VERSIONS[consent.CONTACT],
                                     svc.clock.now())
