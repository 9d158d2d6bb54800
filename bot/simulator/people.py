"""Simulated people for the local Bot API server: a person in a private chat, whose methods read like a journey."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.simulator.localapi import ApiCall, LocalBotApi


class SimulatedUser:
    """A person in a private chat with the bot; methods read like a user journey."""

    #: how long the chat must stay silent before send()/tap() consider the bot done
    quiet: float = 0.08

    def __init__(
        self,
        api: LocalBotApi,
        user_id: int,
        first_name: str = "Sam",
        language_code: str | None = "en",
        username: str | None = None,
    ) -> None:
        self.api, self.id, self.first_name = api, user_id, first_name
        self.language_code, self.username = language_code, username

    @property
    def chat_id(self) -> int:
        return self.id

    def as_dict(self) -> dict[str, Any]:
        """The Telegram User object for this person."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    async def send(self, text: str, *, wait: bool = True, timeout: float = 5.0) -> list[ApiCall]:  # noqa: ASYNC109
        """Send ``text``; if ``wait``, return the bot's calls to this chat once it goes quiet."""
        start = len(self.api._chat_calls.get(self.id, ()))
        self.api._push_message(self, text)
        if not wait:
            return []
        await self.api._wait_in(self.id, start, _anything, timeout, f"any reply to {text!r}")
        await self.api.wait_quiet(self.id, self.quiet, timeout)
        return self.api._chat_calls.get(self.id, [])[start:]

    async def tap(
        self,
        label: str,
        *,
        message_id: int | None = None,
        wait: bool = True,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[ApiCall]:
        """Tap the inline button labelled ``label`` (exact, else case-insensitive substring)."""
        message, button = self._find_button(label, message_id)
        return await self._press(message, str(button["callback_data"]), wait, timeout)

    async def tap_data(
        self,
        data: str,
        *,
        message_id: int | None = None,
        wait: bool = True,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[ApiCall]:
        """Forge a button press carrying arbitrary ``data`` (untrusted-input tests)."""
        message = self._message(message_id)
        if message is None:
            message = {
                "message_id": message_id or 1,
                "from": self.api.bot_user,
                "chat": self.api._chat(self.id),
                "date": int(time.time()),
                "text": "(message not known to the simulator)",
            }
        return await self._press(message, data, wait, timeout)

    async def _press(self, message: dict[str, Any], data: str, wait: bool, timeout: float) -> list[ApiCall]:  # noqa: ASYNC109
        start = len(self.api._chat_calls.get(self.id, ()))
        query_id = self.api._push_callback(self, dict(message), data)
        if not wait:
            return []

        def answered(call: ApiCall) -> bool:
            return call.method == "answerCallbackQuery" and call.params.get("callback_query_id") == query_id

        await self.api._wait_in(self.id, start, answered, timeout, f"answerCallbackQuery({query_id})")
        await self.api.wait_quiet(self.id, self.quiet, timeout)
        return self.api._chat_calls.get(self.id, [])[start:]

    def _message(self, message_id: int | None) -> dict[str, Any] | None:
        messages = self.api._messages.get(self.id, {})
        if message_id is not None:
            return messages.get(message_id)
        return next(reversed(messages.values()), None) if messages else None

    def _find_button(self, label: str, message_id: int | None) -> tuple[dict[str, Any], dict[str, Any]]:
        if message_id is not None:
            candidates = [m for m in [self._message(message_id)] if m is not None]
        else:
            candidates = list(reversed(self.api._messages.get(self.id, {}).values()))
        wanted = label.casefold()
        for exact in (True, False):
            for message in candidates:
                for row in keyboard_of(message):
                    for button in row:
                        text = str(button.get("text", ""))
                        hit = text == label if exact else wanted in text.casefold()
                        if hit and "callback_data" in button:
                            return message, button
        where = f"message {message_id}" if message_id is not None else f"chat {self.id}"
        raise LookupError(f"no button {label!r} in {where}; visible buttons: {self.buttons(message_id)}")

    def messages(self) -> list[dict[str, Any]]:
        return self.api.chat_messages(self.id)

    def texts(self) -> list[str]:
        return [str(m.get("text", m.get("caption", ""))) for m in self.api._messages.get(self.id, {}).values()]

    def last_text(self) -> str:
        message = self._message(None)
        return "" if message is None else str(message.get("text", message.get("caption", "")))

    def buttons(self, message_id: int | None = None) -> list[list[str]]:
        """Button labels (rows) of the newest message with a keyboard, or of ``message_id``."""
        if message_id is not None:
            message = self._message(message_id)
        else:
            messages = reversed(self.api._messages.get(self.id, {}).values())
            message = next((m for m in messages if keyboard_of(m)), None)
        return [[str(b.get("text", "")) for b in row] for row in keyboard_of(message)]

    async def block_bot(self, *, notify: bool = True) -> None:
        """Block the bot: sends to this chat now fail with 403 (and a my_chat_member update)."""
        self.api.faults.blocked_chats.add(self.id)
        if notify:
            self.api._push_member_change(self, "member", "kicked")

    async def unblock_bot(self, *, notify: bool = True) -> None:
        self.api.faults.blocked_chats.discard(self.id)
        if notify:
            self.api._push_member_change(self, "kicked", "member")


# ---------------------------------------------------------------------- helpers


def _anything(_call: ApiCall) -> bool:
    return True


def keyboard_of(message: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    """The inline keyboard rows of a Message dict (empty when it has none)."""
    markup = (message or {}).get("reply_markup") or {}
    return markup.get("inline_keyboard") or []
