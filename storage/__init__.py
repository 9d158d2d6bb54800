"""SQLite storage: the schema, its migrations, and every query the bot makes."""

from storage.db import Database
from storage.store import Store

__all__ = ["Database", "Store"]
