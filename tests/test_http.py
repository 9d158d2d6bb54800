"""The lean HTTP client (bot/transport/http.py): kept-alive connections, the answers a server can give, and failures
turned into python-telegram-bot's own TimedOut and NetworkError."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter

from bot.transport.http import LeanRequest, gather_updates_while_busy, lean_or_default_request

Reply = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]  # returns whether to keep the connection


class RawServer:
    """An HTTP server by hand, to answer exactly as a test needs; counts connections and requests."""

    def __init__(self, reply: Reply) -> None:
        self.reply, self.connections, self.bodies = reply, 0, []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/bot123:ABC/getMe"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length"))
                body = await reader.readexactly(length)
                self.bodies.append((head, body))
                if not await self.reply(body, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Reply], Awaitable[RawServer]]]:
    servers: list[RawServer] = []

    async def start(reply: Reply) -> RawServer:
        raw = RawServer(reply)
        raw.server = await asyncio.start_server(raw._serve, "127.0.0.1", 0)
        servers.append(raw)
        return raw

    yield start
    for raw in servers:
        assert raw.server is not None
        raw.server.close()


def ok(body: bytes = b'{"ok":true,"result":true}', extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra + \
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body


async def answer_ok(_body: bytes, writer: asyncio.StreamWriter) -> bool:
    writer.write(ok())
    return True


@pytest.fixture
async def client() -> AsyncIterator[LeanRequest]:
    request = LeanRequest(4, read_timeout=1.0, pool_timeout=0.2)
    await request.initialize()
    yield request
    await request.shutdown()


def params(**values: object) -> RequestData:
    return RequestData([RequestParameter.from_input(key, value) for key, value in values.items()])


async def test_requests_go_as_json_over_one_kept_alive_connection(serve, client):
    raw = await serve(answer_ok)
    for n in range(5):
        assert await client.do_request(raw.url, "POST", params(chat_id=7, text=f"hello {n}")) == (
            200, b'{"ok":true,"result":true}')
    assert raw.connections == 1
    head, body = raw.bodies[-1]
    assert b"Content-Type: application/json" in head and b"POST /bot123:ABC/getMe HTTP/1.1" in head
    assert json.loads(body) == {"chat_id": "7", "text": "hello 4"}


async def test_a_connection_the_server_closed_while_idle_is_not_reused(serve, client):
    async def answer_then_hang_up(_body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(ok())  # says nothing about closing, then closes: as a server's idle timeout does
        return False

    raw = await serve(answer_then_hang_up)
    await client.do_request(raw.url, "POST")
    await asyncio.sleep(0.05)  # idle: the event loop sees the server's FIN
    assert (await client.do_request(raw.url, "POST"))[0] == 200
    assert raw.connections == 2


async def test_connection_close_and_chunked_answers_are_read(serve, client):
    async def chunked_then_close(_body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                     b"5\r\n{\"ok\"\r\nf;ext=1\r\n:false,\"x\":\"y\"}\r\n0\r\n\r\n")
        return False

    raw = await serve(chunked_then_close)
    assert await client.do_request(raw.url, "POST") == (400, b'{"ok":false,"x":"y"}')
    assert await client.do_request(raw.url, "POST") == (400, b'{"ok":false,"x":"y"}')
    assert raw.connections == 2


async def test_files_go_as_multipart_form_data(serve, client):
    from telegram import InputFile

    raw = await serve(answer_ok)
    data = RequestData([RequestParameter.from_input("chat_id", 7),
                        RequestParameter.from_input("document", InputFile(b"a,b\n1,2\n", filename='r"1".csv'))])
    await client.do_request(raw.url, "POST", data)
    head, body = raw.bodies[-1]
    assert b"multipart/form-data; boundary=" in head
    assert b'name="chat_id"\r\n\r\n7\r\n' in body
    assert b'filename="r%221%22.csv"' in body and b"a,b\n1,2\n\r\n" in body


async def test_no_answer_in_time_is_timed_out_and_a_refused_connection_a_network_error(serve, client):
    async def never(_body: bytes, _writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(10)
        return False

    raw = await serve(never)
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

    async def slow(_body: bytes, writer: asyncio.StreamWriter) -> bool:
        await release.wait()
        writer.write(ok())
        return True

    raw = await serve(slow)
    single = LeanRequest(1, pool_timeout=0.1)
    await single.initialize()
    first = asyncio.create_task(single.do_request(raw.url, "POST"))
    await asyncio.sleep(0.05)
    with pytest.raises(TimedOut, match="Pool timeout"):
        await single.do_request(raw.url, "POST")
    release.set()
    assert (await first)[0] == 200
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


def test_a_proxy_in_the_environment_means_python_telegram_bots_own_client(monkeypatch):
    assert isinstance(lean_or_default_request(4), LeanRequest)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert isinstance(lean_or_default_request(4), HTTPXRequest)
