"""Webhook mode (`imm-bot run --webhook`): Telegram posts updates to us instead of being polled.

The bot's own web server (bot.transport.web) takes the posts; it refuses (403) every request whose
X-Telegram-Bot-Api-Secret-Token header is missing or wrong, so only Telegram can feed the bot. This module
checks the settings webhook mode needs and tells Telegram where to post. Started by
`bot.runtime.running(..., webhook=...)`, so webhook and polling share one start-up and one shutdown path.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import Application

from bot.config import ConfigError, Settings, WebhookSettings
from bot.transport.web import Webhook

log = logging.getLogger(__name__)

MIN_SECRET_LENGTH = 16


def webhook_settings(settings: Settings) -> WebhookSettings:
    """The webhook section, checked for what webhook mode needs; ConfigError names the key and why."""
    hook = settings.telegram.webhook
    problems: list[str] = []
    if not settings.telegram.token:
        problems.append("telegram.token: required for webhook mode (or set IMM_TELEGRAM__TOKEN)")
    url = urlsplit(hook.url)
    if not hook.url:
        problems.append("telegram.webhook.url: required for webhook mode (the public https address Telegram posts to)")
    elif url.scheme != "https" or not url.hostname:
        problems.append(f"telegram.webhook.url: must be an https:// address (got {hook.url!r})")
    if not hook.secret_token:
        problems.append(
            "telegram.webhook.secret_token: required for webhook mode, so that only Telegram can post updates "
            "(set IMM_TELEGRAM__WEBHOOK__SECRET_TOKEN)"
        )
    elif len(hook.secret_token) < MIN_SECRET_LENGTH:
        problems.append(
            f"telegram.webhook.secret_token: use at least {MIN_SECRET_LENGTH} characters of A-Z a-z 0-9 _ - "
            "(for example the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    if problems:
        raise ConfigError("invalid configuration for webhook mode:\n  " + "\n  ".join(problems))
    return hook


def url_path(url: str) -> str:
    """The path the web server takes updates on: the public URL's path (a reverse proxy forwards it unchanged)."""
    return urlsplit(url).path.strip("/")


def webhook_route(hook: WebhookSettings) -> Webhook:
    return Webhook(path=url_path(hook.url), secret_token=hook.secret_token)


async def set_webhook(application: Application[Any, Any, Any, Any, Any, Any], hook: WebhookSettings) -> None:
    """Tell Telegram (setWebhook) where to post, with the secret; the web server must already be listening."""
    await application.bot.set_webhook(
        url=hook.url,
        secret_token=hook.secret_token,
        allowed_updates=Update.ALL_TYPES,
        # Telegram opens at most this many connections at once: keep it in step with what we handle at once.
        max_connections=max(1, min(100, application.concurrent_updates)),
    )
    log.info("webhook set: Telegram posts to %s", hook.url)
