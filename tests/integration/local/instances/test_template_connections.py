"""A connection a function opens at init (or in the priming request) lives in the template:
every instance forked from it would share one socket, and their conversations would interleave
(one instance's PostgreSQL rows read by another). A function that declared SnapStart gets what
SnapStart does: the template closes it before forking, each instance sees a connection its
server closed and opens its own, and the log says so. Any other function gets what Lambda
does without SnapStart: its template declines to fork, and each instance runs init and opens
its own connection there, which its first request uses. Such an instance starts fresh, or,
with a dependency layer, is forked from the layer's zygote (no new Python, no layer import)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import socketserver
import threading
import time
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
from tests.integration.local.instances.test_isolation import isolated_home
from tests.integration.local.instances.test_pool_zygote import dep_layer, wait_for_zygote
from tests.waiting import wait_until

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
    logged = [text for *_, text in sink.lines if "runs init instead" in text]
    assert len(logged) == 1 and f"127.0.0.1:{port}" in logged[0]
    assert not any("aloft: closed the connection" in text for *_, text in sink.lines)


LOOK = """

def look(event, context):
    if event.get("crash"):
        os.kill(os.getpid(), signal.SIGSEGV)
    read = {}
    for path in event.get("read", ()):
        try:
            with open(path, "rb") as fh:
                fh.read(1)
            read[path] = "ok"
        except OSError as exc:
            read[path] = type(exc).__name__
    return {**ask(event, context), "dep_loaded_by": dep.LOADED_BY, "parent": os.getppid(),
            "read": read}
"""


def _layered(root: Path, port: int) -> FunctionVersion:
    """A function that connects at import, on a layer whose module takes 0.3 s to import."""
    client = CLIENT.format(port=port).replace("import os\n",
                                              "import os\nimport signal\nimport dep\n")
    code = build_artifact(root / "code", {"fns.py": client + LOOK}, {"look": "fns.look"})
    return function_version(code, "look", layer_dir=dep_layer(root))


def _look(loop: LoopThread, pool: InstancePool, fv: FunctionVersion, **event: object
          ) -> dict[str, object]:
    result = loop.run(pool.invoke(fv, json.dumps(event).encode()))
    assert result.status == "ok", result.payload
    answer: dict[str, object] = json.loads(result.payload)
    return answer


@contextlib.contextmanager
def _declined(port: int, root: Path) -> Iterator[
        tuple[FunctionVersion, RecordingSink, LoopThread, InstancePool, dict[str, object]]]:
    """A pool that has run `_layered`'s function once (its template declined, so that request
    ran in a fresh instance) and started the layer's zygote; closed afterwards."""
    fv = _layered(root, port)
    sink = RecordingSink()
    loop = LoopThread()
    pool = InstancePool(sink)
    try:
        first = _look(loop, pool, fv)
        wait_for_zygote(pool)  # started from what the template had imported
        yield fv, sink, loop, pool, first
    finally:
        loop.run(pool.close())
        loop.close()


def _zygote_pid(pool: InstancePool) -> int:
    return next(iter(pool.templates._zygotes.values())).watch.proc.pid


def test_a_declined_versions_instances_fork_from_its_layers_zygote(
    server: tuple[int, list[int]], tmp_path: Path
) -> None:
    port, seen = server
    with _declined(port, tmp_path) as (fv, sink, loop, pool, first):
        zygote = _zygote_pid(pool)
        assert first["dep_loaded_by"] != zygote  # the first instance started fresh
        answers = []
        for _ in range(2):
            loop.call(lambda: pool.drop_idle(fv.function))  # the next is a new instance
            started = time.perf_counter()
            answers.append(_look(loop, pool, fv))
            assert time.perf_counter() - started < 0.3  # no fresh Python, no 0.3 s import
    for answer in answers:
        assert answer["parent"] == zygote and answer["dep_loaded_by"] == zygote
        assert not answer["reconnected"]  # init ran in it: its own connection
    locals_ = [first["local"], *(a["local"] for a in answers)]
    assert len(set(locals_)) == 3 and seen == [seen[0], *locals_]
    assert len({first["pid"], *(a["pid"] for a in answers)}) == 3
    assert sum("runs init instead" in text for *_, text in sink.lines) == 1


