"""The Store: one object offering every query the bot needs, over one SQLite database."""

from __future__ import annotations

from pathlib import Path

from storage.alerts import AlertQueries
from storage.backup import BackupQueries
from storage.codesign import CodesignQueries
from storage.dashboard import DashboardQueries
from storage.db import Database
from storage.delivery import DeliveryQueries
from storage.exports import ExportQueries
from storage.invites import InviteQueries
from storage.members import InputQueries, MemberQueries
from storage.referrals import ReferralQueries
from storage.register import RegisterQueries
from storage.reminders import ReminderQueries
from storage.reports import ReportQueries
from storage.rights import RightsQueries
from storage.rsvps import RsvpQueries
from storage.sessions import SessionQueries
from storage.volunteers import VolunteerQueries
from storage.wellbeing import WellbeingQueries


class Store(MemberQueries, InputQueries, SessionQueries, RsvpQueries, ReminderQueries, DeliveryQueries,
            RightsQueries, WellbeingQueries, AlertQueries, BackupQueries, RegisterQueries, ReportQueries,
            ExportQueries, InviteQueries, DashboardQueries, CodesignQueries, VolunteerQueries, ReferralQueries):
    """Methods are named for what the bot needs; a PostgreSQL store could offer the same ones."""

    def __init__(self, path: str | Path, *, erasure_key: str = "") -> None:
        self.db = Database(path)
        self.erasure_key = erasure_key  # empty: a generated key file beside the database (storage/erasures.py)

    async def open(self) -> None:
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()

    async def reachable(self) -> bool:
        """Whether the database answers a read (the health check's question); never raises."""
        try:
            return await self.db.fetchone("SELECT 1") is not None
        except Exception:
            return False

    async def __aenter__(self) -> Store:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
