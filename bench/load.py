"""Load generation against a bot process: taps pushed into the local Bot API server, completions timed there.

A tap is pushed as a callback_query update (the bot fetches it with getUpdates) and is complete when the
server has recorded both the bot's answerCallbackQuery for it and an edit (or a message) to that chat.
Latency is measured on the server's clock from the push to the later of the two, so it includes polling,
the bot's work, its SQLite commit and the server's reply delay, as a person tapping would see it.

The bot's share of a tap is timed too: from the getUpdates answer that delivered it to the arrival of the
later of the bot's two requests for it (before the server's reply delay). It leaves out the wait for the
bot's next poll and the server's 50 ms, so a slow phase can be told apart: the bot slow to answer, or the
taps slow to reach it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from bot.simulator.localapi import ApiCall, LocalBotApi

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_OUT_METHODS = frozenset({"editMessageText", "editMessageReplyMarkup", "sendMessage"})


@dataclass(frozen=True)
class Target:
    """A message in a member's chat with the buttons a tap can press (their callback data, in turn)."""

    chat_id: int
    message_id: int
    datas: tuple[str, ...]


@dataclass
class _Tap:
    query_id: str
    started: float
    future: asyncio.Future[float]
    update_id: int = 0
    pushed: float = 0.0  # time.monotonic() of the push (`started` is perf_counter's, for the latency)
    delivered: float | None = None  # time.monotonic() of the getUpdates answer that carried it
    answered: float | None = None  # time.monotonic() when its answerCallbackQuery arrived
    out: float | None = None  # ... and its edit


@dataclass
class Result:
    """What one measured phase produced."""

    label: str
    offered: float  # taps in flight (closed loop) or taps a second offered (open loop)
    completed: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    bot_cpu: float = 0.0
    load_cpu: float = 0.0  # this process: the local Bot API server and the load generator
    errors: int = 0
    late: int = 0  # taps still unanswered when the phase gave up waiting
    polls: int = 0  # getUpdates requests the bot made during the phase
    bot_shares: list[float] = field(default_factory=list)  # seconds from delivery to the bot's later request
    deliveries: list[float] = field(default_factory=list)  # seconds from the push to the delivery

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def p50_ms(self) -> float:
        return 1000 * statistics.median(self.latencies) if self.latencies else float("nan")

    @property
    def p99_ms(self) -> float:
        return 1000 * self.percentile(99)

    @property
    def bot_p99_ms(self) -> float:
        """The bot's own share of a tap (see the module's docstring), 99th percentile."""
        return _p99_ms(self.bot_shares)

    @property
    def delivery_p99_ms(self) -> float:
        """From a tap's push to the getUpdates answer that carried it, 99th percentile."""
        return _p99_ms(self.deliveries)

    @property
    def bot_busy(self) -> float:
        """Share of one core the bot used during the phase."""
        return self.bot_cpu / self.seconds if self.seconds > 0 else 0.0

    @property
    def load_busy(self) -> float:
        return self.load_cpu / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_ms_per_tap(self) -> float:
        return 1000 * self.bot_cpu / self.completed if self.completed else float("nan")


def _p99_ms(seconds: list[float]) -> float:
    if not seconds:
        return float("nan")
    ordered = sorted(seconds)
    return 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


class TapServer(LocalBotApi):
    """The local Bot API server, told about taps so that it can time their completion."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: dict[int, _Tap] = {}
        self._undelivered: deque[_Tap] = deque()  # pushed, in update order, until a getUpdates answer carries them
        self.bot_shares: list[float] = []  # one per completed tap, in completion order
        self.deliveries: list[float] = []  # ... and from its push to the getUpdates answer that carried it
        self.errors = 0
        self.polls = 0  # getUpdates requests: fewer per tap means bigger batches
        self.error_kinds: Counter[str] = Counter()
        self.keep_calls = True

    async def _get_updates(self, request: Any, params: dict[str, Any]) -> Any:
        self.polls += 1
        response = await super()._get_updates(request, params)
        # The answer was built from the first `limit` updates held, and nothing has run since: those are the
        # taps it delivers.
        held = len(self._updates)
        if response.status == 200 and held:
            limit = min(max(int(params.get("limit") or 100), 1), 100)
            last = self._updates[min(limit, held) - 1]["update_id"]
            now = time.monotonic()
            while self._undelivered and self._undelivered[0].update_id <= last:
                tap = self._undelivered.popleft()
                if tap.delivered is None:
                    tap.delivered = now
        return response

    def plant(self, chat_id: int, text: str, markup: dict[str, Any]) -> int:
        """A message 'the bot sent earlier' (for the bare bot, which sends none); returns its id."""
        self.user(chat_id, f"Member{chat_id}")
        return int(self._store(chat_id, {"text": text}, markup)["message_id"])

    def tap(self, target: Target, data: str) -> asyncio.Future[float]:
        """Press a button on the target message; the future gets the tap's latency in seconds."""
        if target.chat_id in self._pending:
            raise RuntimeError(f"chat {target.chat_id} already has a tap in flight")
        person = self._users.get(target.chat_id) or self.user(target.chat_id, f"Member{target.chat_id}")
        message = self._messages[target.chat_id][target.message_id]
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        query_id = self._push_callback(person, dict(message), data)
        tap = _Tap(query_id, started, future, update_id=self._updates[-1]["update_id"], pushed=time.monotonic())
        self._pending[target.chat_id] = tap
        self._undelivered.append(tap)
        return future

    def _execute(self, call: ApiCall) -> tuple[int, dict[str, Any]]:
        status, body = super()._execute(call)
        if status != 200:
            self.error_kinds[f"{call.method}: {body.get('description', status)}"[:120]] += 1
        return status, body

    def _record(self, call: ApiCall) -> None:
        if self.keep_calls:
            super()._record(call)
        if call.error_code is not None and call.method != "getUpdates":
            self.errors += 1
        chat = call.chat_id
        tap = self._pending.get(chat) if chat is not None else None
        if tap is None:
            return
        if call.method == "answerCallbackQuery" and call.params.get("callback_query_id") == tap.query_id:
            tap.answered = call.at
        elif call.method in _OUT_METHODS:
            tap.out = call.at
        if tap.answered is not None and tap.out is not None:
            del self._pending[chat]
            if tap.delivered is not None:
                self.bot_shares.append(max(tap.answered, tap.out) - tap.delivered)
                self.deliveries.append(tap.delivered - tap.pushed)
            if not tap.future.done():
                tap.future.set_result(time.perf_counter() - tap.started)

    def abandon(self, chat_id: int) -> None:
        """Stop waiting for the tap in flight in this chat (it timed out)."""
        self._pending.pop(chat_id, None)

    def forget_pending(self) -> int:
        """Give up on taps still in flight (after a phase's grace period); returns how many."""
        late = len(self._pending)
        for tap in self._pending.values():
            if not tap.future.done():
                tap.future.cancel()
        self._pending.clear()
        self._undelivered.clear()
        return late


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


