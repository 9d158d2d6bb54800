"""Inline keyboards that follow the access rules: words on every button, at most three a row."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

MAX_PER_ROW = 3
MAX_CALLBACK_BYTES = 64


def button(label: str, data: str) -> InlineKeyboardButton:
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over 64 bytes: {data!r}")
    return InlineKeyboardButton(label, callback_data=data)


def keyboard(*rows: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """Rows of (label, callback_data); rows longer than three are wrapped."""
    laid_out: list[list[InlineKeyboardButton]] = []
    for row in rows:
        for start in range(0, len(row), MAX_PER_ROW):
            laid_out.append([button(label, data) for label, data in row[start : start + MAX_PER_ROW]])
    return InlineKeyboardMarkup(laid_out)


def grid(items: Sequence[tuple[str, str]], per_row: int = MAX_PER_ROW) -> InlineKeyboardMarkup:
    per_row = min(per_row, MAX_PER_ROW)
    return keyboard(*[items[i : i + per_row] for i in range(0, len(items), per_row)])
