"""The floor of the local cloud's design: the least a gateway process that hands each request to
a worker process of its own can cost, in Python, with none of Lambda's semantics.

    python bench/_relay.py PORT WORKERS DEPTH KIND MODULE:ATTR

A front process (uvloop, httptools: what uvicorn runs on) parses HTTP and sends each request,
packed with marshal, to one of WORKERS processes over a SOCK_SEQPACKET socketpair (no framing
to do); a worker answers with status, headers and body, and the front writes the response.
DEPTH is how many requests a worker may hold at once: 1 is Lambda's one request per instance
(the others wait in the front's FIFO queue), 2 a pipeline (the next request waits in the
worker's socket, so the worker need not sleep between two requests). KIND is how the worker
calls MODULE:ATTR: `asgi` (a bare `await app(scope, receive, send)` on a persistent loop,
after the lifespan's startup), `wsgi` (a bare environ), `handler` (a minimal HTTP API event,
the Lambda proxy result read back).

No logs, metrics, timeouts, concurrency limits, events or isolation: gateway_throughput.py
--floor runs it beside aloft and the alternative, so that aloft's distance to the design's
floor, and the floor's to the alternative, are measured in the same run.
"""

from __future__ import annotations

import asyncio
import collections
import importlib
import io
import marshal
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

MAX = 1 << 20
Request = tuple[str, str, bytes, list[tuple[bytes, bytes]], bytes]
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


def _asgi(app: Any) -> Callable[[Request], Answer]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    started = loop.create_future()
    messages: asyncio.Queue[dict[str, str]] = asyncio.Queue()

    async def life_receive() -> dict[str, str]:
        return await messages.get()

    async def life_send(message: dict[str, Any]) -> None:
        if not started.done():
            started.set_result(message["type"])

    messages.put_nowait({"type": "lifespan.startup"})
    lifespan = loop.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}},
                                    life_receive, life_send))
    loop.run_until_complete(started)

    def call(request: Request) -> Answer:
        method, path, query, headers, body = request
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": query, "root_path": "", "headers": headers,
                 "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 80)}
        head: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                head.update(message)
            else:
                chunks.append(message.get("body", b""))

        assert not lifespan.done(), "the app's lifespan ended"
        loop.run_until_complete(app(scope, receive, send))
        return head["status"], list(head.get("headers", [])), b"".join(chunks)

    return call


def _wsgi(app: Any) -> Callable[[Request], Answer]:
    def call(request: Request) -> Answer:
        method, path, query, headers, body = request
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query.decode(),
            "SCRIPT_NAME": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        }
        for name, value in headers:
            key = name.decode().upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            environ[key] = value.decode()
        status: list[str] = []
        out: list[tuple[bytes, bytes]] = []

        def start_response(line: str, pairs: list[tuple[str, str]], *_: Any) -> None:
            status.append(line)
            out.extend((k.encode(), v.encode()) for k, v in pairs)

        result = app(environ, start_response)
        try:
            data = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return int(status[0].split(" ", 1)[0]), out, data

    return call


def _handler(function: Any) -> Callable[[Request], Answer]:
    def call(request: Request) -> Answer:
        method, path, query, headers, body = request
        event = {"version": "2.0", "rawPath": path, "rawQueryString": query.decode(),
                 "headers": {k.decode(): v.decode() for k, v in headers},
                 "requestContext": {"http": {"method": method, "path": path}},
                 "body": body.decode(errors="replace"), "isBase64Encoded": False}
        result = function(event, None)
        pairs = [(k.encode(), str(v).encode()) for k, v in result.get("headers", {}).items()]
        return int(result.get("statusCode", 200)), pairs, str(result.get("body", "")).encode()

    return call


def worker(sock: socket.socket, kind: str, target: str) -> None:
    module, _, attr = target.partition(":")
    sys.path.insert(0, os.getcwd())
    obj = getattr(importlib.import_module(module), attr)
    call = {"asgi": _asgi, "wsgi": _wsgi, "handler": _handler}[kind](obj)
    recv, send = sock.recv, sock.send
    while True:
        data = recv(MAX)
        if not data:
            return
        send(marshal.dumps(call(marshal.loads(data))))


class Pool:
    """Requests to the worker holding the fewest, up to `depth` each; FIFO beyond that."""

    def __init__(self, socks: list[socket.socket], depth: int,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.socks, self.depth = socks, depth
        self.held: dict[socket.socket, collections.deque[Callable[[bytes], None]]] = {
            s: collections.deque() for s in socks}
        self.waiting: collections.deque[tuple[bytes, Callable[[bytes], None]]] = (
            collections.deque())
        for sock in socks:
            sock.setblocking(False)
            loop.add_reader(sock.fileno(), self._readable, sock)

    def submit(self, frame: bytes, reply: Callable[[bytes], None]) -> None:
        sock = min(self.socks, key=lambda s: len(self.held[s]))
        if len(self.held[sock]) < self.depth:
            self.held[sock].append(reply)
            sock.send(frame)
        else:
            self.waiting.append((frame, reply))

    def _readable(self, sock: socket.socket) -> None:
        while True:
            try:
                data = sock.recv(MAX)
            except BlockingIOError:
                return
            if not data:  # a worker died (its app failed to import, say): stop, not spin
                sys.exit("bench/_relay.py: a worker exited; see its traceback above")
            reply = self.held[sock].popleft()
            if self.waiting:
                frame, queued = self.waiting.popleft()
                self.held[sock].append(queued)
                sock.send(frame)
            reply(data)


REASONS = {200: b"OK", 404: b"Not Found", 500: b"Internal Server Error"}


class Http(asyncio.Protocol):
    def __init__(self, pool: Pool) -> None:
        import httptools

        self.pool = pool
        self.parser = httptools.HttpRequestParser(self)
        self.parse_url = httptools.parse_url
        self.transport: Any = None
        self.url, self.body = b"", b""
        self.headers: list[tuple[bytes, bytes]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's, not an asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_begin(self) -> None:
        self.headers, self.body = [], b""

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        url = self.parse_url(self.url)
        request = (self.parser.get_method().decode(), url.path.decode(), url.query or b"",
                   self.headers, self.body)
        self.pool.submit(marshal.dumps(request), self.respond)

    def respond(self, data: bytes) -> None:
        status, headers, body = marshal.loads(data)
        head = [b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, b"Unknown"))]
        head += [k + b": " + v + b"\r\n" for k, v in headers if k.lower() != b"content-length"]
        head.append(b"content-length: %d\r\n\r\n" % len(body))
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(head) + body)


def main() -> None:
    port, workers, depth, kind, target = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                          sys.argv[4], sys.argv[5])
    socks = []
    for _ in range(workers):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if os.fork() == 0:
            ours.close()
            worker(theirs, kind, target)
            os._exit(0)
        theirs.close()
        socks.append(ours)
    import uvloop

    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    pool = Pool(socks, depth, loop)
    loop.run_until_complete(loop.create_server(lambda: Http(pool), "127.0.0.1", port))
    loop.run_forever()


if __name__ == "__main__":
    main()
