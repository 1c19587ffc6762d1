"""The local cloud's HTTP server: HTTP/1.1 over asyncio (uvloop) with httptools' C parser.

Requests under `/_aloft/` and `/2015-03-31/` are offered to the control handler first; the rest
go to the gateway. The server is aloft's own rather than uvicorn's because it is on every
request's path: no ASGI scope or message dicts, no per-request keep-alive timer, and the whole
response goes out in one `transport.write` (one segment, one syscall), which is most of what
separated the gateway from gunicorn (see bench/gateway_throughput.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import time
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from typing import cast

import httptools

from aloft.errors import ProviderError
from aloft.local.http.gateway import Gateway
from aloft.local.types import ControlHandler, HttpRequest, HttpResponse

DEFAULT_PORT = 8750
CONTROL_PREFIXES = ("/_aloft/", "/2015-03-31/")
_CONTROL_PREFIXES_BYTES = tuple(p.encode() for p in CONTROL_PREFIXES)
CONTROL_MAX_BODY = 64 * 2**20  # artifact uploads go through the control API
KEEP_ALIVE = 5.0  # seconds an idle keep-alive connection stays open (uvicorn's default)
GRACEFUL_SHUTDOWN = 5.0  # seconds in-flight requests get to finish at shutdown
MAX_PIPELINED = 32  # parsed requests queued on one connection before reading pauses
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
_NO_BODY = frozenset({204, 304})
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_BAD_REQUEST = (
    b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 11\r\nconnection: close\r\n\r\nBad Request"
)
_STATUS_LINES = {
    int(s): f"HTTP/1.1 {int(s)} {s.phrase}\r\n".encode() for s in HTTPStatus
}

def _status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    return line if line is not None else f"HTTP/1.1 {status} \r\n".encode()


_date_cache: tuple[int, str] = (0, "")


def _date_header() -> str:
    """`date: Mon, 23 Nov 2026 16:00:00 GMT`, cached per second (it is on every response)."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, time.strftime("date: %a, %d %b %Y %H:%M:%S GMT\r\n", time.gmtime(now)))
    return _date_cache[1]


def encode_response(
    response: HttpResponse, head: bool = False, *, keep_alive: bool = True, http10: bool = False
) -> bytes:
    """The response's bytes on the wire: status line, headers (hop-by-hop ones replaced by the
    server's own), body. A header with CR or LF in it (a function's, say) makes a 502."""
    declared: str | None = None
    lines = [_date_header()]
    append = lines.append
    for name, value in response.headers:
        key = name.lower()
        if key in _HOP_BY_HOP:
            if key == "content-length":
                declared = value
            continue
        append(f"{key}: {value}\r\n")
    status = response.status
    body = response.body
    if status not in _NO_BODY and status >= 200:
        length = declared if head and declared is not None and not body else str(len(body))
        append(f"content-length: {length}\r\n")
    if not keep_alive:
        append("connection: close\r\n")
    elif http10:
        append("connection: keep-alive\r\n")
    text = "".join(lines)
    # Every line ends in exactly one CRLF: any other CR or LF would split a header (injection).
    if text.count("\n") != len(lines) or text.count("\r") != len(lines):
        return encode_response(
            HttpResponse(502, [("content-type", "application/json")],
                         b'{"message": "Internal Server Error"}'),
            head, keep_alive=keep_alive, http10=http10,
        )
    try:
        head_bytes = text.encode("latin-1")
    except UnicodeEncodeError:
        head_bytes = text.encode("latin-1", "replace")
    out = _status_line(status) + head_bytes + b"\r\n"
    return out if head or not body else out + body


@dataclass(slots=True)
class _Request:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    keep_alive: bool
    http10: bool
    too_large: bool
    control: bool  # under a control prefix (and there is a control handler)


