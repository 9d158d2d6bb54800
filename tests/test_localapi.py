"""Tests for bot.simulator.localapi: a real PTB Application talking HTTP to the local Bot API server."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from bot.simulator.localapi import LocalBotApi

pytestmark = pytest.mark.asyncio

KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Yes", callback_data="yes"), InlineKeyboardButton("No thanks", callback_data="no")]]
)


@pytest.fixture
async def api() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi() as server:
        yield server
    assert not server.server_errors


def build_app(api: LocalBotApi) -> Application:
    return ApplicationBuilder().token(api.token).base_url(api.base_url).base_file_url(api.base_file_url).build()


@contextlib.asynccontextmanager
async def running(app: Application) -> AsyncIterator[Application]:
    """Poll and process updates; always stop the updater and app before the server goes."""
    async with app:
        await app.updater.start_polling(poll_interval=0.0, timeout=dtm.timedelta(seconds=1))
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    name = update.effective_user.first_name
    await update.effective_message.reply_text(f"Hello {name}! args={context.args}", reply_markup=KEYBOARD)


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(text=f"Got {query.data}")
    await query.edit_message_text(f"You chose {query.data}")


async def ignore_errors(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handler failures are asserted through api.calls; keep the log quiet."""


@pytest.fixture
async def bot_app(api: LocalBotApi) -> AsyncIterator[Application]:
    app = build_app(api)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(choose))
    app.add_error_handler(ignore_errors)
    async with running(app):
        yield app


async def test_get_me_and_lifecycle(api: LocalBotApi) -> None:
    app = build_app(api)
    async with app:
        assert app.bot.username == "imm_hub_bot"
        assert app.bot.id == api.bot_id == 123456
        me = await app.bot.get_me()
        assert me.is_bot and me.can_join_groups
    assert api.calls_to("getMe")
    assert not api.unknown_methods
    assert api.base_url == f"http://127.0.0.1:{api.port}/bot" and api.port > 0


async def test_journey_start_then_tap(api: LocalBotApi, bot_app: Application) -> None:
    sam = api.user(1001, "Sam")
    calls = await sam.send("/start hub42")
    assert [c.method for c in calls] == ["sendMessage"]
    assert sam.last_text() == "Hello Sam! args=['hub42']"
    assert sam.buttons() == [["Yes", "No thanks"]]
    assert calls[0].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"

    calls = await sam.tap("no THANKS")  # case-insensitive substring match
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert answer.params.get("text") == "Got no" and answer.chat_id == sam.chat_id
    assert sam.texts() == ["You chose no"]
    assert sam.buttons() == []  # editing text without reply_markup drops the keyboard, as Telegram does
    assert api.chat_messages(1001)[0]["edit_date"]
    with pytest.raises(LookupError, match="visible buttons"):
        await sam.tap("Maybe")


async def test_forged_callback_data_and_unanswered_wait(api: LocalBotApi, bot_app: Application) -> None:
    pat = api.user(1002, "Pat")
    calls = await pat.tap_data("../../etc/passwd")  # no messages yet: a stand-in message is used
    assert any(c.method == "answerCallbackQuery" and c.params["text"] == "Got ../../etc/passwd" for c in calls)
    assert [c.error_code for c in calls if c.method == "editMessageText"] == [400]  # not found
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="last calls"):
        await api.wait_for(lambda c: c.method == "sendPoll", timeout=0.1)
    assert time.monotonic() - started < 1


async def test_document_upload_caption_html_and_download(api: LocalBotApi) -> None:
    async with build_app(api) as app:
        message = await app.bot.send_document(
            chat_id=77,
            document=b"name,count\nsam,3\n",
            filename="rsvps.csv",
            caption="<b>RSVPs</b> for Tuesday",
            parse_mode="HTML",
            reply_markup=KEYBOARD,
        )
        assert message.document.file_name == "rsvps.csv"
        assert message.caption == "RSVPs for Tuesday"
        assert message.caption_entities[0].type == "bold" and message.caption_entities[0].length == 5
        call = api.calls_to("sendDocument", 77)[0]
        assert call.params["document"]["content"] == b"name,count\nsam,3\n"
        assert call.params["reply_markup"]["inline_keyboard"][0][1]["text"] == "No thanks"
        file = await app.bot.get_file(message.document.file_id)
        assert bytes(await file.download_as_bytearray()) == b"name,count\nsam,3\n"
        photo = await app.bot.send_photo(chat_id=77, photo=b"\x89PNG fake")
        assert photo.photo[-1].file_id