def test_the_zygote_says_how_its_instance_ended_and_outlives_it_while_it_serves(
    server: tuple[int, list[int]], tmp_path: Path
) -> None:
    port, _ = server
    with _declined(port, tmp_path) as (fv, _sink, loop, pool, _first):
        zygote = next(iter(pool.templates._zygotes.values()))
        loop.call(lambda: pool.drop_idle(fv.function))
        pool.templates.zygote_idle = 0.2
        serving = _look(loop, pool, fv)
        assert serving["parent"] == zygote.watch.proc.pid
        time.sleep(1.5)  # past zygote_idle, with no template of the layer alive
        assert zygote.alive and _look(loop, pool, fv)["pid"] == serving["pid"]
        crashed = loop.run(pool.invoke(fv, b'{"crash": true}'))
        assert crashed.status == "crash"
        assert "Runtime exited with error: signal: segmentation fault" in \
            crashed.payload.decode()
        # its last instance gone, the zygote stops once idle
        wait_until(lambda: not zygote.alive, timeout=10, message="the zygote to stop")


def test_an_instance_forked_from_the_zygote_is_narrowed(
    server: tuple[int, list[int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It sees its own code and layer, not the home's files nor another function's code."""
    port, _ = server
    home, artifacts = isolated_home(tmp_path, monkeypatch)
    fv = _layered(artifacts, port)
    other = build_artifact(artifacts / "other", {"secret_code.py": "X = 1\n"}, {})
    paths = [str(home / "token"), str(other / "secret_code.py"), str(fv.code_dir / "fns.py"),
             str(fv.layer_dir / "dep.py") if fv.layer_dir else ""]
    loop = LoopThread()
    pool = InstancePool(RecordingSink())
    try:
        _look(loop, pool, fv)
        wait_for_zygote(pool)
        loop.call(lambda: pool.drop_idle(fv.function))
        seen = _look(loop, pool, fv, read=paths)
        assert seen["parent"] == _zygote_pid(pool)
        crashed = loop.run(pool.invoke(fv, b'{"crash": true}'))  # (its pid is its own)
        assert crashed.status == "crash"
    finally:
        loop.run(pool.close())
        loop.close()
    token, other_code, own_code, dep = paths
    assert seen["read"] == {token: "FileNotFoundError", other_code: "FileNotFoundError",
                            own_code: "ok", dep: "ok"}
    assert os.getpid() != seen["pid"]


CONNECTING_DEP = """
import os
import socket

LOADED_BY = os.getpid()
CONN = socket.create_connection(("127.0.0.1", {port}))  # as it is imported
"""

USES_DEP = """
import os
import dep


def look(event, context):
    return {"pid": os.getpid(), "parent": os.getppid(), "dep_loaded_by": dep.LOADED_BY,
            "local": dep.CONN.getsockname()[1]}
"""


def test_a_layer_that_connects_as_it_is_imported_gets_no_zygote(
    server: tuple[int, list[int]], tmp_path: Path
) -> None:
    """Every process a zygote forked would share the connection its imports opened: the zygote
    says so and exits, and the layer's instances start fresh, each with its own."""
    port, seen = server
    layer = dep_layer(tmp_path, CONNECTING_DEP.format(port=port))
    code = build_artifact(tmp_path / "code", {"fns.py": USES_DEP}, {"look": "fns.look"})
    fv = function_version(code, "look", layer_dir=layer)
    loop = LoopThread()
    sink = RecordingSink()
    pool = InstancePool(sink)
    try:
        first = _look(loop, pool, fv)  # the template declines: the dep's connection
        # the zygote its modules started imports dep, connects, declines and exits
        wait_until(lambda: len(seen) >= 3, timeout=10, message="the zygote's import of dep")
        wait_until(lambda: not any(z.alive for z in pool.templates._zygotes.values()),
                   timeout=10, message="the zygote to exit")
        assert all(z.declined for z in pool.templates._zygotes.values())
        loop.call(lambda: pool.drop_idle(fv.function))
        second = _look(loop, pool, fv)
        loop.call(lambda: pool.templates.stop_unused_zygotes([], time.monotonic()))
        loop.call(lambda: pool.drop_idle(fv.function))
        third = _look(loop, pool, fv)  # no zygote again for that layer
        assert not pool.templates._zygotes
    finally:
        loop.run(pool.close())
        loop.close()
    for answer in (first, second, third):
        assert answer["dep_loaded_by"] == answer["pid"]  # imported there: started fresh
        assert answer["parent"] == os.getpid()
    assert len({first["local"], second["local"], third["local"]}) == 3
    # template, instance, zygote, then each later instance: one connection each
    assert len(seen) == 5
    said = [text for *_, text in sink.lines if "importing the dependency layer" in text]
    assert len(said) == 1 and f"127.0.0.1:{port}" in said[0]
