"""Reads stay fresh while many coroutines read at once: what a handler reads right after its commit is what it wrote."""

from __future__ import annotations

import asyncio

from storage import Store
from tests.conftest import START, hub_settings


async def test_a_read_after_a_commit_sees_it_while_other_reads_are_in_flight(tmp_path):
    async with Store(tmp_path / "imm.sqlite3") as store:
        await store.sync_hubs([hub_settings()], START)
        stop = asyncio.Event()

        async def busy_reader() -> None:
            while not stop.is_set():
                await store.active_hubs()
                await store.member_by_user(1)

        readers = [asyncio.create_task(busy_reader()) for _ in range(8)]
        try:
            for n in range(200):
                await store.expect_input(n, "name", {"n": n}, START)
                assert await store.awaited_input(n) == ("name", {"n": n}), f"write {n} was not seen"
        finally:
            stop.set()
            await asyncio.gather(*readers)
