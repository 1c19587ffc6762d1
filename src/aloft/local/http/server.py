"""The local cloud's HTTP server: HTTP/1.1 over asyncio (uvloop) with httptools' C parser.

Requests under `/_aloft/` and Lambda's API are offered to the control handler first; the rest
go to the gateway (at a stage's own host, `dev.shop.localhost`, every path is the app's). The
server is aloft's own rather than uvicorn's because it is on every request's path: no ASGI scope
or message dicts, no per-request keep-alive timer, and the whole response goes out in one
`transport.write` (one segment, one syscall), which is most of what separated the gateway from
gunicorn (see bench/gateway_throughput.py).

It refuses what API Gateway refuses, before anything runs: a `Host` that is not its own (421,
see sites.py), a cross-site request to the APIs that run code (403), a URL (414) or a request
line and headers (431) over 10 KB, a body over the gateway's limit (413), a request whose head
does not arrive within 10 s (408, closed), and connections beyond `Limits.max_connections`
(503). A refused head is not parsed any further: what the client still sends is read and
dropped, so a 128 MB header costs the daemon one read buffer, not 128 MB.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import socket
import time
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from typing import cast

import httptools

from aloft.errors import ProviderError
from aloft.local.http.gateway import Gateway
from aloft.local.http.sites import Site
from aloft.local.types import LAMBDA_API_PREFIXES, ControlHandler, HttpRequest, HttpResponse

DEFAULT_PORT = 8750
CONTROL_PREFIXES = ("/_aloft/", *LAMBDA_API_PREFIXES)
_CONTROL_PREFIXES_BYTES = tuple(p.encode() for p in CONTROL_PREFIXES)
# What every control prefix starts with: a stage's path fails this short test and skips the
# long one (Lambda's API has ten dated prefixes: 75 ns more per request otherwise).
_CONTROL_HEADS = ("/_aloft/", "/20")
_CONTROL_HEADS_BYTES = tuple(p.encode() for p in _CONTROL_HEADS)
assert all(p.startswith(_CONTROL_HEADS) for p in CONTROL_PREFIXES)
_DASHBOARD = b"/_aloft/"
_CONTROL_API = b"/_aloft/api/"
_READS = frozenset({b"GET", b"HEAD"})
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
LINGER = 2.0
"""Seconds a connection refused mid-request stays half-open (its answer sent, then FIN) while
what the client still sends is dropped: closing at once would reset the connection, and the
client could lose the answer."""
MAX_LINGERING = 256  # refused connections lingering at once; past it they close at once


@dataclass(frozen=True)
class Limits:
    """What one request and the server as a whole may take (API Gateway's figures)."""

    max_head: int = 10 * 1024  # request line + headers, bytes (HTTP APIs: 10240)
    header_timeout: float = 10.0  # seconds a request's head may take to arrive
    max_connections: int = 4096  # open connections; one more is answered 503 and closed
    keep_alive: float = KEEP_ALIVE  # seconds an idle keep-alive connection stays open


def _status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    return line if line is not None else f"HTTP/1.1 {status} \r\n".encode()


_date_cache: tuple[int, bytes] = (0, b"")


def _date_header() -> bytes:
    """`date: Mon, 23 Nov 2026 16:00:00 GMT`, cached per second (it is on every response)."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, time.strftime("date: %a, %d %b %Y %H:%M:%S GMT\r\n",
                                          time.gmtime(now)).encode())
    return _date_cache[1]


def encode_response(
    response: HttpResponse, head: bool = False, *, keep_alive: bool = True, http10: bool = False
) -> bytes:
    """The response's bytes on the wire: status line, headers (hop-by-hop ones replaced by the
    server's own), body. A header with CR or LF in it (a function's, say) makes a 502."""
    declared: str | None = None
    lines: list[str] = []
    append = lines.append
    for name, value in response.extra_headers:  # (`head`: checked and encoded already)
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
    out = b"".join((_status_line(status), _date_header(), response.head, head_bytes, b"\r\n"))
    return out if head or not body else out + body


def _refusal(status: int, message: str, **extra: object) -> HttpResponse:
    return HttpResponse(status, [("content-type", "application/json")],
                        json.dumps({"message": message, **extra}).encode())


def _overflow_answer() -> bytes:
    return encode_response(
        _refusal(503, "Service Unavailable", reason="too many open connections"),
        keep_alive=False)


class _Request:
    """A parsed request, for the connection's worker. (A plain class: compiled, its __init__
    is native; a dataclass's stays Python.)"""

    __slots__ = ("answer", "body", "control", "headers", "http10", "keep_alive", "method",
                 "path", "query")

    def __init__(self, method: str, path: str, query: str, headers: list[tuple[str, str]],
                 body: bytes, keep_alive: bool, http10: bool,
                 answer: HttpResponse | None,  # the server's own (413, 421, 431, ...)
                 control: bool) -> None:  # under a control prefix (there is a handler)
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.keep_alive = keep_alive
        self.http10 = http10
        self.answer = answer
        self.control = control


