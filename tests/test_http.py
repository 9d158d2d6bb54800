"""The aiohttp client for Telegram (bot/transport/client.py) against servers that answer as a test needs: plain
HTTP, TLS, through a proxy, closed kept-alive connections, slow and oversized answers; failures become
python-telegram-bot's own TimedOut and NetworkError, and its error semantics (RetryAfter, BadRequest) hold."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from telegram import InputFile
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.transport.client import AiohttpRequest, UpdateQueue, gather_updates_while_busy

Reply = Callable[[bytes, bytes, asyncio.StreamWriter], Awaitable[bool]]  # (head, body, writer) -> keep the connection?
OK = b'{"ok":true,"result":true}'


class RawServer:
    """An HTTP server by hand, to answer exactly as a test needs; counts connections and requests."""

    def __init__(self, reply: Reply) -> None:
        self.reply, self.connections, self.requests = reply, 0, []
        self.server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot123:ABC/getMe"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length")), 0)
                body = await reader.readexactly(length)
                self.requests.append((head, body))
                if not await self.reply(head, body, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[RawServer]]]:
    servers: list[RawServer] = []

    async def start(reply: Reply, ssl_context: ssl.SSLContext | None = None) -> RawServer:
        raw = RawServer(reply)
        raw.server = await asyncio.start_server(raw.serve, "127.0.0.1", 0, ssl=ssl_context)
        servers.append(raw)
        return raw

    yield start
    for raw in servers:
        assert raw.server is not None
        raw.server.close()


def ok(body: bytes = OK, status: bytes = b"200 OK", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n" + extra + \
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body


async def answer_ok(_head: bytes, _body: bytes, writer: asyncio.StreamWriter) -> bool:
    writer.write(ok())
    return True


@pytest.fixture
async def client() -> AsyncIterator[AiohttpRequest]:
    request = AiohttpRequest(4, read_timeout=1.0, pool_timeout=0.2)
    await request.initialize()
    yield request
    await request.shutdown()


def params(**values: object) -> RequestData:
    return RequestData([RequestParameter.from_input(key, value) for key, value in values.items()])


async def test_requests_go_as_json_over_one_kept_alive_connection(serve, client):
    raw = await serve(answer_ok)
    for n in range(5):
        assert await client.do_request(raw.url, "POST", params(chat_id=7, text=f"hello {n}")) == (200, OK)
    assert raw.connections == 1
    head, body = raw.requests[-1]
    assert b"POST /bot123:ABC/getMe HTTP/1.1" in head and b"Content-Type: application/json" in head
    assert f"Host: 127.0.0.1:{raw.port}".encode() in head  # the non-default port is in the Host header
    assert json.loads(body) == {"chat_id": "7", "text": "hello 4"}  # PTB sends values as strings


async def test_python_telegram_bots_error_semantics_hold(serve, client):
    async def flood_then_bad(_head: bytes, body: bytes, writer: asyncio.StreamWriter) -> bool:
        if b"flood" in body:
            writer.write(ok(b'{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3",'
                            b'"parameters":{"retry_after":3}}', b"429 Too Many Requests"))
        else:
            writer.write(ok(b'{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}',
                            b"400 Bad Request"))
        return True

    raw = await serve(flood_then_bad)
    with pytest.raises(RetryAfter):
        await client.post(raw.url, params(text="flood"))
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await client.post(raw.url, params(text="x"))


async def test_a_server_closing_kept_alive_connections_costs_nothing(serve, client):
    async def answer_then_hang_up(_head: bytes, _body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(ok())  # says nothing about closing, then closes: as a server's idle timeout does
        return False

    async def answer_connection_close(_head: bytes, _body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(ok(extra=b"Connection: close\r\n"))
        return False

    for reply in (answer_then_hang_up, answer_connection_close):
        raw = await serve(reply)
        for _ in range(3):
            assert await client.do_request(raw.url, "POST") == (200, OK)
            await asyncio.sleep(0.05)  # idle: the event loop sees the server's FIN
        assert raw.connections == 3


async def test_chunked_answers_are_read(serve, client):
    async def chunked(_head: bytes, _body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\n{\"ok\"\r\ne;ext=1\r\n:true,\"x\":\"y\"}\r\n0\r\n\r\n")
        return True

    raw = await serve(chunked)
    assert await client.do_request(raw.url, "POST") == (200, b'{"ok":true,"x":"y"}')
    assert await client.do_request(raw.url, "POST") == (200, b'{"ok":true,"x":"y"}')
    assert raw.connections == 1


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_an_oversized_answer_is_refused_and_its_connection_dropped(serve, framing):
    big = b"x" * (64 * 1024)
    dropped = asyncio.Event()

    async def huge(_head: bytes, _body: bytes, writer: asyncio.StreamWriter) -> bool:
        if framing == "content-length":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 209715200\r\n\r\n")  # 200 MiB announced
        else:
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(3200):  # 200 MiB, if anyone read it all
                writer.write(b"10000\r\n" + big + b"\r\n" if framing == "chunked" else big)
                await writer.drain()
        except ConnectionError:
            dropped.set()
        return False

    raw = await serve(huge)
    request = AiohttpRequest(1, max_response_bytes=1024 * 1024)
    await request.initialize()
    try:
        began = time.monotonic()
        with pytest.raises(NetworkError, match="refused an answer"):
            await request.do_request(raw.url, "POST")
        assert time.monotonic() - began < 5
        await asyncio.wait_for(dropped.wait(), 5)  # the connection was dropped, not kept for reuse
    finally:
        await request.shutdown()


async def test_files_go_as_multipart_form_data(serve, client):
    raw = await serve(answer_ok)
    data = RequestData([RequestParameter.from_input("chat_id", 7),
                        RequestParameter.from_input("document", InputFile(b"a,b\n1,2\n", filename="report.csv"))])
    await client.do_request(raw.url, "POST", data)
    head, body = raw.requests[-1]
    assert b"multipart/form-data; boundary=" in head
    assert b'name="chat_id"' in body and b"\r\n\r\n7\r\n" in body
    assert b'filename="report.csv"' in body and b"a,b\n1,2\n\r\n" in body


async def test_a_slow_answer_is_timed_out_and_a_refused_connection_a_network_error(serve, client):
    async def slow(_head: bytes, _body: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(10)
        return False

    raw = await serve(slow)
    began = time.monotonic()
    with pytest.raises(TimedOut):
        await client.do_request(raw.url, "POST", read_timeout=0.2)
    assert time.monotonic() - began < 1
    assert raw.server is not None
    url = raw.url
    raw.server.close()
    await raw.server.wait_closed()
    with pytest.raises(NetworkError):
        await client.do_request(url, "POST")


async def test_a_request_waits_for_a_free_connection_until_the_pool_timeout(serve):
    release = asyncio.Event()

    async def slow(_head: bytes, _body: bytes, writer: asyncio.StreamWriter) -> bool:
        await release.wait()
        writer.write(ok())
        return True

    raw = await serve(slow)
    single = AiohttpRequest(1, pool_timeout=0.1)
    await single.initialize()
    try:
        first = asyncio.create_task(single.do_request(raw.url, "POST"))
        await asyncio.sleep(0.05)
        with pytest.raises(TimedOut, match="Pool timeout"):
            await single.do_request(raw.url, "POST")
        release.set()
        assert (await first)[0] == 200
    finally:
        await single.shutdown()


async def test_get_updates_waits_a_moment_only_while_the_bot_is_busy(serve, client):
    raw = await serve(answer_ok)
    busy = False
    gather_updates_while_busy(client, lambda: busy, seconds=0.2)
    began = time.monotonic()
    await client.do_request(raw.url, "POST")
    assert time.monotonic() - began < 0.15
    busy = True
    began = time.monotonic()
    await client.do_request(raw.url, "POST")
    assert time.monotonic() - began >= 0.2


async def test_get_updates_waits_for_room_while_the_bot_holds_enough_updates(serve, client):
    raw = await serve(answer_ok)
    updates = UpdateQueue(hold_at=2)
    gather_updates_while_busy(client, lambda: False, room=updates.room)
    await updates.put("first")
    assert (await client.do_request(raw.url, "POST"))[0] == 200  # one in hand: room for more
    await updates.put("second")
    assert updates.in_hand == 2
    asking = asyncio.create_task(client.do_request(raw.url, "POST"))
    await asyncio.sleep(0.1)
    assert not asking.done()  # two in hand: Telegram keeps the rest for now
    updates.get_nowait()
    assert not asking.done()  # taken off the queue is not handled yet
    updates.task_done()
    assert (await asyncio.wait_for(asking, 2))[0] == 200
    assert updates.in_hand == 1
    with pytest.raises(ValueError):  # more task_done than put: refused, the count stays right
        updates.task_done()
        updates.task_done()
    assert updates.in_hand == 0


async def test_get_updates_asks_for_no_more_than_there_is_room_for(serve, client):
    raw = await serve(answer_ok)
    updates = UpdateQueue(hold_at=48)
    gather_updates_while_busy(client, lambda: False, room=updates.room)
    for n in range(20):
        await updates.put(n)
    asking = RequestData([RequestParameter("offset", 7, None), RequestParameter("timeout", 10, None)])
    await client.do_request(raw.url.replace("/getMe", "/getUpdates"), "POST", asking)
    assert json.loads(raw.requests[-1][1]) == {"offset": "7", "timeout": "10", "limit": "28"}
    await client.do_request(raw.url, "POST", asking)  # any other method: the body as PTB made it
    assert json.loads(raw.requests[-1][1]) == {"offset": "7", "timeout": "10"}


# --- TLS ------------------------------------------------------------------------------------------------------

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def make_certificate(directory: Path, host: str) -> tuple[Path, Path]:
    cert, key = directory / f"{host}.pem", directory / f"{host}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=DNS:{host}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@needs_openssl
async def test_tls_with_a_trusted_certificate_works_and_keeps_the_connection(serve, tmp_path):
    cert, key = make_certificate(tmp_path, "localhost")
    raw = await serve(answer_ok, server_context(cert, key))
    request = AiohttpRequest(2, ssl_context=ssl.create_default_context(cafile=str(cert)))
    await request.initialize()
    try:
        for _ in range(3):
            assert await request.do_request(f"https://localhost:{raw.port}/bot123:ABC/getMe", "POST") == (200, OK)
    finally:
        await request.shutdown()
    assert raw.connections == 1


@needs_openssl
async def test_tls_trusts_ssl_cert_file_from_the_environment(serve, tmp_path, monkeypatch):
    cert, key = make_certificate(tmp_path, "localhost")
    raw = await serve(answer_ok, server_context(cert, key))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # as PTB's own client (httpx) honours it
    request = AiohttpRequest(1)
    await request.initialize()
    try:
        assert await request.do_request(f"https://localhost:{raw.port}/bot123:ABC/getMe", "POST") == (200, OK)
    finally:
        await request.shutdown()


@needs_openssl
async def test_tls_refuses_a_certificate_for_another_host_or_an_unknown_one(serve, tmp_path, monkeypatch):
    wrong, wrong_key = make_certificate(tmp_path, "api.telegram.org")
    raw = await serve(answer_ok, server_context(wrong, wrong_key))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    trusting = AiohttpRequest(1, ssl_context=ssl.create_default_context(cafile=str(wrong)))
    default = AiohttpRequest(1)
    for request, reason in ((trusting, r"(?i)hostname|doesn't match|not valid for"), (default, r"(?i)certificate")):
        await request.initialize()
        try:
            with pytest.raises(NetworkError, match=reason):
                await request.do_request(f"https://localhost:{raw.port}/bot123:ABC/getMe", "POST")
        finally:
            await request.shutdown()
    assert raw.requests == []  # nothing was sent to a server we could not verify


# --- Proxy ----------------------------------------------------------------------------------------------------

class Proxy:
    """A small HTTP proxy: CONNECT tunnels (for https) and absolute-form requests (for http), logged."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        line = head.split(b"\r\n", 1)[0]
        self.seen.append(line)
        method, target, _ = line.split(b" ")
        if method == b"CONNECT":
            host, port = target.decode().rsplit(":", 1)
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:  # http://host:port/path: forward it in origin form
            rest = target.decode().split("://", 1)[1]
            hostport, _, path = rest.partition("/")
            host, port = hostport.rsplit(":", 1)
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            up_writer.write(b" ".join((method, b"/" + path.encode(), b"HTTP/1.1")) + b"\r\n" +
                            head.split(b"\r\n", 1)[1])
        await asyncio.gather(self.pipe(reader, up_writer), self.pipe(up_reader, writer))

    @staticmethod
    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    running = Proxy()
    running.server = await asyncio.start_server(running.handle, "127.0.0.1", 0)
    yield running
    running.server.close()


