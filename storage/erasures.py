"""The erasure record's key: a secret that turns a Telegram user id into a subject nobody can reverse.

A forgotten person's row in `erasures` holds HMAC-SHA256(key, user id), never the id. Telegram ids are
short enough to try every one, so an unkeyed hash would be the id in disguise; the key is kept outside the
database (and so outside its backups): `privacy.erasure_key` in the configuration, or else a random key
generated once into a file beside the database (`<database>.erasure-key`, readable by its owner only).
Restoring a backup needs the same key, which is why it stays beside the live database.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


def key_file(db_path: str | Path) -> Path:
    path = Path(db_path)
    return path.with_name(f"{path.name}.erasure-key")


def erasure_key(db_path: str | Path, configured: str = "") -> bytes:
    """The configured key, else the key file beside the database (created on first use, mode 0600)."""
    if configured:
        return configured.encode("utf-8")
    path = key_file(db_path)
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode("ascii")
    try:
        # O_EXCL: two processes creating it at once must not end up with different keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as file:
        file.write(key + b"\n")
        file.flush()
        os.fsync(file.fileno())
    return key


def subject_of(key: bytes, telegram_user_id: int) -> str:
    """What the erasure record keeps of a person: a keyed hash of their Telegram user id."""
    return hmac.new(key, str(telegram_user_id).encode("ascii"), hashlib.sha256).hexdigest()
