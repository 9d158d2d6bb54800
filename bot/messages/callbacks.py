"""Callback data: `prefix:part:part`, parsed strictly. It comes from the client and can be forged."""

from __future__ import annotations

import re

_PART = re.compile(r"^[A-Za-z0-9_-]{1,48}$")


def parse_callback(data: str | None, prefix: str, parts: int) -> list[str] | None:
    """`prefix:a:b` -> ['a', 'b'] when it has exactly `parts` safe parts after the prefix, else None.

    Callback data comes from the client and can be forged: anything unexpected is refused here.
    """
    if not data or len(data.encode("utf-8", "replace")) > 64:
        return None
    pieces = data.split(":")
    if pieces[0] != prefix or len(pieces) != parts + 1:
        return None
    rest = pieces[1:]
    return rest if all(_PART.match(piece) for piece in rest) else None


def parse_int(text: str, *, low: int = 1, high: int = 2**62) -> int | None:
    if not re.fullmatch(r"[0-9]{1,18}", text):
        return None
    value = int(text)
    return value if low <= value <= high else None
