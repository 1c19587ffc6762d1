"""A connection a function opens at init (or in the priming request) lives in the template:
every instance forked from it would share one socket, and their conversations would interleave
(one instance's PostgreSQL rows read by another). A function that declared SnapStart gets what
SnapStart does: the template closes it before forking, each instance sees a connection its
server closed and opens its own, and the log says so. Any other function gets what Lambda
does without SnapStart: its template declines to fork, and each instance starts fresh, runs
init and opens its own connection there, which its first request uses."""

from __future__ import annotations

import dataclasses
import json
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aloft.local.instances.pool import InstancePool
from aloft.local.types import FunctionVersion
from tests.integration.local.dataplane_helpers import (
    LoopThread,
    RecordingSink,
    build_artifact,
    function_version,
)

CLIENT = """
import os
import socket

PORT = {port}
_conn = socket.create_connection(("127.0.0.1", PORT))  # at init: in the template


def _ask():
    _conn.sendall(b"?")
    return _conn.recv(100)


def ask(event, context):
    global _conn
    try:
        reply = _ask()
    except OSError:
        reply = b""
    reconnected = not reply
    if reconnected:  # its server closed it: a new one, as a driver's pool does
        _conn = socket.create_connection(("127.0.0.1", PORT))
        reply = _ask()
    return {{"seen_from": int(reply), "local": _conn.getsockname()[1],
             "reconnected": reconnected, "pid": os.getpid()}}
"""


class _Echo(socketserver.BaseRequestHandler):
    """Answers every read with the port the connection comes from."""

    def handle(self) -> None:
        while self.request.recv(100):
            self.request.sendall(str(self.client_address[1]).encode())


@pytest.fixture
def server() -> Iterator[tuple[int, list[int]]]:
    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
    seen: list[int] = []

    class Recording(_Echo):
        def setup(self) -> None:
            seen.append(self.client_address[1])

    with Server(("127.0.0.1", 0), Recording) as srv:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        yield srv.server_address[1], seen
        srv.shutdown()


def _two_instances(fv: FunctionVersion) -> tuple[dict[str, int], dict[str, int], RecordingSink]:
    """Two requests, each on an instance of its own (the first dropped after its answer)."""
    sink = RecordingSink()
    loop = LoopThread()
    pool = InstancePool(sink)

    def ask() -> dict[str, int]:
        result = loop.run(pool.invoke(fv, b"{}"))
        assert result.status == "ok", (result.payload, sink.lines)
        answer: dict[str, int] = json.loads(result.payload)
        return answer

    try:
        first = ask()
        loop.call(lambda: pool.drop_idle(fv.function))  # the next one is a new instance
        second = ask()
    finally:
        loop.run(pool.close())
        loop.close()
    assert first["pid"] != second["pid"]
    assert first["local"] != second["local"]  # each its own connection
    assert {first["seen_from"], second["seen_from"]} == {first["local"], second["local"]}
    return first, second, sink


def test_with_snap_start_the_template_cuts_its_connection(
    server: tuple[int, list[int]], tmp_path: Path
) -> None:
    port, seen = server
    fv = function_version(build_artifact(tmp_path / "code", {"fns.py": CLIENT.format(port=port)},
                                         {"ask": "fns.ask"}), "ask")
    first, second, sink = _two_instances(dataclasses.replace(fv, snap_start=True))
    assert first["reconnected"] and second["reconnected"]  # as after a SnapStart restore
    template_port = seen[0]
    assert template_port not in (first["local"], second["local"])
    logged = [text for *_, text in sink.lines if "aloft: closed the connection" in text]
    assert logged and f"127.0.0.1:{port}" in logged[0]


def test_without_snap_start_instances_start_fresh_with_their_own(
    server: tuple[int, list[int]], tmp_path: Path
) -> None:
    """The Lambda handler that connects at import (`conn = psycopg.connect(...)`) works as on
    Lambda: no first query fails."""
    port, seen = server
    fv = function_version(build_artifact(tmp_path / "code", {"fns.py": CLIENT.format(port=port)},
                                         {"ask": "fns.ask"}), "ask")
    first, second, sink = _two_instances(fv)
    assert not first["reconnected"] and not second["reconnected"]
    # the template's own connection, then one made by each instance's init
    assert seen == [seen[0], first["local"], second["local"]]
    logged = [text for *_, text in sink.lines if "start fresh instead" in text]
    assert len(logged) == 1 and f"127.0.0.1:{port}" in logged[0]
    assert not any("aloft: closed the connection" in text for *_, text in sink.lines)
