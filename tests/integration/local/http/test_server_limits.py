"""What the HTTP server refuses before anything runs, over real sockets: Host names that are not
its own (DNS rebinding), cross-site requests to the APIs that run code, heads over 10 KB, heads
that never finish, connections beyond the cap; and that healthy requests go on meanwhile."""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import pytest

from aloft.local.http.server import Limits, bind, create_app, serve
from aloft.local.types import HttpRequest, HttpResponse
from tests.integration.local.dataplane_helpers import LoopThread
from tests.waiting import wait_until

HEADER_TIMEOUT = 1.0
MAX_CONNECTIONS = 600


class EchoGateway:
    """The gateway's part of the server's interface: answers at once with what it got."""

    max_body = 10 * 2**20

    async def handle(self, request: HttpRequest) -> HttpResponse:
        body = json.dumps({"path": request.path, "host": request.header("host")}).encode()
        return HttpResponse(200, [("content-type", "application/json")], body)

    def too_large(self) -> HttpResponse:
        return HttpResponse(413, [("content-type", "application/json")], b"{}")


class Control:
    """Owns the Invoke API's and the dashboard's paths: says who got through."""

    async def handle(self, request: HttpRequest) -> HttpResponse | None:
        return HttpResponse(200, [("content-type", "text/plain")], b"control:" +
                            request.path.encode())


@dataclass
class Server:
    port: int
    limits: Limits


def _serve(limits: Limits) -> Iterator[Server]:
    loop = LoopThread()
    sock = bind("127.0.0.1", 0)
    stop = asyncio.Event()
    started = asyncio.Event()
    app = create_app(EchoGateway(), Control())  # type: ignore[arg-type]
    running = loop.submit(serve(app, started=started, stop=stop, sock=sock, limits=limits))
    loop.run(asyncio.wait_for(started.wait(), 10))
    yield Server(sock.getsockname()[1], limits)
    loop.loop.call_soon_threadsafe(stop.set)
    running.result(10)
    sock.close()
    loop.close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    yield from _serve(Limits(header_timeout=HEADER_TIMEOUT, max_connections=MAX_CONNECTIONS))


def exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send `data`, read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_all(sock)


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def status_of(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.1 ") else 0


def get(port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET",
        body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# -- Host: DNS rebinding ---------------------------------------------------------------------------


def test_only_its_own_host_names_are_answered(server: Server) -> None:
    port = server.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}",
                 f"shop.localhost:{port}", f"a.b-c.localhost:{port}", f"LOCALHOST:{port}"):
        status, body = get(port, "/svc/dev/", {"Host": host})
        assert status == 200 and json.loads(body)["host"] == host, host
    # a rebound name, this server's name on another port, a look-alike: 421 and nothing runs
    for host in (f"attacker.example:{port}", f"127.0.0.1:{port + 1}", "127.0.0.1",
                 f"localhost.attacker.example:{port}", f"-x.localhost:{port}", f"{port}"):
        status, body = get(port, "/svc/dev/", {"Host": host})
        assert status == 421, host
        assert "answers only to" in json.loads(body)["reason"]
    # HTTP/1.1 requires a Host; an HTTP/1.0 request without one cannot come from a browser
    raw = exchange(port, b"GET /svc/dev/ HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert status_of(raw) == 400
    raw = exchange(port, b"GET /svc/dev/ HTTP/1.0\r\n\r\n")
    assert status_of(raw) == 200


def test_a_misdirected_request_is_answered_before_its_body(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /2015-03-31/functions/f/invocations HTTP/1.1\r\n"
                     b"Host: rebound.example:80\r\nContent-Length: 1000000\r\n\r\n")
        head = sock.recv(65536)
    assert status_of(head) == 421


# -- Origin: cross-site requests ------------------------------------------------------------------


def test_cross_site_requests_to_the_apis_that_run_code_are_refused(server: Server) -> None:
    port = server.port
    invoke = "/2015-03-31/functions/svc-dev-f/invocations"
    other_port = f"http://127.0.0.1:{port + 1}"
    refused = [
        ("POST", invoke, {"Origin": other_port}),
        ("POST", invoke, {"Origin": "https://attacker.example"}),
        ("POST", invoke, {"Origin": "null"}),
        ("POST", invoke, {"Sec-Fetch-Site": "cross-site"}),
        ("GET", "/_aloft/api/status", {"Origin": other_port}),
        ("POST", "/_aloft/api/deploy", {"Sec-Fetch-Site": "cross-site"}),
        ("POST", "/_aloft/stages/svc/dev/rollback", {"Origin": other_port}),
        ("POST", "/_aloft/stages/svc/dev/rollback", {"Sec-Fetch-Site": "cross-site"}),
    ]
    for method, path, headers in refused:
        status, body = get(port, path, headers, method=method, body=b"{}")
        assert status == 403, (method, path, headers)
        assert "cross-site" in json.loads(body)["reason"]
    allowed = [
        ("POST", invoke, {}),  # a script (no browser headers): SigV4 decides, not this check
        ("POST", invoke, {"Origin": f"http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin"}),
        ("POST", "/_aloft/stages/svc/dev/rollback", {"Origin": f"http://localhost:{port}"}),
        # the dashboard's pages may be opened from a link anywhere (its actions may not)
        ("GET", "/_aloft/stages/svc/dev", {"Sec-Fetch-Site": "cross-site"}),
    ]
    for method, path, headers in allowed:
        status, body = get(port, path, headers, method=method, body=b"{}")
        assert (status, body) == (200, b"control:" + path.encode()), (method, path, headers)
    # the stages' routes are the user's app: other origins may call them (CORS is theirs)
    status, _ = get(port, "/svc/dev/api", {"Origin": other_port, "Sec-Fetch-Site": "cross-site"},
                    method="POST", body=b"{}")
    assert status == 200


# -- sizes ----------------------------------------------------------------------------------------


def test_a_request_line_and_headers_over_10_kb_get_431(server: Server) -> None:
    port = server.port
    host = f"127.0.0.1:{port}"
    status, _ = get(port, "/svc/dev/", {"Host": host, "X-Big": "a" * 9000})
    assert status == 200  # within the limit
    status, body = get(port, "/svc/dev/", {"Host": host, "X-Big": "a" * 10300})
    assert status == 431 and json.loads(body)["limit_bytes"] == 10 * 1024
    many = {f"X-H{i}": "b" * 90 for i in range(120)}  # many small headers add up too
    assert get(port, "/svc/dev/", {"Host": host, **many})[0] == 431
    # a head that arrives in many small reads is counted as well
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET /svc/dev/ HTTP/1.1\r\nHost: {host}\r\n".encode())
        for i in range(40):
            sock.sendall(f"X-Part{i}: {'c' * 500}\r\n".encode())
            time.sleep(0.002)  # apart: the head must come in many reads, as a slow client's
        assert status_of(read_all(sock)) == 431


def test_a_url_over_10_kb_gets_414(server: Server) -> None:
    status, body = get(server.port, "/svc/dev/?q=" + "x" * 10300)
    assert status == 414 and json.loads(body)["message"] == "Request-URI Too Long"
    assert get(server.port, "/svc/dev/?q=" + "x" * 9000)[0] == 200


def send_huge_header(port: int, size: int) -> tuple[bytes, int]:
    """Send a request whose one header is `size` bytes long, reading as it goes: (the answer,
    how much had been sent when it came). The server may reset the connection before the end:
    it dropped what it read, it need not read everything."""
    answer, answered_at, sent = b"", -1, 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET /svc/dev/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Huge: ".encode())
        chunk = b"h" * 2**20
        try:
            while sent < size:
                sock.sendall(chunk)
                sent += len(chunk)
                if answered_at < 0:
                    try:
                        answer = sock.recv(65536, socket.MSG_DONTWAIT)
                        answered_at = sent
                    except BlockingIOError:
                        pass
            if answered_at < 0:
                answer, answered_at = read_all(sock), sent
        except (ConnectionResetError, BrokenPipeError):
            pass
    return answer, answered_at


def test_a_huge_header_is_refused_after_one_read_not_buffered(server: Server) -> None:
    """A 128 MB header: the server answers 431 once it is past the limit and drops the rest
    unparsed (test_daemon_start measures the daemon's memory meanwhile)."""
    answer, answered_at = send_huge_header(server.port, 128 * 2**20)
    assert status_of(answer) == 431
    assert 0 < answered_at <= 8 * 2**20  # answered long before the header ended


def test_pipelined_requests_then_a_refused_head_are_answered_in_order(server: Server) -> None:
    host = f"127.0.0.1:{server.port}"
    good = f"GET /svc/dev/a HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    bad = f"GET /svc/dev/b HTTP/1.1\r\nHost: {host}\r\nX-Big: {'z' * 11000}\r\n\r\n".encode()
    raw = exchange(server.port, good + good + bad)
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", raw) == [b"200", b"200", b"431"]


# -- time and connections ------------------------------------------------------------------------


def test_a_head_that_does_not_arrive_in_time_gets_408_and_is_closed(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /svc/dev/ HTTP/1.1\r\nHost: 127.0.0.1")  # ... and nothing more
        answer = read_all(sock)
        waited = time.monotonic() - started
    assert status_of(answer) == 408
    # within the timeout plus the sweeper's allowance (one sweep early at worst, one late)
    assert HEADER_TIMEOUT <= waited < HEADER_TIMEOUT + 1.5


def answers(port: int) -> bool:
    return get(port, "/svc/dev/")[0] == 200


def test_connections_beyond_the_cap_get_503() -> None:
    for srv in _serve(Limits(max_connections=4)):
        held = [socket.create_connection(("127.0.0.1", srv.port), timeout=10) for _ in range(4)]
        try:
            for sock in held:  # each has been accepted and answered
                sock.sendall(f"GET /svc/dev/ HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n\r\n"
                             .encode())
                assert status_of(sock.recv(65536)) == 200
            raw = exchange(srv.port, b"")
            assert status_of(raw) == 503 and b"too many open connections" in raw
            held.pop().close()
            # its slot is free once the server saw it close
            wait_until(partial(answers, srv.port), timeout=5,
                       message="a slot freed by a closed connection to be reused")
        finally:
            for sock in held:
                sock.close()


def test_healthy_requests_go_on_while_hundreds_of_clients_stall(server: Server) -> None:
    """Slowloris: 400 connections each send part of a head and stall. Requests from a healthy
    client keep being answered meanwhile, and the stalled ones are closed at the timeout."""
    port = server.port
    stalled = []
    try:
        for i in range(400):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(f"GET /svc/dev/{i} HTTP/1.1\r\nHost: 127.0".encode())
            stalled.append(sock)

        def healthy(i: int) -> int:
            return get(port, f"/svc/dev/ok{i}")[0]

        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(healthy, range(200)))
        assert statuses == [200] * 200
        assert time.monotonic() - started < HEADER_TIMEOUT + 5
        for sock in stalled:  # every stalled one was answered 408 and closed
            assert status_of(read_all(sock)) == 408
    finally:
        for sock in stalled:
            sock.close()
