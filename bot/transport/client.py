"""HTTP to Telegram: python-telegram-bot's request backend (`BaseRequest`) on aiohttp.

PTB's default client, httpx, spent most of a tap's CPU in layers a bot does not use (docs/benchmarks.md).
aiohttp is a well-kept client that keeps most of that gain. One `ClientSession` per request object, with a
connection pool of `connection_pool_size`; PTB builds two request objects (one for getUpdates, one for
everything else), so a long poll never holds a connection the replies need.

What PTB expects of a backend, kept here: JSON bodies (multipart/form-data only when there are files), the
status and body returned as they are (PTB turns a 429 into `RetryAfter`, a 400 into `BadRequest`, ...),
timeouts raised as `TimedOut` and every other failure as `NetworkError`. Proxies named in the environment
(HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY) are honoured. Answers larger than `max_response_bytes` are
refused and their connection dropped: Telegram's answers are small, and a bigger one is a fault or an attack.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

KEEPALIVE = 5.0  # seconds an idle connection is kept (as httpx does): servers close idle ones on their own
MAX_RESPONSE_BYTES = 10 * 1024 * 1024  # getUpdates brings at most 100 updates; each is a few kB
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # a file (GET, PTB's `retrieve`): Telegram serves bots at most 20 MB
_Default = type(BaseRequest.DEFAULT_NONE)


class AiohttpRequest(BaseRequest):
    """Requests to the Bot API through one aiohttp `ClientSession` with a pool of kept-alive connections."""

    def __init__(self, connection_pool_size: int = 1, *, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0,
                 max_response_bytes: int = MAX_RESPONSE_BYTES, ssl_context: ssl.SSLContext | None = None) -> None:
        self._size = connection_pool_size
        self._timeouts = {"read": read_timeout, "write": write_timeout, "connect": connect_timeout,
                          "pool": pool_timeout, "media": media_write_timeout}
        self.max_response_bytes = max_response_bytes
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}
        self._client_timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}
        #: For the getUpdates request: while this says the bot is busy, wait `gather_seconds` before asking,
        #: so that one request brings several updates instead of one each (see `gather_updates_while_busy`).
        self.busy: Callable[[], bool] | None = None
        self.gather_seconds = 0.0
        #: For the getUpdates request: awaited before asking; returns, once the bot has room for more updates,
        #: how many it has room for (getUpdates then asks for at most that many).
        self.room: Callable[[], Awaitable[int]] | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is not None:
            return
        # Made here, not at import, so SSL_CERT_FILE / SSL_CERT_DIR set before start-up are honoured.
        context = self._ssl or ssl.create_default_context()
        # The pool is ours (a semaphore, for PTB's pool timeout and its "Pool timeout" message); aiohttp's limit
        # is the same size, so it never queues a request itself.
        connector = aiohttp.TCPConnector(limit=self._size, limit_per_host=self._size, ssl=context,
                                         keepalive_timeout=KEEPALIVE)
        # trust_env=False: aiohttp would look the proxy up in a worker thread on every request. The environment
        # is read once per host instead (`_proxy`), which honours the same variables.
        self._session = aiohttp.ClientSession(connector=connector, trust_env=False, cookie_jar=aiohttp.DummyCookieJar(),
                                              headers={"User-Agent": self.USER_AGENT}, raise_for_status=False)
        self._slots = asyncio.Semaphore(self._size)

    async def shutdown(self) -> None:
        """Close the pool. A request still in flight fails with NetworkError (PTB stops its callers first)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = BaseRequest.DEFAULT_NONE, write_timeout: Any = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Any = BaseRequest.DEFAULT_NONE,
                         pool_timeout: Any = BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        session, slots = self._session, self._slots
        if session is None or slots is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        room = await self.room() if self.room is not None else None
        if self.busy is not None and self.busy():
            await asyncio.sleep(self.gather_seconds)
        files = request_data.multipart_data if request_data else None
        if files:
            assert request_data is not None
            body: Any = _form(request_data, files)
            headers = None
        else:
            if room is not None and request_data is not None and url.endswith("/getUpdates"):
                body = _at_most(request_data, room)
            else:
                body = request_data.json_payload if request_data else b"{}"
            headers = {"Content-Type": "application/json"}
        read = self._given(read_timeout, "read")
        write = self._given(write_timeout, "media" if files else "write")
        timeout = self._client_timeout(self._given(connect_timeout, "connect"), read, write)
        if slots.locked():  # only then is there anything to time out on
            try:
                async with asyncio.timeout(self._given(pool_timeout, "pool")):
                    await slots.acquire()
            except TimeoutError as exc:
                raise TimedOut("Pool timeout: every connection is busy. The request was not sent.") from exc
        else:
            await slots.acquire()
        try:
            async with session.request(method, url, data=body, headers=headers, timeout=timeout,
                                       proxy=self._proxy(url), allow_redirects=False) as response:
                cap = MAX_DOWNLOAD_BYTES if method == "GET" else self.max_response_bytes
                return response.status, await _read_capped(response, max(cap, self.max_response_bytes))
        except TimeoutError as exc:  # aiohttp's ServerTimeoutError and ConnectionTimeoutError are TimeoutErrors
            raise TimedOut(f"timed out: {exc!r}") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        finally:
            slots.release()

    def _given(self, value: Any, name: str) -> float | None:
        return self._timeouts[name] if isinstance(value, _Default) else value

    def _client_timeout(self, connect: float | None, read: float | None, write: float | None) -> aiohttp.ClientTimeout:
        """aiohttp has no write timeout of its own: the write and read timeouts together bound the whole
        exchange, and the read timeout bounds each wait for the answer's bytes."""
        key = (connect, read, write)
        timeout = self._client_timeouts.get(key)
        if timeout is None:
            total = None if read is None or write is None else read + write + (connect or 0.0)
            timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
            if len(self._client_timeouts) < 64:  # a handful of combinations in practice
                self._client_timeouts[key] = timeout
        return timeout

    def _proxy(self, url: str) -> str | None:
        """The proxy the environment names for this URL's scheme and host, or None (looked up once per host)."""
        scheme, _, rest = url.partition("://")
        key = (scheme, rest.split("/", 1)[0])
        if key not in self._proxies:
            proxies = urllib.request.getproxies()
            proxy = proxies.get(scheme) or proxies.get("all")
            hostname = urlsplit(url).hostname or ""
            self._proxies[key] = None if not proxy or urllib.request.proxy_bypass(hostname) else proxy
        return self._proxies[key]


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """The body, or NetworkError (and the connection dropped) once it passes `cap` bytes."""
    length = response.content_length
    if length is not None:
        if length > cap:
            response.close()  # not released to the pool: the unread body would poison the connection
            raise NetworkError(f"refused an answer of {length} bytes (at most {cap})")
        return await response.read()  # bounded: the parser stops at Content-Length
    chunks, size = [], 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > cap:
            response.close()
            raise NetworkError(f"refused an answer of more than {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _at_most(request_data: RequestData, room: int) -> bytes:
    """getUpdates' JSON body asking for at most `room` updates (Telegram's limit is 1 to 100)."""
    parameters = request_data.json_parameters  # PTB's own encoding: each value already JSON
    limit = min(max(room, 1), 100, int(parameters.get("limit", 100)))
    return json.dumps({**parameters, "limit": str(limit)}).encode()


def _form(request_data: RequestData, files: dict[str, Any]) -> aiohttp.FormData:
    """multipart/form-data for a request with files, as PTB's own client sends it."""
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, *mimetype) in files.items():
        data = content if isinstance(content, bytes) else content.read()
        form.add_field(name, data, filename=filename,
                       content_type=(mimetype or [None])[0] or "application/octet-stream")
    return form


