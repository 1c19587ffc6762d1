"""A connection a function opens at init (or in the priming request) lives in the template:
every instance forked from it would share one socket, and their conversations would interleave
(one instance's PostgreSQL rows read by another). The template closes it before forking: each
instance sees a connection its server closed and opens its own, and the log says so."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aloft.local.instances.pool import InstancePool
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


def test_instances_never_share_the_templates_connection(
    server: tuple[int, list[int]], tmp_path: Path
) -> None:
    port, seen = server
    fv = function_version(build_artifact(tmp_path / "code", {"fns.py": CLIENT.format(port=port)},
                                         {"ask": "fns.ask"}), "ask")
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
        loop.call(lambda: pool.drop_idle(fv.function))  # the next one is forked anew
        second = ask()
    finally:
        loop.run(pool.close())
        loop.close()
    assert first["pid"] != second["pid"]
    assert first["reconnected"] and second["reconnected"]
    assert first["local"] != second["local"]  # each its own connection
    assert {first["seen_from"], second["seen_from"]} == {first["local"], second["local"]}
    template_port = seen[0]
    assert template_port not in (first["local"], second["local"])
    logged = [text for *_, text in sink.lines if "aloft: closed the connection" in text]
    assert logged and f"127.0.0.1:{port}" in logged[0]
