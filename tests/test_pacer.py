"""The dispatcher's Pacer: Telegram's 30 a second, steady at 29.5, with no burst and no drift."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.delivery.dispatcher import Pacer


def most_in_one_second(moments: list[float]) -> int:
    return max(sum(1 for m in moments if start <= m < start + 1.0) for start in moments)


async def send_all(pacer: Pacer, durations: list[float]) -> tuple[list[float], list[float]]:
    """Paced sends taking the given times; returns (release times, arrival times at 'Telegram').

    A send arrives at the end of its duration, less a millisecond for the answer to come back.
    """
    releases, arrivals = [], []
    for duration in durations:
        await pacer.wait()
        releases.append(time.monotonic())
        await asyncio.sleep(duration)
        arrivals.append(time.monotonic() - 0.001)
        pacer.sent()
    return releases, arrivals


def rate(moments: list[float]) -> float:
    return (len(moments) - 1) / (moments[-1] - moments[0])


async def test_the_pacer_holds_its_rate_without_drift_and_never_lets_31_into_a_second():
    releases, arrivals = await send_all(Pacer(29.5), [0.004] * 40)
    assert 29.2 <= rate(releases) <= 29.6
    assert most_in_one_second(arrivals) <= 30


async def test_a_send_slower_than_the_grid_now_and_then_is_caught_up():
    releases, arrivals = await send_all(Pacer(29.5), [0.045 if n % 10 == 5 else 0.004 for n in range(62)])
    assert 29.2 <= rate(releases) <= 29.6
    assert most_in_one_second(arrivals) <= 30


async def test_a_send_held_up_on_its_way_cannot_make_31_in_a_second_at_telegram():
    durations = [0.002] * 40
    durations[5] = 0.090  # e.g. the CPU was busy: this one reaches Telegram late
    _, arrivals = await send_all(Pacer(29.5), durations)
    assert most_in_one_second(arrivals) <= 30


async def test_after_a_long_pause_the_pacer_starts_afresh_without_a_burst():
    pacer = Pacer(29.5)
    await send_all(pacer, [0.001] * 3)
    await asyncio.sleep(1.1)
    releases, _ = await send_all(pacer, [0.001] * 4)
    # no burst to make up for the pause: the grid starts again (a late wake-up may halve one gap, no more)
    assert releases[-1] - releases[0] >= 3 / 29.5 - 0.02
    assert min(b - a for a, b in itertools.pairwise(releases)) >= 0.5 / 29.5 - 0.002


async def test_with_sends_in_flight_the_window_counts_by_ticket_not_by_finish_order():
    """Two sends at a time over a slow round trip: near 29.5/s, and still never 31 inside a second.

    Counting the window from each send's finish costs its round trip: 30 sends per 1.002 s + 50 ms is 28.5/s.
    """
    pacer = Pacer(29.5)
    arrivals: list[float] = []
    slots = asyncio.Semaphore(2)

    async def one(delay: float) -> None:
        async with slots:
            ticket = await pacer.wait()
            arrivals.append(time.monotonic() + delay)  # the request reaches 'Telegram' late
            await asyncio.sleep(0.05 + delay)
            pacer.sent(ticket)

    delays = [0.04 if n % 7 == 3 else 0.0 for n in range(70)]
    await asyncio.gather(*(one(d) for d in delays))
    arrivals.sort()
    assert most_in_one_second(arrivals) <= 30
    assert rate(arrivals) >= 27.5