class _Connection(asyncio.Protocol):
    """One client connection: parses requests, runs them one after another (HTTP/1.1 answers
    in order), writes each response in one piece."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._client = "127.0.0.1"
        self._queue: deque[_Request] = deque()
        self._running = False  # a request is being answered
        self._worker: asyncio.Future[None] | None = None
        self._waiting: asyncio.Future[_Request | None] | None = None  # the idle worker's
        self._closing = False
        self._paused = False
        self.idle_since = time.monotonic()
        # the request being parsed
        self._url = b""
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._size = 0
        self._limit = 0
        self._too_large = False
        self._rejected = False  # answered 413 already: close when the request ends
        self._control = False
        self._receiving = False  # between a request's first byte and its end (an upload)

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and peer:
            self._client = str(peer[0])
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._queue.clear()
        self._server.connections.discard(self)
        self._wake_idle_worker()

    def _wake_idle_worker(self) -> None:
        waiting = self._waiting
        if waiting is not None:
            self._waiting = None
            if not waiting.done():
                waiting.set_result(None)

    def data_received(self, data: bytes) -> None:
        if self._closing:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # no protocol upgrades: the request was delivered as a plain one
        except httptools.HttpParserError:
            self._fail()

    def _fail(self) -> None:
        self._closing = True
        self._queue.clear()
        if self._transport is not None and not self._running:
            self._transport.write(_BAD_REQUEST)
            self._transport.close()

    # -- httptools callbacks ---------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._receiving = True
        self._url = b""
        self._headers = []
        self._body = []
        self._size = 0
        self._too_large = False
        self._rejected = False

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1").lower(), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        path = self._url.partition(b"?")[0]
        control = self._server.control is not None and path.startswith(
            _CONTROL_PREFIXES_BYTES
        )
        self._control = control
        self._limit = CONTROL_MAX_BODY if control else self._server.max_body
        expect = False
        for name, value in self._headers:
            if name == "content-length":
                if value.isdigit() and int(value) > self._limit:
                    self._too_large = True
            elif name == "expect" and value.lower() == "100-continue":
                expect = True
        if self._too_large:
            self._reject_early()
        elif expect and self._transport is not None:
            self._transport.write(_CONTINUE)

    def _reject_early(self) -> None:
        """Answer 413 before the body arrives (when no earlier request is still answering), so
        that the client need not upload it; the connection closes once the request has ended."""
        if self._running or self._queue or self._transport is None:
            return  # answered in order, at the end of the request
        self._rejected = True
        response = self._server.gateway.too_large()
        self._transport.write(encode_response(response, keep_alive=False))

    def on_body(self, body: bytes) -> None:
        if self._too_large:
            return
        self._size += len(body)
        if self._size > self._limit:
            self._too_large = True
            self._body = []
            self._reject_early()
        else:
            self._body.append(body)

    def on_message_complete(self) -> None:
        self._receiving = False
        if self._rejected:
            self._closing = True
            if self._transport is not None:
                self._transport.close()
            return
        parser = self._parser
        path, _, query = self._url.partition(b"?")
        body = self._body
        request = _Request(
            parser.get_method().decode("latin-1"),
            path.decode("latin-1"),
            query.decode("latin-1"),
            self._headers,
            body[0] if len(body) == 1 else b"".join(body),
            parser.should_keep_alive() and not self._too_large,
            parser.get_http_version() == "1.0",
            self._too_large,
            self._control,
        )
        self._body = []
        waiting = self._waiting
        if waiting is not None:  # the worker is idle: hand it the request
            self._waiting = None
            self._running = True
            waiting.set_result(request)
            return
        self._queue.append(request)
        if self._worker is None:
            self._running = True
            self._worker = worker = asyncio.ensure_future(self._work())
            self._server.tasks.add(worker)
            worker.add_done_callback(self._server.tasks.discard)
        elif len(self._queue) >= MAX_PIPELINED and self._transport is not None:
            self._transport.pause_reading()
            self._paused = True

    # -- running requests ------------------------------------------------------------------------

    async def _work(self) -> None:
        """The connection's one worker task: its requests one after another (a task per
        connection, not per request; between requests it waits on a future)."""
        server = self._server
        loop = asyncio.get_running_loop()
        while True:
            if self._queue:
                request = self._queue.popleft()
                if self._paused and len(self._queue) < MAX_PIPELINED // 2:
                    self._paused = False
                    if self._transport is not None:
                        self._transport.resume_reading()
            else:
                self._running = False
                self.idle_since = time.monotonic()
                if self._closing:  # a parse error or the server stopping: nothing more comes
                    if self._transport is not None:
                        self._transport.close()
                    return
                self._waiting = waiting = loop.create_future()
                got = await waiting
                if got is None:  # the connection closed
                    return
                request = got
            self._running = True
            head = request.method == "HEAD"
            if request.too_large:
                response = server.gateway.too_large()
            else:
                http_request = HttpRequest(request.method, request.path, request.query,
                                           request.headers, request.body, self._client)
                try:
                    if request.control:
                        response = await server.app.handle(http_request)
                    else:  # straight to the gateway: one coroutine level less on the hot path
                        response = await server.gateway.handle(http_request)
                except Exception:  # a bug of ours: the client gets a 500, the server goes on
                    server.log_exception()
                    response = HttpResponse(500, [("content-type", "text/plain")],
                                            b"Internal Server Error")
            keep_alive = request.keep_alive and not server.stopping
            transport = self._transport
            if transport is None or transport.is_closing():
                break
            transport.write(
                encode_response(response, head, keep_alive=keep_alive, http10=request.http10)
            )
            if not keep_alive:
                self._closing = True
                transport.close()
                break
        self._running = False
        self.idle_since = time.monotonic()

    # -- server side -----------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        return not self._running and not self._queue and not self._receiving

    def close(self) -> None:
        self._closing = True
        self._wake_idle_worker()
        if self._transport is not None:
            self._transport.close()


class App:
    """What `serve` serves: the gateway, and the control handler for its prefixes."""

    def __init__(self, gateway: Gateway, control: ControlHandler | None) -> None:
        self.gateway = gateway
        self.control = control
        self.max_body = gateway.max_body

    async def handle(self, request: HttpRequest) -> HttpResponse:
        if self.control is not None and request.path.startswith(CONTROL_PREFIXES):
            response = await self.control.handle(request)
            if response is not None:
                return response
        return await self.gateway.handle(request)


def create_app(gateway: Gateway, control: ControlHandler | None = None) -> App:
    """The app serving the gateway (and the control handler's prefixes)."""
    return App(gateway, control)


class _Server:
    def __init__(self, app: App) -> None:
        self.app = app
        self.gateway = app.gateway
        self.control = app.control
        self.max_body = app.max_body
        self.connections: set[_Connection] = set()
        self.tasks: set[asyncio.Future[None]] = set()
        self.stopping = False

    def log_exception(self) -> None:
        import logging

        logging.getLogger("aloft.local.server").exception("the server failed a request")

    def close_idle(self, older_than: float | None = None) -> None:
        now = time.monotonic()
        for conn in list(self.connections):
            if conn.idle and (older_than is None or now - conn.idle_since > older_than):
                conn.close()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one), or a ProviderError saying why."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE and port:
            from aloft.local.http.ports import port_taken_error

            raise port_taken_error(port) from None
        raise ProviderError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            fix="stop what uses that port, or choose another with --port",
        ) from None
    sock.setblocking(False)
    return sock


