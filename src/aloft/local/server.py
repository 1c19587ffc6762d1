"""The local cloud's HTTP server: a bare ASGI app over uvicorn (httptools parser, uvloop loop).

Requests under `/_aloft/` and `/2015-03-31/` are offered to the control handler first; the rest
go to the gateway. The app is deliberately small: it is on every request's path.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Generator, MutableMapping
from typing import Any

import uvicorn

from aloft.errors import ProviderError
from aloft.local.gateway import Gateway
from aloft.local.types import ControlHandler, HttpRequest, HttpResponse

DEFAULT_PORT = 8750
CONTROL_PREFIXES = ("/_aloft/", "/2015-03-31/")
CONTROL_MAX_BODY = 64 * 2**20  # artifact uploads go through the control API
_HOP_BY_HOP = frozenset({b"content-length", b"transfer-encoding", b"connection", b"keep-alive"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _TooLarge(Exception):
    pass


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The request body, refusing (before reading it) one that declares more than `limit`."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise _TooLarge
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):
        return body  # the usual case: one message, no copy
    buffer = bytearray(body)
    while message.get("more_body"):
        message = await receive()
        buffer += message.get("body", b"")
        if len(buffer) > limit:
            raise _TooLarge
    return bytes(buffer)


def _encode_headers(response: HttpResponse, head: bool) -> list[tuple[bytes, bytes]]:
    headers: list[tuple[bytes, bytes]] = []
    declared: bytes | None = None
    for name, value in response.headers:
        key = name.lower().encode("latin-1")
        if key in _HOP_BY_HOP:
            if key == b"content-length":
                declared = value.encode("latin-1")
            continue
        headers.append((key, value.encode("latin-1")))
    status = response.status
    if status != 304 and status != 204 and not 100 <= status < 200:
        if head and declared is not None and not response.body:
            headers.append((b"content-length", declared))
        else:
            headers.append((b"content-length", str(len(response.body)).encode()))
    return headers


def create_app(gateway: Gateway, control: ControlHandler | None = None) -> ASGIApp:
    """The ASGI app serving the gateway (and the control handler's prefixes)."""
    max_body = gateway.max_body
    handle = gateway.handle

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan is off; websockets are not served
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else scope["path"]
        is_control = control is not None and path.startswith(CONTROL_PREFIXES)
        method = scope["method"]
        try:
            body = await _read_body(scope, receive, CONTROL_MAX_BODY if is_control else max_body)
        except _TooLarge:
            await _send(send, gateway.too_large(), method == "HEAD", close=True)
            return
        client = scope.get("client")
        request = HttpRequest(
            method,
            path,
            scope["query_string"].decode("latin-1"),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            body,
            client[0] if client else "127.0.0.1",
        )
        response: HttpResponse | None = None
        if is_control:
            assert control is not None
            response = await control.handle(request)
        if response is None:
            response = await handle(request)
        await _send(send, response, method == "HEAD")

    return app


async def _send(send: Send, response: HttpResponse, head: bool, *, close: bool = False) -> None:
    headers = _encode_headers(response, head)
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one), or a ProviderError saying why."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ProviderError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            fix="stop what uses that port, or choose another with --port",
        ) from None
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, started: asyncio.Event | None) -> None:
        super().__init__(config)
        self._started_event = started

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # signals belong to the platform's daemon, not to its HTTP server

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self._started_event is not None:
            self._started_event.set()


async def serve(
    app: ASGIApp,
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
    config = uvicorn.Config(
        app,
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        log_config=None,  # the daemon's logging is the daemon's: uvicorn leaves it alone
        server_header=False,
        proxy_headers=False,  # the client is local; X-Forwarded-* are the gateway's to set
        timeout_graceful_shutdown=5,
        backlog=2048,
    )
    server = _Server(config, started)
    task = asyncio.ensure_future(server.serve(sockets=[listener]))
    waits: set[asyncio.Future[Any]] = {task}
    if stop is not None:
        waits.add(asyncio.ensure_future(stop.wait()))
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.should_exit = True
        for waiter in waits - {task}:
            waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)
        if sock is None:
            listener.close()
    task.result()