async def test_rate_limit_blocked_and_migrated(api: LocalBotApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    async with build_app(api) as app:
        api.faults.rate_limit_every, api.faults.retry_after = 2, 3
        await app.bot.send_message(5, "one")
        with pytest.raises(RetryAfter) as excinfo:
            await app.bot.send_message(5, "two")
        assert excinfo.value.retry_after == dtm.timedelta(seconds=3)
        api.faults.clear()

        user = api.user(5)
        await user.block_bot(notify=False)
        with pytest.raises(Forbidden, match="blocked by the user"):
            await app.bot.send_message(5, "three")
        await user.unblock_bot(notify=False)
        await app.bot.send_message(5, "four")

        api.faults.migrated_chats[-100] = -1009
        with pytest.raises(ChatMigrated) as migrated:
            await app.bot.send_message(-100, "hello group")
        assert migrated.value.new_chat_id == -1009
    attempts = api.calls_to("sendMessage", 5)
    assert [c.error_code for c in attempts] == [None, 429, 403, None]
    assert [c.params["text"] for c in api.sent_ok(chat_id=5)] == ["one", "four"]
    assert [m["text"] for m in api.chat_messages(5)] == ["one", "four"]


async def test_telegram_bad_requests(api: LocalBotApi) -> None:
    async with build_app(api) as app:
        bot = app.bot
        sent = await bot.send_message(9, "Same", reply_markup=KEYBOARD)
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("Same", chat_id=9, message_id=sent.message_id, reply_markup=KEYBOARD)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=9, message_id=999)
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(9, "")
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(9, "x" * 4097)
        with pytest.raises(BadRequest, match=r"(?i)can.t parse entities"):
            await bot.send_message(9, "Hi <Sam>", parse_mode="HTML")
        long_data = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="x" * 65)]])
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await bot.send_message(9, "Pick", reply_markup=long_data)
        edited = await bot.edit_message_reply_markup(chat_id=9, message_id=sent.message_id)
        assert edited.reply_markup is None and edited.text == "Same"
        assert await bot.delete_message(9, sent.message_id)
        assert api.chat_messages(9) == []
        assert await bot.set_my_description("Music hubs")  # unknown to the fake: recorded, True
    assert api.unknown_methods == {"setMyDescription"}


async def test_commands_and_wrong_token(api: LocalBotApi) -> None:
    async with build_app(api) as app:
        await app.bot.set_my_commands([("start", "Start"), ("help", "Help")], language_code="cy")
        assert [c.command for c in await app.bot.get_my_commands(language_code="cy")] == ["start", "help"]
        assert await app.bot.get_my_commands() == ()
        chat = await app.bot.get_chat(1001)
        assert chat.type == "private"
    request = HTTPXRequest()
    stranger = Bot("999:WRONG", base_url=api.base_url, request=request, get_updates_request=request)
    try:
        with pytest.raises(InvalidToken):
            await stranger.get_me()
    finally:
        await request.shutdown()


async def test_long_poll_offsets_json_body_and_stop(api: LocalBotApi) -> None:
    async with httpx.AsyncClient(base_url=f"{api.base_url}{api.token}/") as client:
        first = api.push_update({"message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}})
        second = api.push_update({"message": {"message_id": 2, "date": 0, "chat": {"id": 1, "type": "private"}}})
        body = (await client.post("getUpdates", json={"offset": first + 1})).json()
        assert [u["update_id"] for u in body["result"]] == [second]

        poll = asyncio.create_task(client.post("getUpdates", json={"offset": second + 1, "timeout": 5}))
        await asyncio.sleep(0.05)
        assert not poll.done()
        third = api.push_update({"message": {"message_id": 3, "date": 0, "chat": {"id": 1, "type": "private"}}})
        assert [u["update_id"] for u in (await poll).json()["result"]] == [third]

        waiting = asyncio.create_task(client.post("getUpdates", data={"offset": str(third + 1), "timeout": "30"}))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await api.stop()
        assert (await waiting).json() == {"ok": True, "result": []}
        assert time.monotonic() - started < 2
    assert api.calls == []  # getUpdates is never recorded


async def test_random_faults_and_reply_delay(api: LocalBotApi) -> None:
    async with build_app(api) as app:
        api.faults.server_error_rate = 1.0
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await app.bot.send_message(3, "a")
        api.faults.server_error_rate, api.faults.drop_rate = 0.0, 1.0
        with pytest.raises(NetworkError):
            await app.bot.send_message(3, "b")
        api.faults.drop_rate, api.faults.timeout_rate, api.faults.hang_seconds = 0.0, 1.0, 5.0
        with pytest.raises(TimedOut):
            await app.bot.send_message(3, "c", read_timeout=0.2)
        api.faults.clear()
        api.reply_delay = 0.05
        started = time.monotonic()
        await app.bot.send_message(3, "d")
        assert time.monotonic() - started >= 0.05
    assert [c.error_code for c in api.calls_to("sendMessage", 3)] == [502, 444, 504, None]
    assert [m["text"] for m in api.chat_messages(3)] == ["d"]


async def test_fault_plan_is_deterministic_and_caps_rate() -> None:
    def outcomes(seed: int) -> list[str | None]:
        plan = LocalBotApi().faults
        plan.seed, plan.server_error_rate, plan.drop_rate = seed, 0.3, 0.2
        return [getattr(plan.decide("sendMessage", 1), "kind", None) for _ in range(40)]

    assert outcomes(7) == outcomes(7) != outcomes(8)
    assert {"error", "drop", None} == set(outcomes(7))
    plan = LocalBotApi().faults
    plan.max_per_second = 3
    decided = [plan.decide("sendMessage", 1) for _ in range(5)]
    assert [f.status if f else None for f in decided][:3] == [None, None, None]
    assert decided[4] is not None and decided[4].parameters == {"retry_after": 1}
    assert plan.decide("sendChatAction", 1) is None


async def test_many_concurrent_users(api: LocalBotApi, bot_app: Application) -> None:
    users = [api.user(2000 + i, f"U{i}") for i in range(30)]
    results = await asyncio.gather(*(u.send("/start") for u in users))
    assert all(len(calls) == 1 for calls in results)
    assert all(u.last_text() == f"Hello {u.first_name}! args=[]" for u in users)
    await api.wait_quiet(quiet=0.02)
