"""A readable transcript of what the bot did on the local Bot API: who got which message and buttons.

Used by `imm-bot demo` (every chat, buttons in brackets) and `imm-bot chat` (one person's chat in full,
buttons numbered so that typing a number taps one; others' messages as one-line notes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.simulator.localapi import ApiCall, LocalBotApi

SILENT_METHODS = frozenset({"getMe", "setMyCommands", "deleteMyCommands", "getMyCommands", "deleteWebhook",
                            "setWebhook", "getWebhookInfo", "sendChatAction", "getChat", "getFile", "close"})
SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
NOTE_WIDTH = 90


@dataclass(frozen=True)
class Button:
    """A button shown in the transcript; `number` is what a person types to tap it in `imm-bot chat`."""

    number: int
    chat_id: int
    message_id: int
    label: str


class Transcript:
    """Writes the calls the bot made since the last flush, in order."""

    def __init__(self, api: LocalBotApi, write: Callable[[str], None], name_of: Callable[[int | None], str], *,
                 focus: int | None = None) -> None:
        self.api, self.write, self.name_of, self.focus = api, write, name_of, focus
        self.mark = len(api.calls)
        self.buttons: list[Button] = []
        self.brief: set[int] = set()  # chats whose messages are written as one-line notes

    def skip(self) -> None:
        """Forget calls so far (start-up chatter) without writing them."""
        self.mark = len(self.api.calls)

    def flush(self) -> list[Button]:
        """Write what happened since the last flush; returns the buttons numbered in it (also kept in .buttons).

        Without a focus, the same message sent to several people in a row is written once, naming them all.
        """
        calls, self.mark = self.api.calls[self.mark:], len(self.api.calls)
        visible = [c for c in calls if c.method not in SILENT_METHODS and c.error_code is None]
        numbered: list[Button] = []
        index = 0
        while index < len(visible):
            call = visible[index]
            if call.chat_id in self.brief or (self.focus is not None and call.chat_id != self.focus):
                self._note(call)
                index += 1
                continue
            group = [call]
            while self.focus is None and index + len(group) < len(visible):
                following = visible[index + len(group)]
                if following.chat_id in self.brief or following.chat_id in {c.chat_id for c in group}:
                    break
                if call.method not in SENDS or _likeness(following) != _likeness(call):
                    break
                group.append(following)
            self._describe(call, numbered, [c.chat_id for c in group])
            index += len(group)
        if numbered:
            self.buttons = numbered
        return numbered

    def show_buttons(self, chat_id: int) -> list[Button]:
        """Number and write every button still visible in a chat (oldest message first)."""
        numbered: list[Button] = []
        for message in self.api.chat_messages(chat_id):
            rows = keyboard_rows(message.get("reply_markup"))
            if rows:
                self.write(f"  on “{first_line(message_text(message))}”:")
                self._write_buttons(rows, chat_id, message["message_id"], numbered)
        self.buttons = numbered
        return numbered

    def _describe(self, call: ApiCall, numbered: list[Button], chats: list[int | None]) -> None:
        who = "" if self.focus is not None else f" → {self._names(chats)}"
        params, result = call.params, call.result if isinstance(call.result, dict) else {}
        if call.method == "answerCallbackQuery":
            if params.get("text"):
                self.write(f"Bot (pop-up{who}): {params['text']}")
            return
        if call.method == "deleteMessage":
            self.write(f"Bot{who} deletes a message")
            return
        if call.method in ("sendPhoto", "sendDocument"):
            attachment = describe_attachment(params)
            self._write_text(f"Bot{who}: {attachment}", str(params.get("caption") or ""))
        elif call.method == "sendMessage":
            self._write_text(f"Bot{who}:", str(params.get("text") or ""))
        elif call.method.startswith("editMessage"):
            text = params.get("text", params.get("caption"))
            if text is not None:
                self._write_text(f"Bot{who} (changes its message):", str(text))
            elif not keyboard_rows(params.get("reply_markup")):
                self.write(f"Bot{who} takes the buttons away")
                return
            else:
                self.write(f"Bot{who} changes the buttons:")
        else:
            self.write(f"Bot{who}: ({call.method})")
            return
        rows = keyboard_rows(params.get("reply_markup"))
        chat_id, message_id = call.chat_id, result.get("message_id", params.get("message_id"))
        if rows and chat_id is not None and message_id is not None:
            self._write_buttons(rows, chat_id, int(message_id), numbered)

    def _names(self, chats: list[int | None]) -> str:
        names = [self.name_of(chat) for chat in chats]
        if len(names) == 1:
            return names[0]
        return f"{', '.join(names[:-1])} and {names[-1]} ({len(names)} people)"

    def _note(self, call: ApiCall) -> None:
        """Someone else's message, in one line: enough to see that it went out and to whom."""
        text = call.params.get("text", call.params.get("caption"))
        if call.method in ("sendMessage", "sendPhoto", "sendDocument") and text is not None:
            line = first_line(str(text))
            if len(line) > NOTE_WIDTH:
                line = line[: NOTE_WIDTH - 1] + "…"
            self.write(f"    (bot → {self.name_of(call.chat_id)}: {line})")

    def _write_text(self, prefix: str, text: str) -> None:
        lines = text.splitlines() or [""]
        self.write(f"{prefix} {lines[0]}".rstrip())
        for line in lines[1:]:
            self.write(f"    {line}".rstrip())

    def _write_buttons(self, rows: list[list[dict[str, Any]]], chat_id: int, message_id: int,
                       numbered: list[Button]) -> None:
        for row in rows:
            shown = []
            for button in row:
                label = str(button.get("text", ""))
                if "callback_data" not in button:
                    shown.append(f"[{label} ↗]")
                    continue
                if self.focus is None:
                    shown.append(f"[{label}]")
                    continue
                numbered.append(Button(len(numbered) + 1, chat_id, message_id, label))
                shown.append(f"{len(numbered)}) {label}")
            self.write("    " + "   ".join(shown))


def _likeness(call: ApiCall) -> tuple[str, str, str]:
    """What makes two sends the same message to a reader: method, words and button labels."""
    labels = [[str(b.get("text", "")) for b in row] for row in keyboard_rows(call.params.get("reply_markup"))]
    return call.method, str(call.text), json.dumps(labels)


def keyboard_rows(markup: Any) -> list[list[dict[str, Any]]]:
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            return []
    if not isinstance(markup, dict):
        return []
    return [list(row) for row in markup.get("inline_keyboard") or []]


def message_text(message: dict[str, Any]) -> str:
    return str(message.get("text", message.get("caption", "")))


def first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def describe_attachment(params: dict[str, Any]) -> str:
    media = params.get("photo", params.get("document"))
    kind = "picture" if "photo" in params else "file"
    if isinstance(media, dict):
        return f"[{kind}: {media.get('filename') or kind}, {max(1, int(media.get('size') or 0) // 1024)} KB]"
    return f"[{kind}]"
