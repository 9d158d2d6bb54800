"""Telegram update handlers, one module per conversation; each offers register(application)."""
