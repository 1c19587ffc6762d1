"""A Lambda handler written as Lambda's documentation advises, connecting once at import, in the
real local cloud: its dependency comes from requirements.txt (a layer), its template declines
to fork (each instance would share the socket), and instances that start as requests overlap
are forked from the layer's zygote, each running init and opening a connection of its own."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aloft.config.models import Service
from tests.integration.local.cloud_helpers import (
    Cloud,
    cloud_fixture,
    module_wheel,
    service,
    write_project,
)
from tests.waiting import wait_until

cloud = cloud_fixture()

DB_CLIENT = """
import socket


def connect(port):
    return socket.create_connection(("127.0.0.1", port))
"""
"""A database client library (the layer's), which connects when asked to."""

HANDLER = """
    import os
    import time

    import dbclient

    conn = dbclient.connect(int(os.environ["DB_PORT"]))  # once, at import (init)


    def rows(event, context):
        time.sleep(0.3)  # overlapping requests: more instances
        return {"pid": os.getpid(), "parent": os.getppid(),
                "local": conn.getsockname()[1]}
"""


@pytest.fixture
def database() -> Iterator[tuple[int, list[int]]]:
    """A server standing in for the database: the client ports of its connections."""
    seen: list[int] = []

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            seen.append(self.client_address[1])
            while self.request.recv(100):
                pass

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with Server(("127.0.0.1", 0), Handler) as srv:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        yield srv.server_address[1], seen
        srv.shutdown()


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALOFT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "build-cache"))


def _instances(cloud: Cloud, svc: Service) -> int:
    report = cloud.provider.status(svc).report
    return sum(int(f["instances"]) for f in report["functions"])


def test_instances_of_a_handler_that_connects_at_import(
    cloud: Cloud, tmp_path: Path, database: tuple[int, list[int]]
) -> None:
    port, seen = database
    root = write_project(tmp_path / "p", f"""
        service: connected
        functions:
          rows:
            handler: fns.rows
            concurrency: 4
            keep_alive: 1
            environment:
              DB_PORT: "{port}"
        stages:
          dev: {{}}
    """, {"fns.py": HANDLER})
    wheel = module_wheel(root, "dbclient", DB_CLIENT)
    (root / "requirements.txt").write_text(f"./{wheel.name}\n")
    svc = service(root)
    cloud.provider.deploy(svc)

    def call() -> dict[str, int]:
        result = cloud.provider.invoke(svc, "rows", {})
        assert result.error is None, (result.error, result.logs)
        answer: dict[str, int] = result.payload
        return answer

    answers: list[dict[str, int]] = []
    for _ in range(2):  # the template declines in the first; each is a new set of instances
        with ThreadPoolExecutor(4) as pool:
            answers += pool.map(lambda _: call(), range(8))
        wait_until(lambda: not _instances(cloud, svc), timeout=15,
                   message="its instances to stop (keep_alive: 1)")
    by_pid = {a["pid"]: a for a in answers}
    assert len(by_pid) >= 4
    # each instance's own connection, opened by its own init, which its requests use
    assert len({a["local"] for a in by_pid.values()}) == len(by_pid)
    assert {a["local"] for a in by_pid.values()} <= set(seen)
    zygote_forked = [a for a in by_pid.values()
                     if b"zygote" in Path(f"/proc/{a['parent']}/cmdline").read_bytes()]
    assert zygote_forked, json.dumps(answers)