async def test_a_proxy_named_in_the_environment_carries_plain_http(serve, proxy, monkeypatch):
    raw = await serve(answer_ok)
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    request = AiohttpRequest(1)
    await request.initialize()
    try:
        assert await request.do_request(raw.url, "POST", params(text="via proxy")) == (200, OK)
    finally:
        await request.shutdown()
    assert proxy.seen == [f"POST {raw.url} HTTP/1.1".encode()]
    assert json.loads(raw.requests[0][1]) == {"text": "via proxy"}


@needs_openssl
async def test_a_proxy_tunnels_https_and_the_certificate_is_still_checked(serve, proxy, tmp_path, monkeypatch):
    cert, key = make_certificate(tmp_path, "localhost")
    raw = await serve(answer_ok, server_context(cert, key))
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    url = f"https://localhost:{raw.port}/bot123:ABC/getMe"
    request = AiohttpRequest(1, ssl_context=ssl.create_default_context(cafile=str(cert)))
    await request.initialize()
    try:
        assert await request.do_request(url, "POST") == (200, OK)
    finally:
        await request.shutdown()
    assert proxy.seen == [f"CONNECT localhost:{raw.port} HTTP/1.1".encode()]
    untrusting = AiohttpRequest(1, ssl_context=ssl.create_default_context())
    await untrusting.initialize()
    try:
        with pytest.raises(NetworkError, match=r"(?i)certificate"):
            await untrusting.do_request(url, "POST")
    finally:
        await untrusting.shutdown()


async def test_no_proxy_is_honoured(serve, proxy, monkeypatch):
    raw = await serve(answer_ok)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    request = AiohttpRequest(1)
    await request.initialize()
    try:
        assert await request.do_request(raw.url, "POST") == (200, OK)
    finally:
        await request.shutdown()
    assert proxy.seen == [] and raw.connections == 1
