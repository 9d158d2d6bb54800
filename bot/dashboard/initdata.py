"""Checking a Mini App's initData exactly as Telegram specifies ("Validating data received via the Mini App").

    secret_key       = HMAC_SHA256(key="WebAppData", msg=bot_token)
    data_check_string = every received field except `hash`, as key=value (value URL-decoded), sorted by key,
                        joined by "\\n"
    valid            = hex(HMAC_SHA256(key=secret_key, msg=data_check_string)) == hash

computed over the raw string the Mini App received (never a re-encoding of parsed JSON), compared in constant
time, and `auth_date` no older than the configured limit (nor in the future beyond a minute of clock skew).
Pure: a function of the raw string, the token and `now`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl

MAX_LENGTH = 16 * 1024  # Telegram's initData is a few hundred bytes
FUTURE_SKEW = 60  # seconds an auth_date may be ahead of our clock


@dataclass(frozen=True, slots=True)
class WebAppUser:
    id: int
    first_name: str
    language_code: str | None


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode("utf-8"), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign(fields: dict[str, str], bot_token: str) -> str:
    """The hash Telegram would put beside these fields (for tests, the demo and the simulator)."""
    return hmac.new(secret_key(bot_token), data_check_string(fields).encode("utf-8"), hashlib.sha256).hexdigest()


def verify_init_data(raw: str, bot_token: str, now: datetime, max_age_seconds: int) -> WebAppUser | None:
    """The user Telegram vouches for, or None for anything forged, malformed, stale or from the future."""
    if not raw or len(raw) > MAX_LENGTH or not bot_token:
        return None
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError):
        return None
    fields = dict(pairs)
    if len(fields) != len(pairs):  # a repeated key: which one was signed is ambiguous
        return None
    given = fields.get("hash", "")
    expected = sign(fields, bot_token)
    if not hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii")):
        return None
    auth_date = fields.get("auth_date", "")
    if not auth_date.isdigit():
        return None
    age = now.timestamp() - int(auth_date)
    if age > max_age_seconds or age < -FUTURE_SKEW:
        return None
    try:
        user = json.loads(fields.get("user", ""))
        user_id = user["id"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        return None
    language = user.get("language_code")
    first_name = user.get("first_name")
    return WebAppUser(user_id, first_name if isinstance(first_name, str) else "",
                      language if isinstance(language, str) else None)


def make_init_data(bot_token: str, user_id: int, auth_date: int, *, first_name: str = "Sam",
                   language_code: str = "en", query_id: str = "AAHdF6IQAAAAAN0XohDhrOrc") -> str:
    """initData as Telegram would send it to a Mini App opened by this user (tests, the demo)."""
    from urllib.parse import urlencode

    user = json.dumps({"id": user_id, "first_name": first_name, "language_code": language_code},
                      separators=(",", ":"), ensure_ascii=False)
    fields = {"query_id": query_id, "user": user, "auth_date": str(auth_date)}
    return urlencode({**fields, "hash": sign(fields, bot_token)})
