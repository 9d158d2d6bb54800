"""/register: a coordinator marks who came to a session, and adds walk-ins by first name.

Pick a recent session -> a tick per person who said Yes or Maybe (and their companions), pre-ticked from
RSVPs and check-ins -> tap to change -> add walk-ins (first name, optional age band; no Telegram needed)
-> Save. Every tap is written at once, so a restart loses nothing; until a register is saved, the session's
attendance stays inferred. Every button is re-checked: the session's hub must be one the tapper coordinates.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.domain.people import clean_name, name_problem
from bot.domain.sessions import Session
from bot.messages.callbacks import parse_callback, parse_int
from bot.messages.i18n import format_clock, format_day
from bot.messages.keyboards import grid, keyboard
from bot.services import Services, services
from handlers.common import refuse
from handlers.coordinator.access import hubs_or_refuse
from handlers.join import AGE_BANDS, name_refusal
from handlers.text_input import register_text_input
from storage.register import Register, RegisterEntry

COORDINATOR_COMMANDS = ("register",)
PREFIX = "reg"
WALK_IN_INPUT = "register.walk_in"
RECENT = timedelta(days=14)
OPENS_BEFORE_START = timedelta(hours=2)
PER_PAGE = 18


def register(application: Application[Any, Any, Any, Any, Any, Any], group: int) -> None:
    application.add_handler(CommandHandler("register", register_command, filters=filters.ChatType.PRIVATE), group)
    application.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:"), group)
    register_text_input(application, WALK_IN_INPUT, on_walk_in_name, screened=False)


async def register_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    hubs = await hubs_or_refuse(svc, update)
    if hubs is None or update.effective_chat is None:
        return
    now = svc.clock.now()
    sessions = await svc.store.sessions_for_register([hub.id for hub in hubs], now - RECENT,
                                                     now + OPENS_BEFORE_START)
    if not sessions:
        await update.effective_chat.send_message(svc.texts.get("register.no_sessions", "en"))
        return
    items = [(_session_name(svc, s, with_hub=len(hubs) > 1), f"{PREFIX}:o:{s.id}") for s in sessions]
    await update.effective_chat.send_message(svc.texts.get("register.choose_session", "en"),
                                             reply_markup=grid(items, per_row=1))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """reg:o|w|s:<session>  reg:p:<session>:<page>  reg:t:<line>:<page>  reg:b:<line>:<band|none>"""
    svc, query = services(context), update.callback_query
    if query is None:
        return
    parts = parse_callback(query.data, PREFIX, 2) or parse_callback(query.data, PREFIX, 3)
    number = parse_int(parts[1]) if parts else None
    if parts is None or number is None:
        await refuse(svc, query)
        return
    action, extra = parts[0], parts[2] if len(parts) == 3 else None
    by_line = action in ("t", "b")
    session_id = await svc.store.attendance_session(number) if by_line else number
    session = await svc.store.session(session_id) if session_id else None
    if session is None or not svc.coordinates(query.from_user.id, session.hub_id):
        await refuse(svc, query)
        return
    handler = _ACTIONS.get((action, extra is not None))
    outcome = await handler(svc, query, session, number, extra) if handler else False
    if outcome is False:
        await refuse(svc, query)
    elif isinstance(outcome, str):
        await query.answer(outcome, show_alert=True)
    else:
        await query.answer()  # after the reply is on screen, as everywhere in the bot


async def _open(svc: Services, query: Any, session: Session, _: int, __: str | None) -> bool | str:
    now = svc.clock.now()
    if session.cancelled or session.starts_at - OPENS_BEFORE_START > now:
        return svc.texts.get("register.too_early", "en")
    taken = await svc.store.open_register(session.id, query.from_user.id, now)
    await _show(svc, query, taken, 0)
    return True


async def _page(svc: Services, query: Any, session: Session, _: int, page: str | None) -> bool:
    taken = await svc.store.register(session.id)
    number = parse_int(page or "", low=0, high=1000)
    if taken is None or number is None:
        return False
    await _show(svc, query, taken, number)
    return True


async def _toggle(svc: Services, query: Any, session: Session, line: int, page: str | None) -> bool:
    if await svc.store.toggle_attendance(line, query.from_user.id, svc.clock.now()) is None:
        return False
    return await _page(svc, query, session, line, page)


async def _walk_in(svc: Services, query: Any, session: Session, _: int, __: str | None) -> bool:
    await svc.store.expect_input(query.from_user.id, WALK_IN_INPUT, {"session": session.id}, svc.clock.now())
    await query.get_bot().send_message(query.from_user.id, svc.texts.get("register.walk_in_ask", "en"))
    return True


async def _band(svc: Services, query: Any, session: Session, line: int, band: str | None) -> bool:
    if band not in (*AGE_BANDS, "none") or not await svc.store.set_walk_in_age_band(
            line, None if band == "none" else band):
        return False
    taken = await svc.store.register(session.id)
    assert taken is not None
    await _show(svc, query, taken, _last_page(taken))
    return True


async def _save(svc: Services, query: Any, session: Session, _: int, __: str | None) -> bool:
    if not await svc.store.save_register(session.id, query.from_user.id, svc.clock.now()):
        return False
    taken = await svc.store.register(session.id)
    assert taken is not None
    await query.edit_message_text(svc.texts.get("register.saved", "en", count=taken.present_count,
                                                walk_ins=taken.walk_in_count))
    return True


_ACTIONS = {
    ("o", False): _open, ("w", False): _walk_in, ("s", False): _save,
    ("p", True): _page, ("t", True): _toggle, ("b", True): _band,
}


async def on_walk_in_name(update: Update, context: ContextTypes.DEFAULT_TYPE, data: dict[str, Any]) -> None:
    svc, user, message = services(context), update.effective_user, update.effective_message
    if user is None or message is None:
        return
    session = await svc.store.session(int(data.get("session", 0)))
    if session is None or not svc.coordinates(user.id, session.hub_id):
        await svc.store.clear_input(user.id)
        await message.reply_text(svc.texts.get("common.not_allowed", "en"))
        return
    problem = name_problem(message.text or "")
    if problem is not None:
        await message.reply_text(name_refusal(svc, problem, "en"))
        return
    name = clean_name(message.text or "")
    assert name is not None
    await svc.store.clear_input(user.id)
    line = await svc.store.add_walk_in(session.id, name, user.id, svc.clock.now())
    items = [(svc.texts.get(f"age_band.{band}", "en"), f"{PREFIX}:b:{line}:{band}") for band in AGE_BANDS]
    items.append((svc.texts.get("register.button_skip_band", "en"), f"{PREFIX}:b:{line}:none"))
    await message.reply_text(svc.texts.get("register.walk_in_band", "en", name=name), reply_markup=grid(items))


async def _show(svc: Services, query: Any, taken: Register, page: int) -> None:
    text, markup = register_view(svc, taken, page)
    await query.edit_message_text(text, reply_markup=markup)


def register_view(svc: Services, taken: Register, page: int) -> tuple[str, InlineKeyboardMarkup]:
    t = svc.texts
    pages = max(1, -(-len(taken.entries) // PER_PAGE))
    page = min(max(page, 0), pages - 1)
    hub = svc.hub(taken.session.hub_id)
    lines = [t.get("register.title", "en", hub=hub.name if hub else taken.session.hub_id,
                   name=_session_name(svc, taken.session)),
             t.get("register.hint", "en"),
             t.get("register.saved_at" if taken.saved_at else "register.from_answers", "en"),
             t.get("register.count", "en", count=taken.present_count, walk_ins=taken.walk_in_count)]
    if pages > 1:
        lines.append(t.get("register.page", "en", page=page + 1, pages=pages))
    shown = taken.entries[page * PER_PAGE:(page + 1) * PER_PAGE]
    people = [(_label(svc, entry), f"{PREFIX}:t:{entry.id}:{page}") for entry in shown]
    sid = taken.session.id
    moves = []
    if page > 0:
        moves.append((t.get("register.button_previous", "en"), f"{PREFIX}:p:{sid}:{page - 1}"))
    if page < pages - 1:
        moves.append((t.get("register.button_next", "en"), f"{PREFIX}:p:{sid}:{page + 1}"))
    rows = [people[i:i + 2] for i in range(0, len(people), 2)]
    controls = [(t.get("register.button_walk_in", "en"), f"{PREFIX}:w:{sid}"),
                (t.get("register.button_save", "en"), f"{PREFIX}:s:{sid}")]
    return "\n".join(lines), keyboard(*rows, moves, controls)


def _label(svc: Services, entry: RegisterEntry) -> str:
    if entry.kind == "companion":
        label = svc.texts.get("register.companion_label", "en", name=entry.name, member=entry.with_name)
    else:
        label = svc.texts.get(f"register.{entry.kind}_label", "en", name=entry.name)
    return svc.texts.get("register.came_mark" if entry.present else "register.absent_mark", "en", label=label)


def _last_page(taken: Register) -> int:
    return max(0, (len(taken.entries) - 1) // PER_PAGE)


def _session_name(svc: Services, session: Session, *, with_hub: bool = False) -> str:
    hub = svc.hub(session.hub_id)
    tz = hub.timezone if hub else "Europe/London"
    name = f"{format_day(session.starts_at, tz, 'en')}, {format_clock(session.starts_at, tz, 'en')}"
    if session.title:
        name += f" ({session.title})"
    return f"{name}, {hub.name}" if with_hub and hub else name
