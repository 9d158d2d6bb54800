"""HTTP to Telegram: a lean HTTP/1.1 client on asyncio streams, as python-telegram-bot's request backend.

python-telegram-bot lets a bot bring its own `BaseRequest` (do_request gets a URL and the parameters, returns
status and body). Its default, httpx, spends most of a tap's CPU in layers this bot does not use: anyio
locks and cancel scopes around every request, redirect and cookie handling, and a check of every idle pooled
connection (getpeername and poll, each) before each request. Measured in docs/benchmarks.md.

This client does only what the Bot API needs: POST JSON (or multipart, for files) over kept-alive
connections, and read a Content-Length or chunked answer. Connections are closed after KEEPALIVE seconds
idle, or when the server says so or closes them. Timeouts raise `TimedOut` and network failures
`NetworkError`, as PTB's own client does, so every caller's error handling is unchanged. A proxy named in
the environment is not supported here: `lean_or_default_request` then returns PTB's own client.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

KEEPALIVE = 5.0  # seconds an idle connection is kept (as httpx does): servers close idle ones on their own
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
_MAX_HEAD = 64 * 1024


@dataclass(frozen=True, slots=True)
class _Origin:
    scheme: str
    host: str
    port: int
    path: str


class _Connection:
    """One kept-alive connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.idle_since = time.monotonic()

    def reusable(self, now: float) -> bool:
        """Not closed by the server (the event loop has seen any EOF), not idle too long, nothing unread."""
        return (now - self.idle_since < KEEPALIVE and not self.reader.at_eof() and not self.writer.is_closing()
                and not getattr(self.reader, "_buffer", b""))

    def close(self) -> None:
        self.writer.close()


class LeanRequest(BaseRequest):
    """Requests to the Bot API over a small pool of kept-alive HTTP/1.1 connections."""

    def __init__(self, connection_pool_size: int = 1, *, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0) -> None:
        self._size = connection_pool_size
        self._timeouts = {"read": read_timeout, "write": write_timeout, "connect": connect_timeout,
                          "pool": pool_timeout, "media": media_write_timeout}
        self._slots: asyncio.Semaphore | None = None
        self._idle: dict[_Origin, deque[_Connection]] = {}
        self._origins: dict[str, _Origin] = {}
        self._ssl: ssl.SSLContext | None = None
        #: For the getUpdates request: while this says the bot is busy, wait `gather_seconds` before asking,
        #: so that one request brings several updates instead of one each (see `gather_updates_while_busy`).
        self.busy: Callable[[], bool] | None = None
        self.gather_seconds = 0.0

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)

    async def shutdown(self) -> None:
        for idle in self._idle.values():
            while idle:
                idle.pop().close()
        self._slots = None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = BaseRequest.DEFAULT_NONE, write_timeout: Any = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Any = BaseRequest.DEFAULT_NONE,
                         pool_timeout: Any = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._slots is None:
            raise RuntimeError("LeanRequest is not initialized")
        if self.busy is not None and self.busy():
            await asyncio.sleep(self.gather_seconds)
        origin = self._origin(url)
        files = request_data.multipart_data if request_data else None
        body, content_type = _encode(request_data, files)
        head = (f"{method} {origin.path} HTTP/1.1\r\nHost: {origin.host}\r\nUser-Agent: {self.USER_AGENT}\r\n"
                f"Accept: */*\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        write = self._given(write_timeout, "media" if files else "write")
        if self._slots.locked():  # only then is there anything to time out on
            try:
                async with asyncio.timeout(self._given(pool_timeout, "pool")):
                    await self._slots.acquire()
            except TimeoutError as exc:
                raise TimedOut("Pool timeout: every connection is busy. The request was not sent.") from exc
        else:
            await self._slots.acquire()
        try:
            connection = await self._connection(origin, self._given(connect_timeout, "connect"))
            return await self._exchange(origin, connection, head + body, write, self._given(read_timeout, "read"))
        finally:
            self._slots.release()

    def _given(self, value: Any, name: str) -> float | None:
        return self._timeouts[name] if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value

    def _origin(self, url: str) -> _Origin:
        origin = self._origins.get(url)
        if origin is None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise NetworkError(f"unsupported URL {url!r}")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            origin = _Origin(parts.scheme, parts.hostname, port, path)
            if len(self._origins) < 1024:  # one per Bot API method in practice
                self._origins[url] = origin
        return origin

    async def _connection(self, origin: _Origin, timeout: float | None) -> _Connection:  # noqa: ASYNC109
        idle = self._idle.get(_base(origin))
        now = time.monotonic()
        while idle:
            connection = idle.pop()  # the most recently used: the least likely to have been closed
            if connection.reusable(now):
                return connection
            connection.close()
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    origin.host, origin.port, ssl=self._ssl_context() if origin.scheme == "https" else None,
                    limit=_MAX_HEAD,
                )
        except TimeoutError as exc:
            raise TimedOut(f"could not connect to {origin.host} in time") from exc
        except (OSError, ssl.SSLError) as exc:
            raise NetworkError(f"could not connect to {origin.host}: {exc!r}") from exc
        return _Connection(reader, writer)

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = httpx.create_ssl_context()  # the same certificate authorities as PTB's own client
        return self._ssl

    async def _exchange(self, origin: _Origin, connection: _Connection, request: bytes,
                        write_timeout: float | None, read_timeout: float | None) -> tuple[int, bytes]:
        try:
            connection.writer.write(request)
            if connection.writer.transport.get_write_buffer_size():  # not all taken by the socket at once
                try:
                    async with asyncio.timeout(write_timeout):
                        await connection.writer.drain()
                except TimeoutError as exc:
                    raise TimedOut("timed out sending the request") from exc
            try:
                async with asyncio.timeout(read_timeout):
                    status, keep_alive, body = await _read_response(connection.reader)
            except TimeoutError as exc:
                raise TimedOut("timed out waiting for Telegram's answer") from exc
        except TimedOut:
            connection.close()
            raise
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            connection.close()
            raise NetworkError(f"connection to {origin.host} failed: {exc!r}") from exc
        except BaseException:  # cancelled mid-exchange: the connection's state is unknown
            connection.close()
            raise
        if keep_alive:
            now = connection.idle_since = time.monotonic()
            idle = self._idle.setdefault(_base(origin), deque())
            while idle and not idle[0].reusable(now):  # the longest idle, left behind by LIFO reuse
                idle.popleft().close()
            idle.append(connection)
        else:
            connection.close()
        return status, body


