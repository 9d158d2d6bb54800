"""The dispatcher with several sends in flight: every row once, 429s waited out, one failure stops nothing."""

from __future__ import annotations

from datetime import timedelta

from bot.app import build_application
from bot.delivery.dispatcher import Outgoing
from bot.domain.ledger import NewDelivery
from bot.runtime import dispatch_now, running
from bot.services import services
from tests.conftest import make_settings

CHATS = list(range(8001, 8041))


async def render_note(delivery, svc):
    return Outgoing(f"Note {delivery.payload['n']}")


async def test_several_in_flight_send_each_row_once_through_429s_and_a_blocked_chat(api, clock, db_path):
    settings = make_settings(api, db_path)
    settings = settings.model_copy(update={"telegram": settings.telegram.model_copy(
        update={"bulk_sends_in_flight": 4, "messages_per_second": 1000})})
    application = build_application(settings, clock=clock, rate_limiter=False)
    svc = services(application)
    svc.dispatcher.register_renderer("note", render_note)
    api.faults.rate_limit_every = 15
    api.faults.retry_after = 1
    api.faults.blocked_chats.add(CHATS[3])
    api.reply_delay = 0.01
    async with running(application, dispatcher=False, poll_timeout=1):
        now = clock.now()
        rows = [NewDelivery("note", f"note:{chat}", chat, now - timedelta(seconds=1), payload={"n": chat})
                for chat in CHATS]
        assert await svc.store.enqueue_deliveries(rows, now) == len(CHATS)
        report = await dispatch_now(application)
        while (await svc.store.delivery_counts()).get("pending"):
            report += await dispatch_now(application)
        counts = await svc.store.delivery_counts()
    delivered = [c.chat_id for c in api.sent_ok("sendMessage")]
    assert sorted(delivered) == sorted(c for c in CHATS if c != CHATS[3])
    assert counts == {"sent": len(CHATS) - 1, "failed": 1}
    assert report.retried >= 1
    refused = [c for c in api.calls_to("sendMessage") if c.error_code == 429]
    assert refused, "the fault plan made Telegram ask us to wait"
