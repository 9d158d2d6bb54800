"""The one notice to a referrer: "the person you referred came for the first time", only with their consent.

The planner looks at the register: a referred member who agreed at joining, whom a saved register shows at a
session of their hub, and whose referrer registered a chat (by opening the referrer's own link) gets one ledger
row to that chat. The member's referral is marked in the same transaction, so no restart, second register or
later session sends it again. It is rendered at send time and carries only the first name, the hub and the day:
no answers, no wellbeing data. A person who was forgotten (/forget) takes the row with them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.delivery.dispatcher import Outgoing
from bot.domain.ledger import Delivery
from bot.messages.i18n import format_day
from bot.services import Services

NOTICE_KIND = "referral_came"
LIFETIME = timedelta(days=7)  # a notice the bot could not send within a week is dropped


async def plan_referral_notices(now: datetime, svc: Services) -> int:
    return await svc.store.plan_referral_notices(NOTICE_KIND, now, LIFETIME)


async def render_referral_notice(delivery: Delivery, svc: Services) -> Outgoing | None:
    member_id = delivery.payload.get("member_id")
    if not isinstance(member_id, int):
        return None
    referral = await svc.store.referral_of(member_id)
    if referral is None or not referral.consent or referral.first_came is None:
        return None
    if referral.referrer_chat_id != delivery.chat_id:
        return None  # the referrer's chat was forgotten or changed: nobody else gets it
    hub = svc.hub(referral.hub_id)
    if hub is None:
        return None
    lang = referral.referrer_language if svc.texts.supports(referral.referrer_language or "") else "en"
    return Outgoing(svc.texts.get("referral.notice", lang, name=referral.first_name, hub=hub.name,
                                  organisation=referral.organisation,
                                  day=format_day(referral.first_came, hub.tz, lang)))