def _base(origin: _Origin) -> _Origin:
    return _Origin(origin.scheme, origin.host, origin.port, "")


def _encode(request_data: RequestData | None, files: dict[str, Any] | None) -> tuple[bytes, str]:
    """The parameters as JSON (the Bot API takes JSON bodies; cheaper to make than a URL-encoded form),
    or multipart/form-data when there are files, as PTB's default client sends them."""
    if not files:
        return (request_data.json_payload if request_data else b"{}"), "application/json"
    assert request_data is not None
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in request_data.json_parameters.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'.encode())
        parts.append(value.encode() + b"\r\n")
    for name, (filename, content, *mimetype) in files.items():
        data = content if isinstance(content, bytes) else content.read()
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"; filename="{_quoted(filename)}"'
            f"\r\nContent-Type: {(mimetype or [None])[0] or 'application/octet-stream'}\r\n\r\n".encode()
        )
        parts.append(data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """(status, keep the connection?, body) of one HTTP/1.1 response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    status = int(rest.split(" ", 1)[0])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return status, keep_alive, await _read_chunked(reader)
    if "content-length" in headers:
        return status, keep_alive, await reader.readexactly(int(headers["content-length"]))
    if status in (204, 304) or 100 <= status < 200:
        return status, keep_alive, b""
    return status, False, await reader.read()  # the body runs until the server closes


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks = []
    while True:
        size = int((await reader.readline()).split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def gather_updates_while_busy(request: BaseRequest, busy: Callable[[], bool], seconds: float = 0.005) -> None:
    """Under load, fetch updates in batches: each getUpdates costs about as much CPU as handling a tap, and
    a long poll returns as soon as one update is waiting, so a busy bot would otherwise fetch them one by one.
    An idle bot asks at once, so a lone tap waits for nothing."""
    if isinstance(request, LeanRequest):
        request.busy, request.gather_seconds = busy, seconds


def lean_or_default_request(pool_size: int, **timeouts: Any) -> BaseRequest:
    """The lean client; PTB's own (httpx) when the environment names a proxy, which httpx honours."""
    if any(os.environ.get(name) for name in PROXY_VARIABLES):
        return HTTPXRequest(connection_pool_size=pool_size, **timeouts)
    return LeanRequest(pool_size, **timeouts)
