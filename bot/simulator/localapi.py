"""A local, in-process Telegram Bot API server speaking real HTTP on 127.0.0.1.

The real bot (a python-telegram-bot ``Application``) is pointed at it with
``ApplicationBuilder().base_url(api.base_url).base_file_url(api.base_file_url)``
and talks to it exactly as it would to api.telegram.org: long polling, JSON /
form / multipart requests, Telegram-shaped results and errors.  Tests, the
demo and benchmarks drive it through :class:`SimulatedUser` ("send /start,
tap *Yes*") and inspect what the bot did through :attr:`LocalBotApi.calls`.

It runs on aiohttp's web server (the project's one HTTP stack) inside the
caller's asyncio loop (no threads) and keeps per-request work small.  Faults
(flood limits, blocked users, 502s, hangs, dropped connections) come from
:class:`bot.simulator.faults.FaultPlan`.

Deliberate realism: ``parse_mode=HTML`` is parsed into entities (bad markup is
a 400 "can't parse entities"), editing text without ``reply_markup`` removes
the inline keyboard, callback_data over 64 bytes is ``BUTTON_DATA_INVALID``.
Markdown parse modes are not parsed (the text is kept as sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from bot.simulator.faults import (
    ApiError,
    Fault,
    FaultPlan,
    check_commands,
    check_markup,
    parse_html,
    utf16_len,
)
from bot.simulator.people import SimulatedUser

__all__ = ["ApiCall", "ApiError", "FaultPlan", "LocalBotApi", "SimulatedUser"]

_log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_UPLOAD = 50 * 1024 * 1024  # Telegram takes files up to 50 MB from bots
#: Parameters that are plain strings and must never be JSON-decoded.
_RAW_STRINGS = frozenset(
    "text caption callback_query_id inline_message_id parse_mode action url "
    "language_code title description short_description name emoji query "
    "secret_token ip_address file_id business_connection_id message_effect_id "
    "question explanation address phone_number first_name last_name".split()
)
_CHANGEABLE = ("text", "entities", "caption", "caption_entities", "reply_markup")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply "
    "markup are exactly the same as a current content and reply markup of the message"
)


@dataclass
class ApiCall:
    """One Bot API request the bot made (getUpdates excluded)."""

    method: str
    params: dict[str, Any]
    at: float
    result: Any = None
    error_code: int | None = None
    _chat: int | None = field(default=None, repr=False, compare=False)

    @property
    def chat_id(self) -> int | None:
        """The target chat; for answerCallbackQuery the chat of the original query."""
        raw = self.params.get("chat_id")
        if raw is None:
            return self._chat
        try:
            return int(raw)
        except (TypeError, ValueError):
            return None

    @property
    def text(self) -> str | None:
        """``text`` (or ``caption``) parameter, handy in assertions."""
        value = self.params.get("text", self.params.get("caption"))
        return None if value is None else str(value)


def _decode_value(name: str, value: str) -> Any:
    if name in _RAW_STRINGS or not value or value[0] not in '{["-0123456789tfn':
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def _parse_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key in request.query:
        params[key] = _decode_value(key, request.query.getall(key)[-1])
    if request.content_type == "application/json":
        body = json.loads(await request.read() or b"{}")
        if not isinstance(body, dict):
            raise ValueError("JSON body must be an object")
        for key, value in body.items():
            params[key] = _decode_value(key, value) if isinstance(value, str) else value
        return params
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key in form:
            value = form.getall(key)[-1]
            if isinstance(value, web.FileField):
                content = value.file.read()
                params[key] = {
                    "filename": value.filename,
                    "size": len(content),
                    "content": content,
                    "mime_type": value.content_type,
                }
            else:
                params[key] = _decode_value(key, str(value))
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            params[key] = params.get(value[9:], value)
    return params


def _summary(index: int, call: ApiCall) -> str:
    error = f" ERROR {call.error_code}" if call.error_code is not None else ""
    text = call.text
    shown = "" if text is None else f" {text[:60]!r}"
    return f"  #{index} {call.method} chat={call.chat_id}{error}{shown}"


class LocalBotApi:
    """The fake Telegram: an HTTP server plus the state of chats, updates and calls."""

    bot_first_name = "IMM Music Hubs"

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "imm_hub_bot",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        reply_delay: float = 0.0,
    ) -> None:
        self.token, self.bot_username = token, bot_username
        self.bot_id = int(token.split(":", 1)[0])
        self.host, self.port, self.reply_delay = host, port, reply_delay
        self.faults = FaultPlan()
        self.calls: list[ApiCall] = []
        self.unknown_methods: set[str] = set()
        self.server_errors: list[BaseException] = []  # bugs in this fake, not in the bot
        #: called with each recorded call the moment the server takes it, before it answers the bot
        self.observers: list[Callable[[ApiCall], None]] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int, dict[str, Any]] = {}  # setChatMenuButton, per chat
        self.webhook_url = ""
        self.bot_user = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": bot_username,
        }
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._updates: deque[dict[str, Any]] = deque()
        self._next_update_id = 1
        self._poller: asyncio.Future[str] | None = None
        self._messages: dict[int, dict[int, dict[str, Any]]] = {}
        self._user_messages: dict[int, set[int]] = {}
        self._next_message_id: dict[int, int] = {}
        self._chat_calls: dict[int, list[ApiCall]] = {}
        self._waiters: dict[int | None, list[asyncio.Future[None]]] = {}
        self._activity: dict[int | None, float] = {}
        self._inflight: dict[int | None, int] = {}
        self._generation = 0
        self._queries: dict[str, int | None] = {}
        self._next_query = 0
        self._files: dict[str, dict[str, Any]] = {}
        self._paths: dict[str, dict[str, Any]] = {}
        self._users: dict[int, SimulatedUser] = {}
        self._handlers = self._build_handlers()

    def _build_handlers(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        """Bot API method name -> implementation taking the decoded params."""
        return {
            "getMe": lambda p: {**self.bot_user, **_BOT_FLAGS},
            "sendMessage": self._send_message,
            "editMessageText": lambda p: self._edit(p, "text"),
            "editMessageCaption": lambda p: self._edit(p, "caption"),
            "editMessageReplyMarkup": lambda p: self._edit(p, None),
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback,
            "sendDocument": lambda p: self._send_file(p, "document"),
            "sendPhoto": lambda p: self._send_file(p, "photo"),
            "getFile": self._get_file,
            "sendChatAction": lambda p: True,
            "getChat": self._get_chat,
            "setMyCommands": self._set_commands,
            "getMyCommands": lambda p: self.commands.get(_scope_key(p), []),
            "deleteMyCommands": self._delete_commands,
            "setChatMenuButton": self._set_menu_button,
            "getChatMenuButton": lambda p: self.menu_buttons.get(int(p.get("chat_id") or 0), {"type": "commands"}),
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": lambda p: {
                "url": self.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            },
            "close": lambda p: True,
            "logOut": lambda p: True,
        }

    # ------------------------------------------------------------------ lifecycle
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self) -> None:
        """Bind and start serving (port 0 picks a free port, stored in ``self.port``)."""
        if self._runner is not None:
            return
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=MAX_UPLOAD)
        app.router.add_route("*", "/{tail:.*}", self._serve)
        # shutdown_timeout: on stop, requests still running (a hang, a slow reply) get a second, as before.
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=256)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Release long polls and hung requests, then close every connection."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing.set()
        if self._poller is not None and not self._poller.done():
            self._poller.set_result("stop")
        await runner.cleanup()

    async def __aenter__(self) -> LocalBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ HTTP
    async def _serve(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._route(request)
        except (asyncio.CancelledError, web.HTTPException):
            raise  # HTTPException: aiohttp's own refusals (a body over MAX_UPLOAD gets 413)
        except Exception as exc:  # a bug in this fake must be visible, never hang the bot
            _log.exception("LocalBotApi failed on %s", request.path)
            self.server_errors.append(exc)
            return _respond(500, ApiError(500, f"Internal Server Error: {exc!r}").body())

    async def _route(self, request: web.Request) -> web.StreamResponse:
        path = unquote(request.rel_url.raw_path)
        if path.startswith("/file/bot"):
            return self._serve_file(path[len("/file/bot") :])
        token, _, method = path[4:].partition("/")
        if not path.startswith("/bot") or token != self.token or not method:
            return _respond(404, ApiError(404, "Not Found").body())
        try:
            params = await _parse_params(request)
        except ValueError as exc:
            return _respond(400, ApiError(400, f"Bad Request: {exc}").body())
        if method == "getUpdates":
            return await self._get_updates(request, params)
        # aiohttp does not cancel a handler whose client went away: a call the bot gave up waiting for (its
        # timeout) is still carried out and recorded, as Telegram may carry out a request that timed out.
        return await self._call(request, method, params)

    def _serve_file(self, rest: str) -> web.Response:
        token, _, file_path = rest.partition("/")
        stored = self._paths.get(file_path) if token == self.token else None
        if stored is None:
            return _respond(404, ApiError(404, "Not Found").body())
        return web.Response(status=200, body=stored["content"], content_type="application/octet-stream")

    async def _call(self, request: web.Request, method: str, params: dict[str, Any]) -> web.StreamResponse:
        chat = self._queries.get(params.get("callback_query_id", "")) if method == "answerCallbackQuery" else None
        call = ApiCall(method, params, time.monotonic(), _chat=chat)
        chat = call.chat_id
        self._begin(chat)
        try:
            if self.reply_delay > 0:
                await asyncio.sleep(self.reply_delay)
            fault = self.faults.decide(method, chat)
            if fault is None or (fault.kind == "hang" and self.faults.timeout_delivers):
                status, body = self._execute(call)
            else:
                call.error_code = fault.status
                status, body = (
                    fault.status,
                    ApiError(fault.status, fault.description, fault.parameters).body(),
                )
            self._record(call)
        finally:
            self._end(chat)
        return await self._answer(request, status, body, fault)

    async def _answer(self, request: web.Request, status: int, body: dict, fault: Fault | None) -> web.StreamResponse:
        if fault is not None and fault.kind == "drop":
            # The connection closes with no answer at all; writing the response below then fails quietly.
            request.protocol.force_close()
        if fault is not None and fault.kind == "hang":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.faults.hang_seconds)
        return _respond(status, body)

    def _execute(self, call: ApiCall) -> tuple[int, dict[str, Any]]:
        handler = self._handlers.get(call.method)
        if handler is None:
            self.unknown_methods.add(call.method)
            call.result = True
            return 200, {"ok": True, "result": True}
        try:
            call.result = handler(call.params)
        except ApiError as err:
            call.error_code = err.code
            return err.code, err.body()
        return 200, {"ok": True, "result": call.result}

    # ------------------------------------------------------------------ updates
    async def _get_updates(self, request: web.Request, params: dict[str, Any]) -> web.Response:
        if self.webhook_url:
            err = ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
            return _respond(409, err.body())
        self._confirm(params.get("offset"))
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout > 0 and not self._closing.is_set():
            if self._poller is not None and not self._poller.done():
                self._poller.set_result("conflict")  # Telegram ends the older long poll
            poller = self._poller = asyncio.get_running_loop().create_future()
            try:
                outcome = await asyncio.wait_for(poller, timeout)
            except TimeoutError:
                outcome = "timeout"
            finally:
                if self._poller is poller:
                    self._poller = None
            if outcome == "conflict":
                err = ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
                return _respond(409, err.body())
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        return _respond(200, {"ok": True, "result": list(islice(self._updates, limit))})

    def _confirm(self, offset: Any) -> None:
        if offset is None:
            return
        offset, updates = int(offset), self._updates
        if offset < 0:
            while len(updates) > -offset:
                updates.popleft()
            return
        while updates and updates[0]["update_id"] < offset:
            updates.popleft()

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for the bot (assigning ``update_id``); returns the id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {**update, "update_id": update_id}
        query = update.get("callback_query")
        if query:
            chat = ((query.get("message") or {}).get("chat") or {}).get("id")
            self._queries[str(query["id"])] = chat
        else:
            chat = _update_chat(update)
        now = time.monotonic()
        self._activity[None] = now
        if chat is not None:
            self._activity[chat] = now
        self._updates.append(update)
        if self._poller is not None and not self._poller.done():
            self._poller.set_result("update")
        return update_id

    # ------------------------------------------------------------------ calls
    def _begin(self, chat: int | None) -> None:
        now = time.monotonic()
        for key in (None, chat) if chat is not None else (None,):
            self._inflight[key] = self._inflight.get(key, 0) + 1
            self._activity[key] = now

    def _end(self, chat: int | None) -> None:
        for key in (None, chat) if chat is not None else (None,):
            self._inflight[key] -= 1

    def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
        for observer in self.observers:
            observer(call)
        now = time.monotonic()
        self._activity[None] = now
        chat = call.chat_id
        if chat is not None:
            self._chat_calls.setdefault(chat, []).append(call)
            self._activity[chat] = now
            self._wake(chat)
        self._wake(None)

    def _wake(self, key: int | None) -> None:
        waiters = self._waiters.pop(key, None)
        for future in waiters or ():
            if not future.done():
                future.set_result(None)

    def calls_to(self, method: str | None = None, chat_id: int | None = None) -> list[ApiCall]:
        """Recorded calls, optionally only one method and/or one chat."""
        source = self.calls if chat_id is None else self._chat_calls.get(chat_id, [])
        return [c for c in source if method is None or c.method == method]

    def sent_ok(self, method: str = "sendMessage", chat_id: int | None = None) -> list[ApiCall]:
        """Calls of ``method`` (to ``chat_id``) that succeeded, i.e. were delivered."""
        return [c for c in self.calls_to(method, chat_id) if c.error_code is None]

    def reset_calls(self) -> None:
        """Forget recorded calls (chat state, updates and faults are kept)."""
        self.calls.clear()
        self._chat_calls.clear()
        self._generation += 1

    async def wait_for(
        self,
        predicate: Callable[[ApiCall], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        after: int = 0,
    ) -> ApiCall:
        """First call with index >= ``after`` matching ``predicate``, waiting for new ones."""
        return await self._wait_in(None, after, predicate, timeout)

    async def _wait_in(
        self,
        chat: int | None,
        start: int,
        predicate: Callable[[ApiCall], bool],
        timeout: float,  # noqa: ASYNC109
        what: str = "a matching call",
    ) -> ApiCall:
        loop = asyncio.get_running_loop()
        deadline, index, generation = loop.time() + timeout, start, self._generation
        while True:
            if generation != self._generation:
                index, generation = 0, self._generation
            source = self.calls if chat is None else self._chat_calls.get(chat, [])
            while index < len(source):
                index += 1
                if predicate(source[index - 1]):
                    return source[index - 1]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._timeout_message(what, timeout, chat))
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(chat, []).append(future)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(future, remaining)

    def _timeout_message(self, what: str, timeout: float, chat: int | None) -> str:
        where = "" if chat is None else f" in chat {chat}"
        recent = [_summary(len(self.calls) - 10 + i, c) for i, c in enumerate(self.calls[-10:])]
        if len(self.calls) < 10:
            recent = [_summary(i, c) for i, c in enumerate(self.calls)]
        listing = "\n".join(recent) or "  (no calls at all)"
        return f"timed out after {timeout}s waiting for {what}{where}; last calls:\n{listing}"

    async def wait_quiet(self, chat_id: int | None = None, quiet: float = 0.08, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Return once no call (to ``chat_id``, or at all) happened for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            idle = now - self._activity.get(chat_id, float("-inf"))
            busy = self._inflight.get(chat_id, 0) > 0
            if not busy and idle >= quiet:
                return
            if now >= deadline:
                what = f"chat {chat_id}" if chat_id is not None else "the bot"
                raise TimeoutError(f"{what} did not go quiet within {timeout}s")
            await asyncio.sleep(min(0.01, quiet) if busy else quiet - idle)

    # ------------------------------------------------------------------ chats & messages
    def chat_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages the bot sent to ``chat_id`` as they look now (edits applied, deletes gone)."""
        return [dict(m) for m in self._messages.get(chat_id, {}).values()]

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
        user = self._users.get(chat_id)
        chat: dict[str, Any] = {
            "id": chat_id,
            "type": "private",
            "first_name": user.first_name if user else "User",
        }
        if user is not None and user.username:
            chat["username"] = user.username
        return chat

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        return message_id

    def _store(self, chat_id: int, fields: dict[str, Any], markup: Any) -> dict[str, Any]:
        message = {
            "message_id": self._new_message_id(chat_id),
            "from": self.bot_user,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **fields,
        }
        if check_markup(markup) is not None:
            message["reply_markup"] = markup
        self._messages.setdefault(chat_id, {})[message["message_id"]] = message
        return message

    @staticmethod
    def _chat_param(params: dict[str, Any]) -> int:
        try:
            return int(params["chat_id"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None

    @staticmethod
    def _format(params: dict[str, Any], key: str) -> tuple[str, list[dict[str, Any]] | None]:
        text = params.get(key)
        text = "" if text is None else str(text)
        entities = params.get("entities" if key == "text" else "caption_entities")
        if str(params.get("parse_mode") or "").upper() == "HTML":
            text, entities = parse_html(text)
        return text, entities or None

    def _text_fields(self, params: dict[str, Any], key: str) -> dict[str, Any]:
        text, entities = self._format(params, key)
        if key == "text" and not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if key == "text" and len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        if key == "caption" and len(text) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        fields: dict[str, Any] = {key: text} if key == "text" or text else {}
        if entities:
            fields["entities" if key == "text" else "caption_entities"] = entities
        return fields

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat_param(params)
        return self._store(chat, self._text_fields(params, "text"), params.get("reply_markup"))

    def _edit(self, params: dict[str, Any], key: str | None) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        chat = self._chat_param(params)
        old = self._messages.get(chat, {}).get(_int(params.get("message_id")))
        if old is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        new = {k: v for k, v in old.items() if k != "reply_markup"}
        if key == "text" and "text" not in old:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        if key is not None:
            for name in (key, "entities" if key == "text" else "caption_entities"):
                new.pop(name, None)
            new.update(self._text_fields(params, key))
        if check_markup(params.get("reply_markup")) is not None:
            new["reply_markup"] = params["reply_markup"]
        if all(new.get(k) == old.get(k) for k in _CHANGEABLE):
            raise ApiError(400, _NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        self._messages[chat][new["message_id"]] = new
        return new

    def _delete_message(self, params: dict[str, Any]) -> bool:
        chat, message_id = self._chat_param(params), _int(params.get("message_id"))
        if self._messages.get(chat, {}).pop(message_id, None) is not None:
            return True
        own = self._user_messages.get(chat, set())
        if message_id in own:
            own.discard(message_id)
            return True
        raise ApiError(400, "Bad Request: message to delete not found")

    def _delete_messages(self, params: dict[str, Any]) -> bool:
        chat = self._chat_param(params)
        for message_id in params.get("message_ids") or []:
            self._messages.get(chat, {}).pop(_int(message_id), None)
            self._user_messages.get(chat, set()).discard(_int(message_id))
        return True

    def _answer_callback(self, params: dict[str, Any]) -> bool:
        if str(params.get("callback_query_id")) not in self._queries:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    # ------------------------------------------------------------------ files
    def _send_file(self, params: dict[str, Any], kind: str) -> dict[str, Any]:
        chat = self._chat_param(params)
        media = params.get(kind)
        if media is None:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        stored = self._store_file(media, kind)
        info = {
            "file_id": stored["file_id"],
            "file_unique_id": stored["file_unique_id"],
            "file_size": stored["size"],
        }
        if kind == "photo":
            small = {**info, "width": 90, "height": 90}
            attachment: Any = [small, {**info, "width": 800, "height": 600}]
        else:
            attachment = {**info, "file_name": stored["filename"], "mime_type": stored["mime_type"]}
        fields = {kind: attachment, **self._text_fields(params, "caption")}
        return self._store(chat, fields, params.get("reply_markup"))

    def _store_file(self, media: Any, kind: str) -> dict[str, Any]:
        if isinstance(media, str):
            known = self._files.get(media)
            if known is not None:
                return known
            if not media.startswith(("http://", "https://")):
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            media = {"filename": media.rsplit("/", 1)[-1], "size": 0, "content": b"", "mime_type": None}
        if not isinstance(media, dict) or "content" not in media:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        number = len(self._files) + 1
        filename = media.get("filename") or f"file_{number}"
        stored = {
            "file_id": f"{'AgAC' if kind == 'photo' else 'BQAC'}local{number:06d}",
            "file_unique_id": f"AQADlocal{number:06d}",
            "filename": filename,
            "mime_type": media.get("mime_type") or "application/octet-stream",
            "size": len(media["content"]),
            "content": media["content"],
            "file_path": f"{kind}s/file_{number}{_extension(filename)}",
        }
        self._files[stored["file_id"]] = stored
        self._paths[stored["file_path"]] = stored
        return stored

    def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored["file_id"],
            "file_unique_id": stored["file_unique_id"],
            "file_size": stored["size"],
            "file_path": stored["file_path"],
        }

    # ------------------------------------------------------------------ misc methods
    def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(self._chat_param(params))
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            True,
        )
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}

    def _set_commands(self, params: dict[str, Any]) -> bool:
        self.commands[_scope_key(params)] = check_commands(params.get("commands"))
        return True

    def _set_menu_button(self, params: dict[str, Any]) -> bool:
        button = params.get("menu_button")
        if isinstance(button, str):
            button = json.loads(button)
        self.menu_buttons[int(params.get("chat_id") or 0)] = button or {"type": "default"}
        return True

    def _delete_commands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(_scope_key(params), None)
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    # ------------------------------------------------------------------ simulated people
    def user(
        self,
        user_id: int,
        first_name: str = "Sam",
        language_code: str | None = "en",
        username: str | None = None,
    ) -> SimulatedUser:
        """A simulated person talking to the bot in a private chat."""
        person = SimulatedUser(self, user_id, first_name, language_code, username)
        self._users[user_id] = person
        return person

    def _push_message(self, person: SimulatedUser, text: str) -> int:
        chat = person.id
        message_id = self._new_message_id(chat)
        self._user_messages.setdefault(chat, set()).add(message_id)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": person.as_dict(),
            "chat": self._chat(chat),
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else text
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        return self.push_update({"message": message})

    def _push_callback(self, person: SimulatedUser, message: dict[str, Any], data: str) -> str:
        self._next_query += 1
        query_id = f"{person.id}{self._next_query:06d}"
        query = {
            "id": query_id,
            "from": person.as_dict(),
            "message": message,
            "chat_instance": str(abs(hash((self.bot_id, person.id))) % 10**18),
            "data": data,
        }
        self.push_update({"callback_query": query})
        return query_id

    def _push_member_change(self, person: SimulatedUser, old: str, new: str) -> None:
        change = {
            "chat": self._chat(person.id),
            "from": person.as_dict(),
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": self.bot_user},
            "new_chat_member": {"status": new, "user": self.bot_user, "until_date": 0},
        }
        if new != "kicked":
            del change["new_chat_member"]["until_date"]
        self.push_update({"my_chat_member": change})


_BOT_FLAGS = {
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _extension(filename: str) -> str:
    _, dot, ext = filename.rpartition(".")
    return f".{ext}" if dot and ext.isalnum() else ""


def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def _update_chat(update: dict[str, Any]) -> int | None:
    for value in update.values():
        if isinstance(value, dict):
            chat = value.get("chat")
            if isinstance(chat, dict) and "id" in chat:
                return int(chat["id"])
    return None


def _respond(status: int, body: dict[str, Any]) -> web.Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return web.Response(status=status, body=data, content_type="application/json")