class _Refused(Exception):
    """Raised from a parser callback: the request's head is refused, parsing stops here."""

    def __init__(self, response: HttpResponse) -> None:
        self.response = response


class _Connection(asyncio.Protocol):
    """One client connection: parses requests, runs them one after another (HTTP/1.1 answers
    in order), writes each response in one piece."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self._max_head = server.limits.max_head
        self._hosts = server.site.hosts
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._client = "127.0.0.1"
        self._queue: deque[_Request] = deque()
        self._running = False  # a request is being answered
        self._worker: asyncio.Future[None] | None = None
        self._waiting: asyncio.Future[_Request | None] | None = None  # the idle worker's
        self._closing = False
        self._paused = False
        self._dropping = False  # refused mid-request: what still comes is read and dropped
        self.idle_since = time.monotonic()
        # The head being received: when it began (the server's coarse clock; 0: none is), and
        # byte counts that bound its size without a look at each header (see _head_refusal).
        self.head_since = 0.0
        self._received = 0  # bytes received on this connection
        self._read_start = 0  # ... before the current read
        self._head_start = 0  # ... before the read in which the head began
        self._head_end = 0  # ... up to the end of that read
        # the request being parsed
        self._url = b""
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []
        self._size = 0
        self._limit = 0
        self._answer: HttpResponse | None = None  # refused: the server answers, nothing runs
        self._rejected = False  # answered already (before its body): close when it ends
        self._control = False
        self._receiving = False  # between a request's first byte and its end (an upload)

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        server = self._server
        if len(server.connections) >= server.limits.max_connections:
            self._dropping = self._closing = True
            self._transport.write(_overflow_answer())
            self._linger()
            return
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and peer:
            self._client = str(peer[0])
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server.connections.add(self)

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
        if self._closing or self._dropping:
            return
        self._read_start = received = self._received
        self._received = received + len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # no protocol upgrades: the request was delivered as a plain one
        except httptools.HttpParserCallbackError as exc:
            refused = exc.__context__
            if isinstance(refused, _Refused):
                self._refuse_head(refused.response)
            else:
                self._fail()
        except httptools.HttpParserError:
            self._fail()
        else:
            # A head still incomplete: what came after the read in which it began is all head.
            # httptools keeps a header's pieces until the header ends, so a head over the limit
            # is refused here, one read after it passed the limit, not once it has all arrived.
            if self.head_since and self._received - self._head_end > self._max_head:
                self._refuse_head(self._head_refusal(True))

    def _fail(self) -> None:
        self._closing = True
        self._queue.clear()
        if self._transport is not None and not self._running:
            self._transport.write(_BAD_REQUEST)
            self._transport.close()

    def _linger(self) -> None:
        """Send FIN after the answer, drop what still comes, close after LINGER seconds."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        server = self._server
        if server.lingering >= MAX_LINGERING or not transport.can_write_eof():
            transport.close()
            return
        with contextlib.suppress(OSError, RuntimeError):
            transport.write_eof()
        server.lingering += 1

        def close() -> None:
            server.lingering -= 1
            transport.close()

        asyncio.get_running_loop().call_later(LINGER, close)

    # -- httptools callbacks ---------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._receiving = True
        self.head_since = self._server.now
        self._head_start = self._read_start
        self._head_end = self._received
        self._url = b""
        self._headers = []
        self._body = []
        self._size = 0
        self._answer = None
        self._rejected = False

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1").lower(), value.decode("latin-1")))

    def _head_refusal(self, over: bool) -> HttpResponse | None:
        """414 for a URL over the limit, 431 for a request line and headers over it (`over`:
        known to be over it), None when the head is within it."""
        limit = self._max_head
        if len(self._url) > limit:
            return _refusal(414, "Request-URI Too Long", limit_bytes=limit)
        size = len(self._url) + 16 + sum(len(k) + len(v) + 4 for k, v in self._headers)
        if over or size > limit:
            return _refusal(431, "Request Header Fields Too Large", limit_bytes=limit)
        return None

    def on_headers_complete(self) -> None:
        self.head_since = 0.0
        if self._received - self._head_start > self._max_head:  # the reads were: count
            refused = self._head_refusal(False)
            if refused is not None:
                raise _Refused(refused)
        server = self._server
        path = self._url.partition(b"?")[0]
        control = server.control is not None and path.startswith(_CONTROL_HEADS_BYTES) and \
            path.startswith(_CONTROL_PREFIXES_BYTES)
        self._control = control
        self._limit = CONTROL_MAX_BODY if control else server.max_body
        host: str | None = None
        length: str | None = None
        expect = False
        for name, value in self._headers:  # a loop beats dict() + get() for a few headers
            if name == "host":
                host = value
            elif name == "content-length":
                length = value
            elif name == "expect":
                expect = value.lower() == "100-continue"
        if control and host is not None and ".localhost" in host.lower():
            # A stage's own host (`dev.shop.localhost`): every path is the app's.
            control = self._control = False
            self._limit = server.max_body
        answer = None
        if host not in self._hosts and not server.site.host_ok(host) and (
                host is not None or not self._http10()):
            answer = server.misdirected(host)
        elif control:
            answer = self._from_another_site(path)
        if answer is None and length is not None and length.isdigit() and \
                int(length) > self._limit:
            answer = server.gateway.too_large()
        if answer is not None:
            self._answer = answer
            self._reject_early()
        elif expect and self._transport is not None:
            self._transport.write(_CONTINUE)

    def _from_another_site(self, path: bytes) -> HttpResponse | None:
        """403 for a control request that a browser sent from another site (see sites.py)."""
        origin = fetch_site = None
        for name, value in self._headers:
            if name == "origin":
                origin = value
            elif name == "sec-fetch-site":
                fetch_site = value
        if origin is None and fetch_site is None:
            return None
        return self._server.cross_site(path, self._parser.get_method(), origin, fetch_site)

    def _http10(self) -> bool:
        return self._parser.get_http_version() == "1.0"

    def _reject_early(self) -> None:
        """Answer a refused request before its body arrives (when no earlier request is still
        answering), so that the client need not upload it; the connection closes once the
        request has ended."""
        if self._running or self._queue or self._transport is None or self._answer is None:
            return  # answered in order, at the end of the request
        self._rejected = True
        self._transport.write(encode_response(self._answer, keep_alive=False))

    def on_body(self, body: bytes) -> None:
        if self._answer is not None:
            return
        self._size += len(body)
        if self._size > self._limit:
            self._answer = self._server.gateway.too_large()
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
        answer = self._answer
        request = _Request(
            parser.get_method().decode("latin-1"),
            path.decode("latin-1"),
            query.decode("latin-1"),
            self._headers,
            body[0] if len(body) == 1 else b"".join(body),
            parser.should_keep_alive() and answer is None,
            parser.get_http_version() == "1.0",
            answer,
            self._control,
        )
        self._body = []
        waiting = self._waiting
        if waiting is not None:  # the worker is idle: hand it the request (the hot path)
            self._waiting = None
            self._running = True
            waiting.set_result(request)
        else:
            self._deliver(request)

    def _refuse_head(self, response: HttpResponse | None) -> None:
        """Answer a request whose head is refused (in order) and stop reading requests: the
        parser cannot resume in the middle of a head."""
        self._dropping = True
        self._receiving = False
        self.head_since = 0.0
        assert response is not None
        self._deliver(_Request("GET", "", "", [], b"", False, False, response, False))

    def _deliver(self, request: _Request) -> None:
        """Hand a parsed request to the connection's worker (started if need be)."""
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
            if request.answer is not None:
                response = request.answer
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
                if self._dropping:
                    self._linger()
                else:
                    transport.close()
                break
        self._running = False
        self.idle_since = time.monotonic()

    # -- server side -----------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        return not self._running and not self._queue and not self._receiving

    def head_timed_out(self) -> None:
        """Its head did not arrive in time: 408 when no answer is due before it, then close."""
        self.head_since = 0.0
        transport = self._transport
        if transport is not None and not self._running and not self._queue:
            transport.write(encode_response(_refusal(408, "Request Timeout"), keep_alive=False))
        self.close()

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
        path = request.path
        if self.control is not None and path.startswith(_CONTROL_HEADS) and \
                path.startswith(CONTROL_PREFIXES) and \
                ".localhost" not in (request.header("host") or "").lower():
            response = await self.control.handle(request)
            if response is not None:
                return response
        return await self.gateway.handle(request)


