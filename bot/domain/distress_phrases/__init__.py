"""Curated distress phrases, one file per catalog language (read by bot.domain.distress)."""
