"""How the local Telegram Bot API server (:mod:`bot.simulator.localapi`) says "no".

* :class:`FaultPlan` decides, per API call, whether the server misbehaves the
  way the real Telegram servers sometimes do: flood limits (429), blocked users
  (403), migrated groups (400 + ``migrate_to_chat_id``), gateway errors (502),
  hung requests and dropped connections.  Decisions are deterministic for a
  given ``seed`` so fault tests are reproducible.
* Telegram's input rules that a bot can trip over even when nothing is faulty:
  :func:`parse_html` (``parse_mode=HTML`` -> text + entities, or "can't parse
  entities"), :func:`check_markup` (inline keyboards, 64-byte callback_data)
  and :func:`check_commands`; errors are raised as :class:`ApiError`.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

#: Methods that count as "sending" for rate limits and random faults.
SEND_LIKE: frozenset[str] = frozenset({"sendMessage", "sendDocument", "sendPhoto", "editMessageText"})

#: Methods that never get chat-level faults (blocked / migrated).
_CHAT_FAULT_EXEMPT: frozenset[str] = frozenset({"answerCallbackQuery", "getChat", "getUpdates"})

#: Pseudo error codes recorded in ``ApiCall.error_code`` for faults that have no HTTP answer.
HANG_CODE = 504  # the answer is held for ``hang_seconds`` (the client normally times out first)
DROP_CODE = 444  # the connection is closed without any answer (nginx's "no response" code)


@dataclass(frozen=True, slots=True)
class Fault:
    """One decision of a :class:`FaultPlan`: what the server does instead of answering normally."""

    kind: str  # "error" (answer with status/description), "hang" or "drop"
    status: int
    description: str
    parameters: dict[str, Any] | None = None


@dataclass
class FaultPlan:
    """What should go wrong, and how often.  All zero/empty (the default) means "no faults"."""

    rate_limit_every: int = 0
    retry_after: int = 1
    server_error_rate: float = 0.0
    timeout_rate: float = 0.0
    hang_seconds: float = 30.0
    drop_rate: float = 0.0
    blocked_chats: set[int] = field(default_factory=set)
    migrated_chats: dict[int, int] = field(default_factory=dict)
    max_per_second: int | None = None
    seed: int = 0
    #: extension: if True a "timed out" send is still delivered (Telegram did the work, the answer
    #: was lost) -- the classic duplicate-message hazard when the client retries.
    timeout_delivers: bool = False
    _rng: random.Random | None = field(default=None, init=False, repr=False, compare=False)
    _rng_seed: int | None = field(default=None, init=False, repr=False, compare=False)
    _send_count: int = field(default=0, init=False, repr=False, compare=False)
    _window: int = field(default=-1, init=False, repr=False, compare=False)
    _window_count: int = field(default=0, init=False, repr=False, compare=False)

    def clear(self) -> None:
        """Switch every fault off and reset counters (the seed is kept)."""
        self.rate_limit_every = 0
        self.retry_after = 1
        self.server_error_rate = self.timeout_rate = self.drop_rate = 0.0
        self.hang_seconds = 30.0
        self.blocked_chats.clear()
        self.migrated_chats.clear()
        self.max_per_second = None
        self.timeout_delivers = False
        self._rng = None
        self._send_count = self._window_count = 0
        self._window = -1

    def _random(self) -> float:
        if self._rng is None or self._rng_seed != self.seed:
            self._rng = random.Random(self.seed)
            self._rng_seed = self.seed
        return self._rng.random()

    def decide(self, method: str, chat_id: int | None) -> Fault | None:
        """Return the fault to inject for this call, or None to answer normally."""
        if chat_id is not None and method not in _CHAT_FAULT_EXEMPT:
            if chat_id in self.blocked_chats:
                return Fault("error", 403, "Forbidden: bot was blocked by the user")
            new_id = self.migrated_chats.get(chat_id)
            if new_id is not None:
                return Fault(
                    "error",
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    {"migrate_to_chat_id": new_id},
                )
        if method not in SEND_LIKE:
            return None
        return self._send_fault()

    def _send_fault(self) -> Fault | None:
        self._send_count += 1
        if self.rate_limit_every and self._send_count % self.rate_limit_every == 0:
            return _too_many(self.retry_after)
        if self.max_per_second is not None:
            window = int(time.monotonic())
            if window != self._window:
                self._window, self._window_count = window, 0
            if self._window_count >= self.max_per_second:
                return _too_many(1)
            self._window_count += 1
        if not (self.server_error_rate or self.timeout_rate or self.drop_rate):
            return None
        draw = self._random()
        if draw < self.server_error_rate:
            return Fault("error", 502, "Bad Gateway")
        draw -= self.server_error_rate
        if draw < self.timeout_rate:
            return Fault("hang", HANG_CODE, "Gateway Timeout")
        draw -= self.timeout_rate
        if draw < self.drop_rate:
            return Fault("drop", DROP_CODE, "connection dropped")
        return None


def _too_many(retry_after: int) -> Fault:
    return Fault(
        "error",
        429,
        f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
    )


# ---------------------------------------------------------------- Telegram's validation rules
class ApiError(Exception):
    """A Telegram-style error answer (``{"ok": false, ...}``)."""

    def __init__(self, code: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline", "s": "strikethrough",
    "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "span": "spoiler", "code": "code", "pre": "pre", "a": "text_link",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip


class _HtmlEntities(HTMLParser):
    """Telegram's HTML parse mode: strips the supported tags into entities."""

    def __init__(self, raw: str) -> None:
        super().__init__(convert_charrefs=True)
        self.raw, self.parts, self.pos = raw, [], 0
        self.stack: list[tuple[str, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def _fail(self, what: str) -> ApiError:
        line, col = self.getpos()
        lines = self.raw.splitlines(keepends=True)
        index = sum(len(chunk) for chunk in lines[: line - 1]) + col
        offset = len(self.raw[:index].encode())
        return ApiError(400, f"Bad Request: can't parse entities: {what} at byte offset {offset}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind, attr = _HTML_TAGS.get(tag), dict(attrs)
        if kind is None or (tag == "span" and attr.get("class") != "tg-spoiler"):
            raise self._fail(f'Unsupported start tag "{tag}"')
        entity: dict[str, Any] = {"type": kind, "offset": self.pos}
        if tag == "a":
            entity["url"] = attr.get("href") or ""
        elif tag == "blockquote" and "expandable" in attr:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attr.get("emoji-id") or ""
        elif tag == "code" and self.stack and self.stack[-1][0] == "pre":
            language = (attr.get("class") or "").removeprefix("language-")
            if language:
                self.stack[-1][1]["language"] = language
            entity["nested"] = True
        self.stack.append((tag, entity))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise self._fail(f'Unexpected end tag "{tag}"')
        opened, entity = self.stack.pop()
        if opened != tag:
            raise self._fail(f'Unmatched end tag, expected "</{opened}>", found "</{tag}>"')
        entity["length"] = self.pos - entity["offset"]
        if entity["length"] and not entity.pop("nested", False):
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.pos += utf16_len(data)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Return (plain text, entities) as Telegram would, or raise ApiError(400)."""
    parser = _HtmlEntities(text)
    parser.feed(text)
    parser.close()
    if parser.stack:
        tag = parser.stack[-1][0]
        raise ApiError(
            400,
            f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{tag}\"",
        )
    parser.entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), parser.entities


_BUTTON_ACTIONS = frozenset(
    "callback_data url login_url switch_inline_query switch_inline_query_current_chat "
    "switch_inline_query_chosen_chat callback_game pay web_app copy_text".split()
)


def check_markup(markup: Any) -> dict[str, Any] | None:
    """Validate an inline keyboard the way Telegram does; return it (or None)."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None  # reply keyboards etc. are not part of the Message object
    for row in markup["inline_keyboard"]:
        for button in row:
            if not _BUTTON_ACTIONS.intersection(button):
                raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
    return markup


_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


def check_commands(commands: Any) -> list[dict[str, str]]:
    """Validate setMyCommands' list; return it as plain BotCommand dicts."""
    checked = []
    for command in commands or []:
        name, description = str(command.get("command", "")), str(command.get("description", ""))
        if not _COMMAND_RE.match(name):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise ApiError(400, "Bad Request: command description is empty or too long")
        checked.append({"command": name, "description": description})
    return checked
