"""The dispatcher's Pacer: Telegram's 30 a second, steady at 29.5, with no burst and no drift."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.delivery import Pacer


def most_in_one_second(moments: list[float]) -> int:
    return max(sum(1 for m in moments if start <= m < start + 1.0) for start in moments)


async def test_the_pacer_holds_its_rate_without_drift_and_never_lets_31_into_a_second():
    pacer = Pacer(29.5)
    releases = []
    for _ in range(62):
        await pacer.wait()
        releases.append(time.monotonic())
        await asyncio.sleep(0.004)  # the send itself takes a little while
    rate = (len(releases) - 1) / (releases[-1] - releases[0])
    assert 29.2 <= rate <= 29.6
    assert most_in_one_second(releases) <= 30


async def test_sends_slower_than_the_grid_now_and_then_do_not_slow_the_rate():
    pacer = Pacer(29.5)
    releases = []
    for n in range(45):
        await pacer.wait()
        releases.append(time.monotonic())
        await asyncio.sleep(0.040 if n % 2 else 0.010)  # every other send takes longer than a slot
    rate = (len(releases) - 1) / (releases[-1] - releases[0])
    assert 29.0 <= rate <= 29.6
    assert most_in_one_second(releases) <= 30


async def test_after_a_long_pause_the_pacer_starts_afresh_without_a_burst():
    pacer = Pacer(29.5)
    for _ in range(3):
        await pacer.wait()
    await asyncio.sleep(1.1)
    releases = []
    for _ in range(4):
        await pacer.wait()
        releases.append(time.monotonic())
    # no burst to make up for the pause: the grid starts again (a late wake-up may halve one gap, no more)
    assert releases[-1] - releases[0] >= 3 / 29.5 - 0.02
    assert min(b - a for a, b in itertools.pairwise(releases)) >= 0.5 / 29.5 - 0.002
