"""The HTTP server for real: on a free port, requests over a socket with http.client (and raw)."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
from collections.abc import Iterator

import pytest

from aloft.local.http.gateway import Gateway
from aloft.local.http.server import Limits, bind, create_app, serve
from aloft.local.instances.pool import InstancePool
from aloft.local.types import (
    FunctionVersion,
    HttpRequest,
    HttpResponse,
    Route,
    StageRoutes,
)
from tests.integration.local.dataplane_helpers import (
    LoopThread,
    RecordingSink,
    build_artifact,
    function_version,
)

FNS = '''
import base64


def echo(event, context):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("latin-1")
    return {"statusCode": 200, "headers": {"content-type": "text/plain", "x-len": len(body)},
            "body": body}
'''


KEEP_ALIVE_S = 0.3


class OneStage:
    def __init__(self, fv: FunctionVersion) -> None:
        self.fv = fv
        self.stage = StageRoutes("svc", "dev", (Route("ANY", "/{proxy+}", fv.function),))

    def stage_for_path(self, path: str) -> tuple[StageRoutes, str] | None:
        if path.startswith("/svc/dev/"):
            return self.stage, path[len("/svc/dev"):]
        return None

    def current(self, function: str) -> FunctionVersion | None:
        return self.fv

    def stages(self) -> list[StageRoutes]:
        return [self.stage]


class Control:
    """A control handler that owns /_aloft/api/ping and nothing else."""

    def __init__(self) -> None:
        self.seen: list[HttpRequest] = []

    async def handle(self, request: HttpRequest) -> HttpResponse | None:
        self.seen.append(request)
        if request.path == "/_aloft/api/ping":
            return HttpResponse(200, [("content-type", "text/plain")], b"pong:" + request.body)
        return None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Control]]:
    loop = LoopThread()
    root = tmp_path_factory.mktemp("server")
    code = build_artifact(root / "code", {"fns.py": FNS}, {"echo": "fns.echo"})
    control = Control()
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    stop = asyncio.Event()
    started = asyncio.Event()

    async def run() -> None:
        pool = InstancePool(RecordingSink())
        gateway = Gateway(OneStage(function_version(code, "echo")), pool, max_body=1024)
        try:
            await serve(create_app(gateway, control), started=started, stop=stop, sock=sock,
                        limits=Limits(keep_alive=KEEP_ALIVE_S))
        finally:
            await pool.close()

    running = loop.submit(run())
    loop.run(asyncio.wait_for(started.wait(), 10))
    yield port, control
    loop.loop.call_soon_threadsafe(stop.set)
    running.result(10)
    sock.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    loop.close()


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_request_through_the_gateway(server: tuple[int, Control]) -> None:
    port, _ = server
    status, headers, body = request(port, "POST", "/svc/dev/x?y=1", b"hello")
    assert status == 200 and body == b"hello"
    assert headers["content-length"] == "5" and headers["x-len"] == "5"
    assert "apigw-requestid" in headers and "server" not in headers


def test_chunked_request_body(server: tuple[int, Control]) -> None:
    port, _ = server
    chunks = iter([b"ab", b"cd", b"ef"])
    status, _, body = request(port, "POST", "/svc/dev/x", chunks)  # type: ignore[arg-type]
    assert status == 200 and body == b"abcdef"


def test_too_large(server: tuple[int, Control]) -> None:
    port, _ = server
    status, _, body = request(port, "POST", "/svc/dev/x", b"x" * 2000)
    assert status == 413 and json.loads(body)["message"] == "Request Entity Too Large"
    chunks = iter([b"x" * 600, b"x" * 600])
    status, _, _ = request(port, "POST", "/svc/dev/x", chunks)  # type: ignore[arg-type]
    assert status == 413


def test_control_prefixes_go_to_the_control_handler_first(server: tuple[int, Control]) -> None:
    port, control = server
    status, _, body = request(port, "POST", "/_aloft/api/ping", b"x" * 2000)  # its own limit
    assert status == 200 and body == b"pong:" + b"x" * 2000
    status, _, body = request(port, "GET", "/2015-03-31/functions/f/invocations")
    assert status == 404  # not the control handler's: the gateway's 404 with the stages
    assert json.loads(body)["stages"] == [f"http://127.0.0.1:{port}/svc/dev/"]
    assert [r.path for r in control.seen][-2:] == ["/_aloft/api/ping",
                                                   "/2015-03-31/functions/f/invocations"]
    request(port, "GET", "/svc/dev/not-control")
    assert control.seen[-1].path != "/svc/dev/not-control"


def test_head(server: tuple[int, Control]) -> None:
    port, _ = server
    status, _, body = request(port, "HEAD", "/svc/dev/x")
    assert status == 200 and body == b""


def test_port_in_use_is_a_provider_error(server: tuple[int, Control]) -> None:
    from aloft.errors import ProviderError

    port, _ = server
    # the server runs in this test process: the error names it by its pid
    with pytest.raises(ProviderError, match=f"port {port} is taken by another program "
                       rf"\(pid {os.getpid()}: "):
        bind("127.0.0.1", port)




def raw_exchange(port: int, data: bytes, *, until_close: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if not until_close and b"\r\n\r\n" in b"".join(chunks):
                break
        return b"".join(chunks)


def test_pipelined_requests_are_answered_in_order_on_one_connection(
    server: tuple[int, Control],
) -> None:
    port, _ = server
    requests = b"".join(
        f"POST /svc/dev/x HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-length: {len(b)}\r\n"
        f"\r\n{b}".encode()
        for b in ("one", "two", "three")
    ) + f"GET /svc/dev/x HTTP/1.1\r\nhost: localhost:{port}\r\nconnection: close\r\n\r\n".encode()
    out = raw_exchange(port, requests)
    assert out.count(b"HTTP/1.1 200 OK\r\n") == 4
    assert out.index(b"one") < out.index(b"two") < out.index(b"three")
    assert out.rstrip().endswith(b"\r\n\r\n") or b"connection: close" in out


def test_http10_closes_after_the_response(server: tuple[int, Control]) -> None:
    port, _ = server
    out = raw_exchange(port, b"POST /svc/dev/x HTTP/1.0\r\ncontent-length: 2\r\n\r\nhi")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and out.endswith(b"hi")
    assert b"connection: close" in out.lower() and b"date: " in out


def test_garbage_gets_400_and_close(server: tuple[int, Control]) -> None:
    port, _ = server
    out = raw_exchange(port, b"NOT HTTP AT ALL\x00\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 Bad Request\r\n")


def test_expect_100_continue(server: tuple[int, Control]) -> None:
    port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST /svc/dev/x HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
                     "content-length: 3\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n"
                     .encode())
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"abc")
        rest = b""
        while chunk := sock.recv(65536):
            rest += chunk
    assert rest.startswith(b"HTTP/1.1 200 OK") and rest.endswith(b"abc")


def test_too_large_is_answered_before_the_body(server: tuple[int, Control]) -> None:
    port, _ = server
    out = raw_exchange(port, f"POST /svc/dev/x HTTP/1.1\r\nhost: [::1]:{port}\r\n"
                             "content-length: 5000\r\nexpect: 100-continue\r\n\r\n".encode(),
                       until_close=False)
    assert out.startswith(b"HTTP/1.1 413 Request Entity Too Large\r\n")


def test_a_header_with_a_line_break_is_not_sent() -> None:
    from aloft.local.http.server import encode_response

    out = encode_response(HttpResponse(200, [("x-a", "1\r\nset-cookie: evil=1")], b"ok"))
    assert out.startswith(b"HTTP/1.1 502 Bad Gateway\r\n") and b"evil" not in out
    out = encode_response(HttpResponse(200, [("x-a", "1")], b"ok"), head=True)
    assert out.endswith(b"content-length: 2\r\n\r\n")


def test_keep_alive_closes_idle_connections_not_slow_uploads(
    server: tuple[int, Control],
) -> None:
    port, _ = server  # its keep-alive is KEEP_ALIVE_S
    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow, \
            socket.create_connection(("127.0.0.1", port), timeout=10) as idle:
        # The upload stalls first: when the sweeper closes the idle connection, the upload has
        # been silent for longer than it.
        slow.sendall(f"POST /svc/dev/x HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n"
                     "content-length: 4\r\n\r\nab".encode())
        idle.sendall(f"GET /svc/dev/x HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n\r\n".encode())
        assert idle.recv(65536).startswith(b"HTTP/1.1 200 OK")
        assert idle.recv(100) == b""  # closed by the server (recv waits up to the timeout)
        slow.sendall(b"cd")
        assert slow.recv(65536).startswith(b"HTTP/1.1 200 OK")  # the upload was not cut
