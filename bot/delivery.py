"""The dispatcher: plans what is due into the ledger, then sends it in sequence within Telegram's limits."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from storage.delivery import Delivery

if TYPE_CHECKING:
    from telegram import Bot

    from bot.services import Services

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6


@dataclass(frozen=True)
class Outgoing:
    """A rendered message: text, or a photo/document with the text as caption."""

    text: str
    reply_markup: InlineKeyboardMarkup | None = None
    photo: bytes | None = None
    document: tuple[str, bytes] | None = None


Renderer = Callable[[Delivery, "Services"], Awaitable[Outgoing | None]]
"""Turns a ledger row into a message, or None when it is no longer wanted (it is then skipped)."""
Planner = Callable[[datetime, "Services"], Awaitable[int]]
"""Adds the rows that have become due to the ledger; returns how many were added."""
AfterSend = Callable[[Delivery, Message, "Services"], Awaitable[None]]


@dataclass
class DispatchReport:
    planned: int = 0
    sent: int = 0
    failed: int = 0
    dropped: int = 0
    skipped: int = 0
    retried: int = 0

    def __iadd__(self, other: DispatchReport) -> DispatchReport:
        for name in ("planned", "sent", "failed", "dropped", "skipped", "retried"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self


class Pacer:
    """Spaces sends evenly so no one-second window holds more than Telegram's ~30 messages.

    Releases follow a fixed grid of `1 / per_second`, so a late wake-up or a slow send does not push every
    later send back (that drift alone held a 29.5/s pacer to about 27/s). A send that falls behind the grid
    is caught up at no more than twice the rate; more than a second behind (idle, or a long stall) the grid
    starts again from now.

    At Telegram's rates a sliding window is the hard guarantee: the 31st send is released no sooner than
    WINDOW after the 1st one *finished* (`sent()`: its answer came back, so it had certainly reached
    Telegram). Counting from the finish rather than the release means a send held up on its way (a busy
    CPU, a slow network) cannot bunch up with the ones after it at Telegram's end. At 29.5/s the grid alone
    keeps the 1st and the 31st send 1.017 s apart, so the window costs no speed when nothing is held up.
    """

    LIMIT, WINDOW = 30, 1.002

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = self._last = float("-inf")
        # Faster than Telegram allows only makes sense against a local server: no window then.
        self._finished: deque[float] | None = deque(maxlen=self.LIMIT) if per_second <= self.LIMIT else None

    async def wait(self) -> None:
        """Return when the next send may go."""
        now = time.monotonic()
        if self._next < now - 1.0:
            self._next = now
        target = max(self._next, self._last + self.interval / 2)
        if self._finished is not None and len(self._finished) == self.LIMIT:
            target = max(target, self._finished[0] + self.WINDOW)
        if target > now:
            await asyncio.sleep(target - now)
        self._last = max(target, time.monotonic())
        self._next += self.interval

    def sent(self) -> None:
        """The send released by the last wait() has finished (delivered or failed)."""
        if self._finished is not None:
            self._finished.append(time.monotonic())


@dataclass
class Dispatcher:
    """One task sends everything the ledger holds, in order; features plug in planners and renderers."""

    per_second: float = 29.5
    renderers: dict[str, Renderer] = field(default_factory=dict)
    after_send: dict[str, AfterSend] = field(default_factory=dict)
    planners: list[tuple[str, Planner]] = field(default_factory=list)
    batch_size: int = 500

    def __post_init__(self) -> None:
        self.pacer = Pacer(self.per_second) if self.per_second > 0 else None
        self._lock = asyncio.Lock()
        self._stopping = False

    def register_renderer(self, kind: str, renderer: Renderer, after_send: AfterSend | None = None) -> None:
        self.renderers[kind] = renderer
        if after_send is not None:
            self.after_send[kind] = after_send

    def register_planner(self, name: str, planner: Planner) -> None:
        if all(existing != name for existing, _ in self.planners):
            self.planners.append((name, planner))

    async def drain(self) -> None:
        """Finish the message being sent, then send no more."""
        self._stopping = True
        async with self._lock:
            pass

    async def run_once(self, services: Services, bot: Bot) -> DispatchReport:
        """Plan, then send everything due now. Never raises for a single message."""
        async with self._lock:
            report = DispatchReport()
            now = services.clock.now()
            for name, planner in self.planners:
                try:
                    report.planned += await planner(now, services)
                except Exception:
                    log.exception("planner %s failed; the others go on", name)
            while not self._stopping:
                due = await services.store.due_deliveries(services.clock.now(), self.batch_size)
                if not due:
                    break
                for delivery in due:
                    if self._stopping:
                        break
                    await self._deliver(delivery, services, bot, report)
            return report

    async def _deliver(self, delivery: Delivery, services: Services, bot: Bot, report: DispatchReport) -> None:
        store, now = services.store, services.clock.now()
        if delivery.expires_at is not None and delivery.expires_at <= now:
            await store.close_delivery(delivery.id, "dropped", "too late to be useful")
            report.dropped += 1
            return
        renderer = self.renderers.get(delivery.kind)
        if renderer is None:
            log.error("no renderer for delivery kind %s (delivery %s)", delivery.kind, delivery.id)
            await store.close_delivery(delivery.id, "failed", f"no renderer for {delivery.kind}")
            report.failed += 1
            return
        try:
            outgoing = await renderer(delivery, services)
        except Exception:
            log.exception("rendering delivery %s failed", delivery.id)
            await store.close_delivery(delivery.id, "failed", "rendering failed")
            report.failed += 1
            return
        if outgoing is None:
            await store.close_delivery(delivery.id, "skipped", "no longer wanted")
            report.skipped += 1
            return
        if not await store.mark_delivery_sending(delivery.id):
            return
        await self._send(delivery, outgoing, services, bot, report)

    async def _send(
        self, delivery: Delivery, outgoing: Outgoing, services: Services, bot: Bot, report: DispatchReport
    ) -> None:
        store = services.store
        chat_id = delivery.chat_id
        for _ in range(3):  # a migrated chat is followed, then tried again
            if self.pacer is not None:
                await self.pacer.wait()
            try:
                message = await self._paced_send(bot, chat_id, outgoing)
            except ChatMigrated as exc:
                log.info("chat %s moved to %s", chat_id, exc.new_chat_id)
                await store.follow_chat_migration(chat_id, exc.new_chat_id)
                chat_id = exc.new_chat_id
                continue
            except Exception as exc:
                await self._failed(delivery, exc, services, report)
                return
            await store.mark_delivery_sent(delivery.id, message.message_id, services.clock.now())
            report.sent += 1
            log.info("sent %s delivery %s to chat %s", delivery.kind, delivery.id, chat_id)
            hook = self.after_send.get(delivery.kind)
            if hook is not None:
                try:
                    await hook(delivery, message, services)
                except Exception:
                    log.exception("after-send hook for delivery %s failed", delivery.id)
            return
        await store.close_delivery(delivery.id, "failed", "chat migrated too many times")
        report.failed += 1

    async def _paced_send(self, bot: Bot, chat_id: int, outgoing: Outgoing) -> Message:
        try:
            return await _send_outgoing(bot, chat_id, outgoing)
        finally:
            if self.pacer is not None:
                self.pacer.sent()

    async def _failed(self, delivery: Delivery, exc: Exception, services: Services, report: DispatchReport) -> None:
        store, now = services.store, services.clock.now()
        if isinstance(exc, Forbidden):
            log.info("chat %s blocked the bot; marking unreachable", delivery.chat_id)
            await store.mark_unreachable(delivery.chat_id, now)
            await store.close_delivery(delivery.id, "failed", f"forbidden: {exc.message}")
            report.failed += 1
        elif isinstance(exc, RetryAfter):
            wait = _seconds(exc.retry_after)
            log.warning("Telegram asked to wait %.1fs (delivery %s)", wait, delivery.id)
            await store.retry_delivery_later(delivery.id, delivery.due_at, f"retry after {wait}s")
            report.retried += 1
            await asyncio.sleep(wait)
        elif isinstance(exc, BadRequest):
            log.warning("Telegram refused delivery %s: %s", delivery.id, exc.message)
            await store.close_delivery(delivery.id, "failed", f"bad request: {exc.message}")
            report.failed += 1
        elif isinstance(exc, NetworkError | TimedOut) and delivery.attempts + 1 < MAX_ATTEMPTS:
            backoff = timedelta(seconds=min(300, 5 * 2 ** delivery.attempts))
            await store.retry_delivery_later(delivery.id, now + backoff, f"network: {exc}")
            report.retried += 1
        else:
            log.error("giving up on delivery %s: %r", delivery.id, exc)
            await store.close_delivery(delivery.id, "failed", repr(exc))
            report.failed += 1


def _seconds(value: Any) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _send_outgoing(bot: Bot, chat_id: int, outgoing: Outgoing) -> Message:
    if outgoing.photo is not None:
        return await bot.send_photo(
            chat_id, InputFile(outgoing.photo, filename="chart.png"), caption=outgoing.text[:1024],
            reply_markup=outgoing.reply_markup,
        )
    if outgoing.document is not None:
        name, content = outgoing.document
        return await bot.send_document(
            chat_id, InputFile(content, filename=name), caption=outgoing.text[:1024],
            reply_markup=outgoing.reply_markup,
        )
    return await bot.send_message(chat_id, outgoing.text, reply_markup=outgoing.reply_markup)
