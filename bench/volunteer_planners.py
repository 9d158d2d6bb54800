"""Issue 17's planners on every dispatcher tick, beside the reminders planner they run with (the yardstick).

    .venv/bin/python -m bench.volunteer_planners [--members 2000] [--repeat 200]

Method: a fresh database (the real migrations) with one hub (weekly Tuesday 10:00 sessions, three tasks, three
pathway steps); `--members` members, a quarter of them volunteers, a fifth referred with consent through one link
whose referrer registered a chat; nobody has come yet (so no referral notice is owed: the state of almost every
tick). The clock stands on the Sunday before a session, when the volunteers' reminders and the gap notice are due:
the first tick plans them (timed apart), every later tick finds them planned. Timed, as medians of `--repeat`
ticks in the same run: the reminders planner (bot.jobs.reminders.plan_reminders, after its own first tick),
the volunteer planner and the referral planner. Figures are ratios to the yardstick: the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

from bot.config import HubSettings, Settings
from bot.domain.calendar import sessions_between
from bot.jobs.referrals import plan_referral_notices
from bot.jobs.reminders import plan_reminders
from bot.jobs.volunteers import plan_volunteer_messages
from storage import Store
from storage.referrals import record_referral

NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)  # Sunday, after the gap notice of Tuesday 24 November is due
JOINED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)


async def median_tick(planner, svc, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await planner(NOW, svc)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def run(members: int, repeat: int) -> None:
    hub = HubSettings.model_validate({
        "id": "bench", "name": "Bench Hub", "coordinators": [1], "weekly": [{"weekday": "tuesday", "start": "10:00"}],
        "terms": [{"name": "Autumn", "start": "2026-09-01", "end": "2026-12-18"}],
        "volunteers": {"tasks": [{"id": "welcome", "name": "Welcome"}, {"id": "tea", "name": "Tea"},
                                 {"id": "music", "name": "Music"}],
                       "steps": [{"id": "induction", "name": "Induction"}, {"id": "led", "name": "Led"}]},
    })
    with tempfile.TemporaryDirectory() as folder:
        async with Store(Path(folder) / "bench.sqlite3") as store:
            await store.sync_hubs([hub], JOINED)
            planned = sessions_between(hub, date(2026, 9, 1), date(2026, 12, 31))
            await store.sync_sessions(hub.id, planned, date(2026, 9, 1), date(2026, 12, 31), JOINED)
            link = await store.create_referral_link(hub.id, "Surgery", 1, JOINED)
            await store.register_referrer(link.referrer_code, 2, "en", JOINED)
            for n in range(members):
                member = await store.complete_join(
                    telegram_user_id=10_000 + n, chat_id=10_000 + n, first_name=f"P{n}", language="en",
                    role="volunteer" if n % 4 == 0 else "participant", hub_id=hub.id,
                    consents={"contact": "v1"}, companions=[], now=JOINED)
                if n % 5 == 0:
                    async with store.db.transaction() as conn:
                        await record_referral(conn, member.id, link.id, hub.id, True, "v1", JOINED)
            svc = SimpleNamespace(store=store, settings=Settings.model_validate({"hubs": [hub.model_dump()]}))
            await plan_reminders(NOW, svc)
            start = time.perf_counter()
            first = await plan_volunteer_messages(NOW, svc)
            first_tick = time.perf_counter() - start
            yardstick = await median_tick(plan_reminders, svc, repeat)
            volunteers = await median_tick(plan_volunteer_messages, svc, repeat)
            referrals = await median_tick(plan_referral_notices, svc, repeat)
    print(f"members {members}, volunteers {len(range(0, members, 4))}, first volunteer tick planned {first} rows"
          f" in {first_tick * 1000:.1f} ms")
    print(f"reminders planner (yardstick): {yardstick * 1000:.2f} ms a tick")
    print(f"volunteer planner: {volunteers * 1000:.2f} ms a tick ({volunteers / yardstick:.1f} x the yardstick)")
    print(f"referral planner: {referrals * 1000:.2f} ms a tick ({referrals / yardstick:.1f} x the yardstick)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args.members, args.repeat))


if __name__ == "__main__":
    main()