class Taps:
    """Drives one bot through its server: each target (member) has at most one tap in flight."""

    def __init__(self, server: TapServer, targets: list[Target], bot_pid: int) -> None:
        self.server, self.bot_pid = server, bot_pid
        self.free: deque[Target] = deque(targets)
        self._turn: dict[int, itertools.cycle[str]] = {t.chat_id: itertools.cycle(t.datas) for t in targets}

    async def _one(self, latencies: list[float], deadline: float, target: Target | None = None) -> bool:
        target = target or self.free.popleft()
        try:
            latency = await asyncio.wait_for(self.server.tap(target, next(self._turn[target.chat_id])),
                                             max(0.1, deadline - time.perf_counter()))
        except (TimeoutError, asyncio.CancelledError):
            self.server.abandon(target.chat_id)
            return False
        else:
            latencies.append(latency)
            return True
        finally:
            self.free.append(target)

    async def closed_loop(self, label: str, in_flight: int, seconds: float, grace: float = 60.0) -> Result:
        """Keep `in_flight` taps outstanding for `seconds`; throughput counts taps completed in the window."""
        if in_flight > len(self.free):
            raise ValueError(f"{in_flight} in flight needs at least as many members ({len(self.free)})")
        latencies: list[float] = []
        errors_before, cpu_before = self.server.errors, process_cpu_seconds(self.bot_pid)
        load_before, polls_before = time.process_time(), self.server.polls
        shares_before = len(self.server.bot_shares)
        deliveries_before = len(self.server.deliveries)
        began = time.perf_counter()
        stop_at, give_up = began + seconds, began + seconds + grace
        done_in_window = 0

        async def worker() -> None:
            nonlocal done_in_window
            while time.perf_counter() < stop_at:
                if await self._one(latencies, give_up) and time.perf_counter() <= stop_at:
                    done_in_window += 1

        workers = asyncio.gather(*(worker() for _ in range(in_flight)))
        await asyncio.sleep(seconds)
        bot_cpu, load_cpu = process_cpu_seconds(self.bot_pid) - cpu_before, time.process_time() - load_before
        polls = self.server.polls - polls_before
        await workers
        late = self.server.forget_pending()
        return Result(label, in_flight, done_in_window, seconds, latencies, bot_cpu, load_cpu,
                      self.server.errors - errors_before, late, polls, self.server.bot_shares[shares_before:],
                      self.server.deliveries[deliveries_before:])

    async def open_loop(self, label: str, rate: float, seconds: float, grace: float = 10.0) -> Result:
        """Offer `rate` taps a second for `seconds`, whatever the bot manages; latency per tap."""
        latencies: list[float] = []
        errors_before, cpu_before = self.server.errors, process_cpu_seconds(self.bot_pid)
        load_before, polls_before = time.process_time(), self.server.polls
        shares_before = len(self.server.bot_shares)
        deliveries_before = len(self.server.deliveries)
        began = time.perf_counter()
        give_up = began + seconds + grace
        tasks: list[asyncio.Task[bool]] = []
        skipped = 0
        for n in range(int(rate * seconds)):
            delay = began + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if not self.free:
                skipped += 1  # every member already has a tap waiting: the bot is far behind
                continue
            tasks.append(asyncio.create_task(self._one(latencies, give_up, self.free.popleft())))
        outcomes = await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
        late = self.server.forget_pending() + skipped + outcomes.count(False)
        return Result(label, rate, sum(outcomes), elapsed, latencies, process_cpu_seconds(self.bot_pid) - cpu_before,
                      time.process_time() - load_before, self.server.errors - errors_before, late,
                      self.server.polls - polls_before, self.server.bot_shares[shares_before:],
                      self.server.deliveries[deliveries_before:])
