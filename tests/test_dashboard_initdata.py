"""initData checked as Telegram specifies: the hash computed here by hand from the spec, never by the code tested."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from hypothesis import given
from hypothesis import strategies as st

from bot.dashboard.initdata import make_init_data, verify_init_data

TOKEN = "123456:TEST-token_abc"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STAMP = int(NOW.timestamp())


def by_hand(fields: dict[str, str], token: str = TOKEN) -> str:
    """Telegram's recipe, written out: key = HMAC-SHA256("WebAppData", token); hash over sorted key=value lines."""
    key = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    return urlencode({**fields, "hash": hmac.new(key, check.encode(), hashlib.sha256).hexdigest()})


def fields(user_id: int = 9001, auth_date: int = STAMP, **extra: str) -> dict[str, str]:
    user = json.dumps({"id": user_id, "first_name": "Aisha", "last_name": "K", "language_code": "ar",
                       "allows_write_to_pm": True}, separators=(",", ":"), ensure_ascii=False)
    return {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "user": user, "auth_date": str(auth_date), **extra}


def test_a_genuine_init_data_names_its_user() -> None:
    user = verify_init_data(by_hand(fields(signature="abc", chat_type="private")), TOKEN, NOW, 3600)
    assert user is not None and (user.id, user.first_name, user.language_code) == (9001, "Aisha", "ar")
    assert verify_init_data(make_init_data(TOKEN, 42, STAMP), TOKEN, NOW, 3600) is not None


def test_forged_hash_other_token_or_changed_field_is_refused() -> None:
    raw = by_hand(fields())
    assert verify_init_data(raw, "123456:another-token", NOW, 3600) is None
    assert verify_init_data(raw.replace("9001", "9002"), TOKEN, NOW, 3600) is None  # someone else's id
    forged = raw[:-4] + ("0000" if not raw.endswith("0000") else "1111")
    assert verify_init_data(forged, TOKEN, NOW, 3600) is None
    assert verify_init_data(raw + "&extra=1", TOKEN, NOW, 3600) is None  # an unsigned field added
    unsigned = urlencode(fields())
    assert verify_init_data(unsigned, TOKEN, NOW, 3600) is None


def test_the_raw_string_is_what_counts_not_a_reencoding() -> None:
    # Percent-encoding that differs from urlencode's (spaces as %20, an encoded comma) still verifies: the check
    # uses the decoded values of what was received.
    f = fields()
    raw = by_hand(f).replace("+", "%20")
    assert verify_init_data(raw, TOKEN, NOW, 3600) is not None
    raw2 = "&".join(f"{k}={quote(v, safe='')}" for k, v in f.items()) + "&hash=" + by_hand(f).rsplit("hash=", 1)[1]
    assert verify_init_data(raw2, TOKEN, NOW, 3600) is not None


def test_stale_or_future_auth_date_is_refused() -> None:
    assert verify_init_data(by_hand(fields(auth_date=STAMP - 3601)), TOKEN, NOW, 3600) is None
    assert verify_init_data(by_hand(fields(auth_date=STAMP - 3599)), TOKEN, NOW, 3600) is not None
    assert verify_init_data(by_hand(fields(auth_date=STAMP + 600)), TOKEN, NOW, 3600) is None
    no_date = fields()
    del no_date["auth_date"]
    assert verify_init_data(by_hand(no_date), TOKEN, NOW, 3600) is None


def test_duplicate_keys_bad_users_and_junk_are_refused() -> None:
    raw = by_hand(fields())
    assert verify_init_data(raw + "&user=%7B%22id%22%3A1%7D", TOKEN, NOW, 3600) is None
    for user in ('{"id":"9001"}', '{"id":-5}', '{"id":true}', "[]", "not json"):
        f = fields()
        f["user"] = user
        assert verify_init_data(by_hand(f), TOKEN, NOW, 3600) is None
    for junk in ("", "hash", "=&=", "a" * 20000, "%ff%fe=1&hash=2"):
        assert verify_init_data(junk, TOKEN, NOW, 3600) is None


@given(st.text(max_size=300))
def test_any_text_is_refused_without_raising(text: str) -> None:
    assert verify_init_data(text, TOKEN, NOW, 3600) is None


def test_bad_dashboard_settings_name_the_key(tmp_path) -> None:
    import pytest

    from bot.config import ConfigError, load_settings

    for body, key, words in (
        ('[dashboard]\nenabled = true\n', "dashboard", "public_url is needed"),
        ('[dashboard]\nenabled = true\npublic_url = "http://hub.example.org"\n', "dashboard.public_url", "https://"),
        ('[dashboard]\npublic_url = "https://hub.example.org/?x=1"\n', "dashboard.public_url", "no query"),
        ('[dashboard]\nport = 0\n', "dashboard.port", ""),
        ('[dashboard]\ninit_data_max_age_seconds = 5\n', "dashboard.init_data_max_age_seconds", ""),
    ):
        path = tmp_path / "config.toml"
        path.write_text(body, encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_settings(path)
        assert f"  {key}: " in str(caught.value) and words in str(caught.value), str(caught.value)
    path.write_text('[dashboard]\nenabled = true\npublic_url = "http://127.0.0.1:8765/"\n', encoding="utf-8")
    settings = load_settings(path)
    assert settings.dashboard.public_url == "http://127.0.0.1:8765" and not settings.dashboard.secure
