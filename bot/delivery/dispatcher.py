"""The dispatcher: plans what is due into the ledger, then sends it in sequence within Telegram's limits."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from telegram import InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.domain.clock import Clock
from bot.domain.ledger import Delivery
from storage.delivery import DeliveryQueries

if TYPE_CHECKING:
    from telegram import Bot

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6


@dataclass(frozen=True)
class Outgoing:
    """A rendered message: text, or a photo/document with the text as caption."""

    text: str
    reply_markup: InlineKeyboardMarkup | None = None
    photo: bytes | None = None
    document: tuple[str, bytes] | None = None


class DispatchContext(Protocol):
    """What the dispatcher needs of the application (bot.services.Services is one); planners and renderers
    receive the same object."""

    @property
    def clock(self) -> Clock: ...

    @property
    def store(self) -> DeliveryQueries: ...


Renderer = Callable[[Delivery, Any], Awaitable[Outgoing | None]]
"""Turns a ledger row into a message, or None when it is no longer wanted (it is then skipped).
Its second argument is the DispatchContext given to run_once (the application's Services)."""
Planner = Callable[[datetime, Any], Awaitable[int]]
"""Adds the rows that have become due to the ledger; returns how many were added."""
AfterSend = Callable[[Delivery, Message, Any], Awaitable[None]]


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

    At Telegram's rates a sliding window is the hard guarantee: send number k is released no sooner than
    WINDOW after send number k - 30 *finished* (`sent(ticket)`: its answer came back, so it had certainly
    reached Telegram). Counting from the finish rather than the release means a send held up on its way (a
    busy CPU, a slow network) cannot bunch up with the ones after it at Telegram's end; counting by ticket
    rather than by order of finishing keeps that true with several sends in flight. At 29.5/s the grid alone
    keeps the 1st and the 31st send 1.017 s apart, so the window costs no speed when nothing is held up.
    """

    LIMIT, WINDOW = 30, 1.002

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = self._last = float("-inf")
        # Faster than Telegram allows only makes sense against a local server: no window then.
        self._windowed = per_second <= self.LIMIT
        self._tickets = 0
        self._outstanding: deque[int] = deque()
        self._finished_at: dict[int, float] = {}
        self._turn = asyncio.Lock()  # with several sends in flight, waiters take their slots one by one

    def hold(self, seconds: float) -> None:
        """Telegram asked us to wait (429): no send is released before then."""
        resume = time.monotonic() + seconds
        self._next = max(self._next, resume)
        self._last = max(self._last, resume - self.interval / 2)

    async def wait(self) -> int:
        """Return, with a ticket for `sent()`, when the next send may go."""
        async with self._turn:
            await self._wait_for_slot(self._tickets)
            ticket, self._tickets = self._tickets, self._tickets + 1
            self._outstanding.append(ticket)
            return ticket

    async def _wait_for_slot(self, ticket: int) -> None:
        now = time.monotonic()
        if self._next < now - 1.0:
            self._next = now
        target = max(self._next, self._last + self.interval / 2)
        if self._windowed and ticket >= self.LIMIT:
            # Not finished yet (only with 30 or more in flight): count it as finishing now.
            earlier = self._finished_at.get(ticket - self.LIMIT, now)
            target = max(target, earlier + self.WINDOW)
        if target > now:
            await asyncio.sleep(target - now)
        self._last = max(target, time.monotonic())
        self._next += self.interval

    def sent(self, ticket: int | None = None) -> None:
        """A send has finished (delivered or failed); without a ticket, the oldest one still out."""
        if ticket is None:
            if not self._outstanding:
                return
            ticket = self._outstanding[0]
        if ticket in self._outstanding:
            self._outstanding.remove(ticket)
        if self._windowed:
            self._finished_at[ticket] = time.monotonic()
            self._finished_at.pop(ticket - self.LIMIT - 8, None)  # keep the last LIMIT + in-flight


@dataclass
class Dispatcher:
    """One task sends everything the ledger holds, in order; features plug in planners and renderers."""

    per_second: float = 29.5
    renderers: dict[str, Renderer] = field(default_factory=dict)
    after_send: dict[str, AfterSend] = field(default_factory=dict)
    planners: list[tuple[str, Planner]] = field(default_factory=list)
    batch_size: int = 500
    # Sends awaiting Telegram's answer at once. 1: a crash can repeat at most one message; more keeps the
    # paced rate over a slow round trip (one at a time over 50 ms manages about 18 a second).
    in_flight: int = 1

    def __post_init__(self) -> None:
        self.pacer = Pacer(self.per_second) if self.per_second > 0 else None
        self._lock = asyncio.Lock()
        self._stopping = False
        self._wake: Callable[[], None] | None = None

    def wake_with(self, wake: Callable[[], None]) -> None:
        """How `kick` runs the dispatcher soon: set by whoever schedules it (bot.runtime)."""
        self._wake = wake

    def kick(self) -> None:
        """Run soon, after queuing something that should go out at once; before the bot runs, nothing."""
        if self._wake is not None:
            self._wake()

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

    async def run_once(self, services: DispatchContext, bot: Bot) -> DispatchReport:
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
                await self._deliver_batch(due, services, bot, report)
            return report

    async def _deliver_batch(
        self, due: list[Delivery], services: DispatchContext, bot: Bot, report: DispatchReport
    ) -> None:
        """Deliver rows in order, with at most `in_flight` of them between claim and Telegram's answer."""
        if self.in_flight <= 1:
            for delivery in due:
                if self._stopping:
                    return
                await self._deliver(delivery, services, bot, report)
            return
        slots = asyncio.Semaphore(self.in_flight)

        async def deliver(delivery: Delivery) -> None:
            try:
                await self._deliver(delivery, services, bot, report)
            except Exception:  # one row's database trouble must not cancel the others in flight
                log.exception("delivery %s failed unexpectedly", delivery.id)
            finally:
                slots.release()

        async with asyncio.TaskGroup() as group:
            for delivery in due:
                if self._stopping:
                    break
                await slots.acquire()
                group.create_task(deliver(delivery))

    async def _deliver(self, delivery: Delivery, services: DispatchContext, bot: Bot, report: DispatchReport) -> None:
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
        self, delivery: Delivery, outgoing: Outgoing, services: DispatchContext, bot: Bot, report: DispatchReport
    ) -> None:
        store = services.store
        chat_id = delivery.chat_id
        for _ in range(3):  # a migrated chat is followed, then tried again
            ticket = await self.pacer.wait() if self.pacer is not None else None
            try:
                message = await self._paced_send(bot, chat_id, outgoing, ticket)
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

    async def _paced_send(self, bot: Bot, chat_id: int, outgoing: Outgoing, ticket: int | None) -> Message:
        try:
            return await _send_outgoing(bot, chat_id, outgoing)
        finally:
            if self.pacer is not None:
                self.pacer.sent(ticket)

    async def _failed(self, delivery: Delivery, exc: Exception, services: DispatchContext,
                      report: DispatchReport) -> None:
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
            if self.pacer is not None:
                self.pacer.hold(wait)
            else:
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