def create_app(gateway: Gateway, control: ControlHandler | None = None) -> App:
    """The app serving the gateway (and the control handler's prefixes)."""
    return App(gateway, control)


class _Server:
    def __init__(self, app: App, port: int, limits: Limits) -> None:
        self.app = app
        self.gateway = app.gateway
        self.control = app.control
        self.max_body = app.max_body
        self.limits = limits
        self.site = Site.on(port)
        self.connections: set[_Connection] = set()
        self.tasks: set[asyncio.Future[None]] = set()
        self.stopping = False
        self.lingering = 0  # refused connections waiting to close (see _Connection._linger)
        self.now = time.monotonic()  # a coarse clock, set by the sweeper: no call per request

    def log_exception(self) -> None:
        import logging

        logging.getLogger("aloft.local.server").exception("the server failed a request")

    def misdirected(self, host: str | None) -> HttpResponse:
        if host is None:
            return _refusal(400, "Bad Request", reason="an HTTP/1.1 request needs a Host header")
        port = self.site.port
        return _refusal(421, "Misdirected Request", reason=(
            f"this server answers only to 127.0.0.1:{port}, localhost:{port}, [::1]:{port} and "
            f"*.localhost:{port}, not {host[:200]!r}"))

    def cross_site(self, path: bytes, method: bytes, origin: str | None,
                   fetch_site: str | None) -> HttpResponse | None:
        """403 for a request from another site to an API that runs code: the Invoke API, the
        control API, the dashboard's actions (its pages may be opened from anywhere)."""
        if method in _READS and path.startswith(_DASHBOARD) and \
                not path.startswith(_CONTROL_API):
            return None
        why = self.site.foreign(origin, fetch_site)
        if why is None:
            return None
        return _refusal(403, "Forbidden", reason=(
            f"a cross-site request to the local cloud's {path[:40].decode('latin-1')} is "
            f"refused ({why})"))

    def sweep(self, now: float) -> None:
        """Close keep-alive connections idle for longer than `keep_alive`, and those whose
        request head took longer than `header_timeout` (one timer per server, not one per
        request)."""
        keep_alive, header_timeout = self.limits.keep_alive, self.limits.header_timeout
        # A head's start is read off the coarse clock, up to one sweep early: allow for it.
        header_timeout += sweep_interval(self.limits)
        self.now = now
        for conn in list(self.connections):
            if conn.head_since and now - conn.head_since > header_timeout:
                conn.head_timed_out()
            elif conn.idle and now - conn.idle_since > keep_alive:
                conn.close()

    def close_idle(self) -> None:
        for conn in list(self.connections):
            if conn.idle:
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
    limits: Limits | None = None,
) -> None:
    """Serve `app` until `stop` is set or this coroutine is cancelled; either way the server
    stops accepting, lets in-flight requests finish (up to 5 s) and closes its connections.
    `sock` serves an already bound socket (see `bind`) instead of host:port."""
    listener = sock or bind(host, port)
    loop = asyncio.get_running_loop()
    state = _Server(app, listener.getsockname()[1], limits or Limits())
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


def sweep_interval(limits: Limits) -> float:
    return max(0.05, min(1.0, limits.header_timeout / 4, limits.keep_alive / 4))


async def _sweep(state: _Server) -> None:
    interval = sweep_interval(state.limits)
    while True:
        await asyncio.sleep(interval)
        state.sweep(time.monotonic())