def gather_updates_while_busy(request: BaseRequest, busy: Callable[[], bool], seconds: float = 0.005,
                              room: Callable[[], Awaitable[int]] | None = None) -> None:
    """Under load, fetch updates in batches: each getUpdates costs about as much CPU as handling a tap, and
    a long poll returns as soon as one update is waiting, so a busy bot would otherwise fetch them one by one.
    An idle bot asks at once, so a lone tap waits for nothing.

    `room`, when given, is awaited before each getUpdates: a bot that already holds more updates than it can
    work on leaves the rest with Telegram until it has room, and then asks for no more than it has room for
    (`UpdateQueue.room`)."""
    if isinstance(request, AiohttpRequest):
        request.busy, request.gather_seconds, request.room = busy, seconds, room


class UpdateQueue(asyncio.Queue[object]):
    """PTB's update queue (`ApplicationBuilder.update_queue`), counting the updates in hand: put on the queue
    and not yet done (PTB calls `task_done` once an update's handlers have finished), whether they wait in the
    queue, wait for one of the `concurrent_updates` slots, or are being handled.

    `room()` returns how many more there is room for, once no more than half of `hold_at` are in hand.
    Polling waits for it and asks for no more: a bot that fetched far more than it can work on would
    hold them as parsed updates and tasks (memory, and CPU that grows with the backlog) while each fetch brought
    a few more, and a crash would lose every update fetched and confirmed but not handled. With the wait, the
    backlog stays with Telegram, which keeps updates for 24 hours and hands them over in order when the bot has
    room."""

    def __init__(self, hold_at: int) -> None:
        super().__init__()
        self.hold_at = hold_at
        self.in_hand = 0
        self._room: asyncio.Event | None = None

    def put_nowait(self, item: object) -> None:  # `put` calls it too
        super().put_nowait(item)
        self.in_hand += 1

    def task_done(self) -> None:
        super().task_done()  # raises ValueError, counting nothing, if called more often than put
        self.in_hand -= 1
        if self._room is not None and self.in_hand <= self.hold_at // 2:
            self._room.set()
            self._room = None

    async def room(self) -> int:
        """How many more updates there is room for (up to `hold_at` in hand), once no more than half of `hold_at`
        are in hand: beyond that some already wait for a slot, and asking now would bring only one or two."""
        while self.in_hand > self.hold_at // 2:
            if self._room is None:
                self._room = asyncio.Event()
            await self._room.wait()
        return self.hold_at - self.in_hand
