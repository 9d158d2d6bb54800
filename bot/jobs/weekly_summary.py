"""Each coordinator's weekly summary, once per hub and week, through the ledger: planned on the hub's day and time,
rendered at send time from the figures bot.reports.weekly_summary gathers."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from bot.delivery.dispatcher import Outgoing, Planner, Renderer
from bot.domain.ledger import Delivery, NewDelivery
from bot.messages.catalog import Catalog
from bot.reports.summary import WeekFigures, summary_messages
from bot.reports.weekly_summary import KIND, Period, chart_png, gather, latest_due, week_before
from bot.services import Services

log = logging.getLogger(__name__)

EXPIRES = timedelta(days=3)

TEXT_PARTS = 4  # forwardable and private, each with room to split once

CHART_PART = "chart"

REUSE_FOR = timedelta(minutes=1)


def planner() -> Planner:
    """Plans each coordinator's summary once per hub and week; remembers what it planned to spare the database."""
    planned: set[str] = set()

    async def plan(now: datetime, svc: Services) -> int:
        rows: list[NewDelivery] = []
        for hub in svc.settings.hubs:
            if not hub.weekly_summary.enabled:
                continue
            due = latest_due(hub, now)
            if now - due >= EXPIRES:
                continue
            due_day = due.astimezone(hub.tz).date()
            iso = due_day.isocalendar()
            period = week_before(due_day)
            for coordinator in hub.coordinators:
                key = f"{KIND}:{hub.id}:{coordinator}:{iso.year}-W{iso.week:02d}"
                if key in planned:
                    continue
                planned.add(key)
                payload = {"first": period.first.isoformat(), "last": period.last.isoformat()}
                parts: list[int | str] = [*range(TEXT_PARTS), CHART_PART]
                rows += [
                    NewDelivery(kind=KIND, dedupe_key=key if part == 0 else f"{key}:{part}", chat_id=coordinator,
                                due_at=due, hub_id=hub.id, expires_at=due + EXPIRES, payload={**payload, "part": part})
                    for part in parts
                ]
        return await svc.store.enqueue_deliveries(rows, now) if rows else 0

    return plan


def renderer() -> Renderer:
    """Renders one piece of a coordinator's summary at send time.

    The pieces of one summary go out seconds apart, so the figures are worked out once and reused for a
    minute rather than once per piece and coordinator.
    """
    recent: dict[tuple[str, str, str], tuple[datetime, WeekFigures]] = {}

    async def render(delivery: Delivery, svc: Services) -> Outgoing | None:
        hub = svc.hub(delivery.hub_id or "")
        if hub is None or delivery.chat_id not in hub.coordinators:
            return None  # no longer this hub's coordinator: skipped
        payload, now = delivery.payload, svc.clock.now()
        key = (hub.id, payload["first"], payload["last"])
        cached = recent.get(key)
        if cached is None or not timedelta(0) <= now - cached[0] < REUSE_FOR:
            period = Period(date.fromisoformat(payload["first"]), date.fromisoformat(payload["last"]))
            recent.clear()
            recent[key] = (now, await gather(svc.store, hub, period, now, so_far=False))
        return await summary_piece(recent[key][1], payload.get("part", 0), svc.texts, hub.name)

    return render


async def summary_piece(figures: WeekFigures, part: int | str, texts: Catalog, hub_name: str) -> Outgoing | None:
    """Piece `part` of the summary: a text message, the chart, or None when the summary has no such piece."""
    if part == CHART_PART:  # a hub without terms has no weeks to chart
        if not figures.term_weeks:
            return None
        photo = await chart_png(figures, texts)  # drawn in a child process: taps go on meanwhile
        return Outgoing(text=texts.get("summary.chart_caption", "en", hub=hub_name), photo=photo)
    if not isinstance(part, int):
        return None
    messages = summary_messages(figures, texts)
    if len(messages) > TEXT_PARTS and part == TEXT_PARTS - 1:
        log.warning("a summary of %s has %d messages; the last ones are cut", hub_name, len(messages))
    return Outgoing(text=messages[part]) if part < len(messages) else None
