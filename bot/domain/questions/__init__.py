"""Validated question sets (data files read by bot.domain.questionsets)."""
