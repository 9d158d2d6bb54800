"""One-off messages that people's actions cause: a cancellation notice, a coordinator's announcement, "a place is free".

Each is a renderer on the dispatcher: the handler queues ledger rows, and each row is rendered at send time, so it
uses the member's current language and is skipped if it is no longer wanted."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.delivery.dispatcher import Outgoing
from bot.domain.ledger import Delivery
from bot.domain.reminders import may_message, wanted
from bot.domain.sessions import Invitation
from bot.jobs.reminders import member_card
from bot.messages.i18n import format_clock, format_day
from bot.messages.session_card import heading
from bot.services import Services
from storage.db import from_db
from storage.rsvps import PlaceNotice

log = logging.getLogger(__name__)

NOTICE_KIND = "session_cancelled"

NOTICE_LIFETIME = timedelta(hours=2)  # after the session's end a cancellation notice is no use


async def render_cancellation(delivery: Delivery, svc: Services) -> Outgoing | None:
    """"Sorry, this session is cancelled", with the reason, in the member's language."""
    if delivery.session_id is None or delivery.member_id is None:
        return None
    invitation = await svc.store.invitation(delivery.session_id, delivery.member_id)
    if invitation is None or not invitation.session.cancelled or not may_message(invitation):
        return None
    hub = svc.hub(invitation.session.hub_id)
    if hub is None:
        return None
    lang = invitation.member.language
    lines = [svc.texts.get("rsvp.cancelled_notice", lang), "", heading(svc.texts, invitation.session, hub, lang)]
    if invitation.session.cancel_reason:
        lines += ["", svc.texts.get("rsvp.cancelled_reason", lang, reason=invitation.session.cancel_reason)]
    return Outgoing("\n".join(lines))


CHANGE_KIND = "session_changed"


async def render_change(delivery: Delivery, svc: Services) -> Outgoing | None:
    """"Your sessions have changed": one line per session still on that they said Yes or Maybe to, in their
    language, saying what is new ("Tuesday 1 December: now at 10:30, not 10:00"). Nothing if none is left."""
    if delivery.member_id is None or delivery.hub_id is None:
        return None
    hub = svc.hub(delivery.hub_id)
    if hub is None:
        return None
    now, lang, lines = svc.clock.now(), "", []
    for change in delivery.payload.get("changes", []):
        invitation = await svc.store.invitation(int(change["session"]), delivery.member_id)
        if not wanted(invitation, now) or invitation is None or invitation.answer not in ("yes", "maybe"):
            continue
        session, lang = invitation.session, invitation.member.language
        was_start, was_end = from_db(change["starts_at"]), from_db(change["ends_at"])
        day = format_day(session.starts_at, hub.tz, lang)
        start, end = format_clock(session.starts_at, hub.tz, lang), format_clock(session.ends_at, hub.tz, lang)
        if was_start is not None and session.starts_at != was_start:
            lines.append(svc.texts.get("rsvp.changed_time", lang, day=day, time=start,
                                       was=format_clock(was_start, hub.tz, lang), end=end))
        elif was_end is not None and session.ends_at != was_end:
            lines.append(svc.texts.get("rsvp.changed_length", lang, day=day, time=start, end=end))
        if change.get("venue") is not None and change["venue"] != hub.venue and hub.venue:
            lines.append(svc.texts.get("rsvp.changed_venue", lang, day=day, venue=hub.venue))
    if not lines:
        return None
    return Outgoing("\n".join([svc.texts.get("rsvp.changed_notice", lang, hub=hub.name), "", *lines, "",
                                svc.texts.get("rsvp.changed_kept", lang)]))


ANNOUNCEMENT_KIND = "announcement"

ANNOUNCEMENT_LIFETIME = timedelta(days=2)  # an announcement not delivered within two days is dropped, not sent late


async def render_announcement(delivery: Delivery, svc: Services) -> Outgoing | None:
    """The coordinator's words under the hub's name, to members still in the hub who may be messaged."""
    if delivery.member_id is None or delivery.hub_id is None:
        return None
    announcement = await svc.store.announcement(int(delivery.payload.get("announcement", 0)))
    member = await svc.store.member_by_id(delivery.member_id)
    hub = svc.hub(delivery.hub_id)
    if announcement is None or member is None or hub is None or member.paused or not member.reachable:
        return None
    if not await svc.store.is_member_of(member.id, hub.id) or not await svc.store.has_consent(member.id, "contact"):
        return None
    return Outgoing(svc.texts.get("announce.message", member.language, hub=hub.name, text=announcement.text))


PLACE_KIND = "rsvp_place"


def place_notice(invitation: Invitation) -> PlaceNotice:
    return PlaceNotice(PLACE_KIND, expires_at=invitation.session.starts_at)


async def render_place(delivery: Delivery, svc: Services) -> Outgoing | None:
    """"A place is free for you": only while they still hold it and the session is still on."""
    if delivery.session_id is None or delivery.member_id is None:
        return None
    now = svc.clock.now()
    invitation = await svc.store.invitation(delivery.session_id, delivery.member_id)
    if not wanted(invitation, now) or invitation is None:
        return None
    if invitation.answer != "yes" or invitation.waitlist_position is not None:
        return None
    hub = svc.hub(invitation.session.hub_id)
    if hub is None:
        return None
    text, markup = await member_card(svc, invitation, hub, now)
    return Outgoing(f"{svc.texts.get('rsvp.place_free', invitation.member.language)}\n\n{text}", markup)


async def settle_waitlists(svc: Services) -> None:
    """At start-up: a raised or removed capacity moves people up (and they are told)."""
    now = svc.clock.now()
    for session_id, hub_id in await svc.store.sessions_with_waitlist(now):
        hub, session = svc.hub(hub_id), await svc.store.session(session_id)
        if hub is None or session is None:
            continue
        moved = await svc.store.settle_waitlist(
            session_id, hub.capacity, now, PlaceNotice(PLACE_KIND, expires_at=session.starts_at)
        )
        if moved:
            log.info("session %s: %d moved up from the waiting list at start-up", session.key, len(moved))
