"""Webhook mode over real HTTP on the bot's web server (bot/transport/web.py): posts without the secret refused,
oversized ones refused before they are read (also against the real bot process, watching its memory), /healthz;
and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.botprocess import BotProcess, write_config
from bot import cli
from bot.app import build_application
from bot.config import Settings
from bot.delivery.dispatcher import Outgoing
from bot.domain.clock import ManualClock
from bot.domain.ledger import NewDelivery
from bot.runtime import dispatch_now, running
from bot.services import services
from bot.simulator.localapi import LocalBotApi
from bot.transport.webhook import webhook_settings
from tests.conftest import START, make_settings

SECRET = "s3cret-token-for-tests_0123456789"
PUBLIC_URL = "https://imm.example.org/telegram/hook"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def webhook_bot_settings(api: LocalBotApi, db_path: Path, port: int, secret: str = SECRET) -> Settings:
    base = make_settings(api, db_path).model_dump()
    base["telegram"]["webhook"] = {"url": PUBLIC_URL, "listen": "127.0.0.1", "port": port, "secret_token": secret}
    return Settings.model_validate(base)


def help_update(update_id: int, user_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Pat"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Pat", "language_code": "en"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }


@pytest.fixture
async def webhook_bot(api: LocalBotApi, db_path: Path) -> AsyncIterator[tuple[Any, int]]:
    port = free_port()
    settings = webhook_bot_settings(api, db_path, port)
    application = build_application(settings, clock=ManualClock(START))
    async with running(application, dispatcher=False, webhook=webhook_settings(settings)):
        yield application, port


async def post(port: int, update: dict[str, Any] | bytes, secret: str | None, path: str = "/telegram/hook") -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    async with aiohttp.ClientSession() as client, client.post(
        f"http://127.0.0.1:{port}{path}", data=body, headers={"Content-Type": "application/json", **headers},
    ) as response:
        return response.status


async def test_starting_in_webhook_mode_tells_telegram_the_url_and_secret(webhook_bot, api):
    set_webhook = api.calls_to("setWebhook")
    assert api.webhook_url == PUBLIC_URL
    assert set_webhook and set_webhook[-1].params["secret_token"] == SECRET
    assert not api.calls_to("getUpdates")


async def test_a_post_without_the_secret_or_with_a_wrong_one_is_refused(webhook_bot, api):
    _, port = webhook_bot
    assert await post(port, help_update(1, 701), None) == 403
    assert await post(port, help_update(2, 702), "not-the-secret") == 403
    assert await post(port, help_update(3, 703), SECRET[:-1]) == 403
    # The right secret is processed; the refused posts never reached a handler.
    assert await post(port, help_update(4, 704), SECRET) == 200
    reply = await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 704)
    assert "/help" not in reply.text and reply.text
    assert api.calls_to("sendMessage", 701) == api.calls_to("sendMessage", 702) == []
    assert api.calls_to("sendMessage", 703) == []


async def test_a_malformed_or_misaddressed_post_changes_nothing(webhook_bot, api):
    _, port = webhook_bot
    assert await post(port, b"{not json", SECRET) == 400
    assert await post(port, b'["a list"]', SECRET) == 400
    assert await post(port, {"no_update_id": 1}, SECRET) == 400
    assert await post(port, help_update(5, 706), SECRET, path="/elsewhere") == 404
    assert await post(port, help_update(6, 707), SECRET) == 200  # and the bot still works
    await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 707)
    assert api.calls_to("sendMessage", 706) == []


async def test_a_body_over_one_mib_is_refused_with_or_without_a_length(webhook_bot, api):
    _, port = webhook_bot
    big = b'{"update_id": 1, "x": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    assert await post(port, big, SECRET) == 413  # Content-Length announced: refused unread

    async def chunks():
        for start in range(0, len(big), 65536):
            yield big[start:start + 65536]

    async with aiohttp.ClientSession() as client, client.post(  # sent in chunks: cut off at 1 MiB
        f"http://127.0.0.1:{port}/telegram/hook", data=chunks(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
    ) as response:
        assert response.status == 413


async def test_healthz_says_whether_the_database_and_the_dispatcher_are_alive(api, db_path):
    port = free_port()
    settings = make_settings(api, db_path, web={"port": port})
    application = build_application(settings, clock=ManualClock(START))

    async def healthz() -> tuple[int, dict[str, Any]]:
        async with aiohttp.ClientSession() as client, client.get(f"http://127.0.0.1:{port}/healthz") as response:
            return response.status, await response.json()

    async with running(application, dispatcher=False):
        assert await healthz() == (503, {"ok": False, "database": True, "dispatcher": False})
    async with running(application):
        assert await healthz() == (200, {"ok": True, "database": True, "dispatcher": True})
        store = services(application).store
        await store.close()  # the database gone
        assert await healthz() == (503, {"ok": False, "database": False, "dispatcher": True})
        await store.open()
        assert (await healthz())[0] == 200
        assert await post(port, help_update(1, 708), SECRET) == 404  # polling mode: no webhook route


async def test_stopping_in_webhook_mode_finishes_the_send_in_flight(api, db_path):
    """Stop while the dispatcher sends: the message on the wire completes and nothing is left 'sending'."""
    api.reply_delay = 0.15
    settings = webhook_bot_settings(api, db_path, free_port())
    application = build_application(settings, clock=ManualClock(START))
    svc = services(application)

    second_rendered = asyncio.Event()

    async def render(delivery, _svc):
        if delivery.payload["n"] == 1:
            second_rendered.set()  # it goes on the wire next, taking reply_delay to answer
        return Outgoing(f"note {delivery.payload['n']}")

    svc.dispatcher.register_renderer("test.note", render)
    async with running(application, dispatcher=False, webhook=webhook_settings(settings)):
        await svc.store.enqueue_deliveries(
            [NewDelivery("test.note", f"note-{n}", 800 + n, START, payload={"n": n}) for n in range(6)], START
        )
        sending = asyncio.create_task(dispatch_now(application))
        await second_rendered.wait()
    await sending
    await svc.store.open()
    try:
        counts = await svc.store.delivery_counts()
    finally:
        await svc.store.close()
    assert [c.text for c in api.sent_ok("sendMessage")] == ["note 0", "note 1"]
    assert counts == {"sent": 2, "pending": 4}


def test_webhook_mode_refuses_to_start_without_secret_or_url(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IMM_TELEGRAM__TOKEN", "123456:TEST-TOKEN")
    assert cli.main(["run", "--webhook"]) == cli.EXIT_CONFIG
    error = capsys.readouterr().err
    assert "telegram.webhook.url: required" in error and "telegram.webhook.secret_token: required" in error
    monkeypatch.setenv("IMM_TELEGRAM__WEBHOOK__URL", "http://imm.example.org/hook")
    monkeypatch.setenv("IMM_TELEGRAM__WEBHOOK__SECRET_TOKEN", "short")
    assert cli.main(["run", "--webhook"]) == cli.EXIT_CONFIG
    error = capsys.readouterr().err
    assert "must be an https:// address" in error and "at least 16 characters" in error


async def test_sigterm_stops_a_running_bot_promptly_with_exit_0(api, tmp_path):
    env = {
        **os.environ,
        "IMM_TELEGRAM__TOKEN": api.token,
        "IMM_TELEGRAM__API_BASE_URL": api.base_url,
        "IMM_TELEGRAM__API_FILE_URL": api.base_file_url,
        "IMM_STORAGE__PATH": str(tmp_path / "bot.sqlite3"),
    }
    env.pop("IMM_CONFIG", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await api.wait_for(lambda c: c.method == "setMyCommands", timeout=20)
        pat = api.user(705, "Pat")
        await pat.send("/help", timeout=10)
        assert pat.last_text()
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=10)
        took = time.monotonic() - began
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    _, err = await process.communicate()
    assert code == 0, err.decode()
    assert took < 5, f"took {took:.1f}s to stop"
    assert "stopping: finishing the message in flight" in err.decode()


async def refused_post(port: int, size: int, secret: str | None) -> tuple[int, float]:
    """POST `size` bytes announced by Content-Length, sending until the server answers; (status, seconds)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (f"POST /telegram/hook HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n" + (f"X-Telegram-Bot-Api-Secret-Token: {secret}\r\n" if secret else "")
            + "\r\n").encode()
    began = time.monotonic()

    async def send() -> None:
        chunk = b"a" * (1024 * 1024)
        with contextlib.suppress(ConnectionError):
            writer.write(head)
            for _ in range(size // len(chunk)):
                writer.write(chunk)
                await writer.drain()

    sending = asyncio.create_task(send())
    try:
        status_line = await asyncio.wait_for(reader.readline(), 30)
        took = time.monotonic() - began
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        writer.close()
    return int(status_line.split()[1]), took


async def test_the_real_bot_refuses_fifty_mib_posts_at_once_without_growing(api, tmp_path):
    """Issue 12's goal, against `imm-bot run --webhook` in its own process: 20 posts of 50 MiB without the
    secret and 20 with it are each refused (403 / 413) at once, resident memory grows by less than 20 MB, and a
    valid update posted meanwhile is handled."""
    port = free_port()
    write_config(tmp_path / "bot.toml", api, tmp_path / "bot.sqlite3", [],
                 telegram={"webhook": {"url": PUBLIC_URL, "listen": "127.0.0.1", "port": port,
                                       "secret_token": SECRET}})
    process = BotProcess(tmp_path / "bot.toml", tmp_path / "bot.log",
                         argv=["-m", "bot", "--config", str(tmp_path / "bot.toml"), "run", "--webhook"],
                         ready="setWebhook")
    await process.start(api)
    try:
        # Warm up both paths (an update handled, a post refused) so that what they import is in the baseline.
        assert await post(port, help_update(1, 720), SECRET) == 200
        await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 720, timeout=20)
        assert (await refused_post(port, 2 * 1024 * 1024, None))[0] == 403
        before = process.memory_kb()["VmRSS"]
        size = 50 * 1024 * 1024
        refusals = [asyncio.create_task(refused_post(port, size, secret))
                    for secret in [None] * 10 + [SECRET] * 10 + [None] * 10 + [SECRET] * 10]
        await asyncio.sleep(0.05)
        assert await post(port, help_update(2, 721), SECRET) == 200  # a valid update while they are refused
        results = await asyncio.gather(*refusals)
        await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 721, timeout=20)
        after = process.memory_kb()
    finally:
        await process.stop()
    statuses = [status for status, _ in results]
    assert statuses == [403] * 10 + [413] * 10 + [403] * 10 + [413] * 10
    slowest = max(took for _, took in results)
    assert slowest < 3.0, f"a refusal took {slowest:.2f} s"
    grew_mb = (after["VmRSS"] - before) / 1024
    assert grew_mb < 20, f"resident memory grew by {grew_mb:.1f} MB (peak {after['VmHWM'] / 1024:.1f} MB)"
    print(f"webhook refusals: slowest {slowest * 1000:.0f} ms; VmRSS {before / 1024:.1f} -> "
          f"{after['VmRSS'] / 1024:.1f} MB (grew {grew_mb:.1f} MB); peak {after['VmHWM'] / 1024:.1f} MB")