async def serve(
    app: App,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    started: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Serve `app` until `stop` is set or this coroutine is cancelled; either way the server
    stops accepting, lets in-flight requests finish (up to 5 s) and closes its connections.
    `sock` serves an already bound socket (see `bind`) instead of host:port."""
    listener = sock or bind(host, port)
    loop = asyncio.get_running_loop()
    state = _Server(app)
    server = await loop.create_server(lambda: _Connection(state), sock=listener, backlog=2048)
    if started is not None:
        started.set()
    sweeper = asyncio.ensure_future(_sweep(state))
    try:
        if stop is not None:
            await stop.wait()
        else:
            await asyncio.Future()  # until cancelled
    finally:
        state.stopping = True
        sweeper.cancel()
        server.close()  # stop accepting (the listener stays open when it was given to us)
        state.close_idle()
        deadline = loop.time() + GRACEFUL_SHUTDOWN
        while state.connections and loop.time() < deadline:  # in-flight requests finish
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(asyncio.sleep(0.02))
            state.close_idle()
        for task in list(state.tasks):
            task.cancel()
        for conn in list(state.connections):
            conn.close()
        await asyncio.sleep(0)  # let the transports' close callbacks run
        if sock is None:
            listener.close()


async def _sweep(state: _Server) -> None:
    """Close keep-alive connections idle for longer than KEEP_ALIVE (one timer per server, not
    one per request)."""
    while True:
        await asyncio.sleep(1.0)
        state.close_idle(KEEP_ALIVE)

