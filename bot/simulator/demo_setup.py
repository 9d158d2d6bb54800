"""The built-in demo hub, its people and its week, shared by `imm-bot demo` and `imm-bot chat`.

Nothing here touches Telegram: the settings point the real application at a LocalBotApi, and the
clock is a ManualClock standing at a Saturday morning in the middle of a term, so that the next
days hold a reminder, a session, the check-ins after it and Monday's weekly summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import HubSettings, Settings
from bot.simulator.localapi import LocalBotApi

HUB_ID = "demo-hub"
HUB_NAME = "Riverside Music Hub"
LONDON = ZoneInfo("Europe/London")
# Saturday 30 January 2027, 09:00: week 5 of the spring term (so no term-start questions), with the
# Tuesday session on 2 February and the weekly summary due on Monday 8 February at 09:00.
START = datetime(2027, 1, 30, 9, 0, tzinfo=LONDON).astimezone(UTC)
SESSION_DAY = date(2027, 2, 2)
SUMMARY_DAY = date(2027, 2, 8)


@dataclass(frozen=True)
class Person:
    """A simulated Telegram user in the demo: who they are and how they join."""

    user_id: int
    name: str
    role: str  # a join role, or "coordinator" / "lead" for staff
    language_code: str = "en"
    companions: tuple[tuple[str, str, str], ...] = ()  # (name, age-band button, relationship button)

    @property
    def title(self) -> str:
        staff = {"coordinator": "coordinator", "lead": "safeguarding lead"}
        return f"{self.name} ({staff.get(self.role, self.role)})"


COORDINATOR = Person(7001, "Cora", "coordinator")
LEAD = Person(7002, "Lena", "lead")
FAMILIES = (
    Person(7101, "Anna", "family", "en-GB", (("Mia", "5 to 11", "My child"), ("Leo", "Under 5", "My child"))),
    Person(7102, "Grace", "carer", "en", (("Arthur", "65 or older", "Someone I support"),)),
    Person(7103, "Ben", "participant", "en"),
    Person(7104, "Olena", "family", "en", (("Sofia", "5 to 11", "My grandchild"),)),
    Person(7105, "Rose", "participant", "en"),
    Person(7106, "Kofi", "family", "en", (("Ama", "12 to 15", "My child"),)),
    Person(7107, "Priya", "family", "en", (("Arjun", "5 to 11", "My child"),)),
    Person(7108, "Tom", "participant", "en"),
)
STAFF = (COORDINATOR, LEAD)
# The person `imm-bot chat` plays by default: someone new, not one of the demo's families.
CHAT_MEMBER = Person(7201, "Alex", "family")
JOIN_ROLE_BUTTONS = {"family": "Family member", "carer": "Carer", "participant": "I take part myself",
                     "volunteer": "Volunteer"}


def demo_hub() -> HubSettings:
    return HubSettings.model_validate({
        "id": HUB_ID,
        "name": HUB_NAME,
        "venue": "St Mary's Church Hall",
        "timezone": "Europe/London",
        "coordinators": [COORDINATOR.user_id],
        "safeguarding_lead": LEAD.user_id,
        "weekly": [{"weekday": "tuesday", "start": time(10, 0), "duration_minutes": 90}],
        "terms": [{"name": "Spring 2027", "start": date(2027, 1, 5), "end": date(2027, 3, 30)}],
        "skip_bank_holidays": True,
        "checkin_after_minutes": 15,
        "weekly_summary": {"weekday": "monday", "at": time(9, 0)},
        "open_link": True,  # the demo's people tap t.me/<bot>?start=demo-hub; a real hub uses /invite's code
    })


def demo_settings(api: LocalBotApi, db_path: Path, **overrides: Any) -> Settings:
    """Settings for the real application against `api`, with the demo hub and a database at `db_path`."""
    data: dict[str, Any] = {
        "telegram": {"token": api.token, "api_base_url": api.base_url, "api_file_url": api.base_file_url,
                     # A local server has no flood limit: send as fast as it answers.
                     "messages_per_second": 1000},
        "storage": {"path": str(db_path)},
        "hubs": [demo_hub().model_dump()],
        # The demo and the chat run the dispatcher themselves, step by step, as the clock moves.
        "dispatch_interval_seconds": 300,
    }
    data.update(overrides)
    return Settings.model_validate(data)


def everyone() -> tuple[Person, ...]:
    return (*STAFF, *FAMILIES, CHAT_MEMBER)


def name_of(user_id: int | None) -> str:
    """The demo's name for a chat id (staff with their role), for printing who got what."""
    for person in everyone():
        if person.user_id == user_id:
            return person.title
    return f"chat {user_id}"


def steps_until(now: datetime, until: datetime, step: timedelta = timedelta(minutes=10)) -> list[datetime]:
    """The instants the clock visits on its way from `now` to `until`, so nothing due in between is skipped.

    They keep to a grid of whole steps (10:00, 10:10, ...), as rules are mostly set on the hour, and end
    exactly at `until`.
    """
    moments: list[datetime] = []
    seconds = step.total_seconds()
    moment = datetime.fromtimestamp((now.timestamp() // seconds) * seconds, tz=now.tzinfo)
    while moment < until:
        moment = min(moment + step, until)
        moments.append(moment)
    return moments


def local(moment: datetime) -> str:
    """'Tuesday 2 February, 11:45' in the hub's time zone."""
    at = moment.astimezone(LONDON)
    return f"{at:%A} {at.day} {at:%B}, {at:%H:%M}"
