"""A pipeline with Lambda's semantics: a request waiting for a slot is sent ahead to a busy
instance of its version (whose last request was quick), which goes on to it without sleeping in
between; it stays the pool's to take back until the instance claims it. Each test runs real
instances and checks what a user would see: every request's output in its own log, START to
REPORT; a request sent ahead throttled after its wait without running, sent elsewhere when the
request before it times out or crashes, not run when its caller goes away."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aloft.local.instances.pool import InstancePool
from aloft.local.types import FunctionVersion, InvokeResult
from tests.integration.local.dataplane_helpers import (
    LoopThread,
    RecordingSink,
    build_artifact,
    function_version,
)
from tests.waiting import wait_until

SOURCE = """
import os
import sys
import time

def handler(event, context):
    n = event["n"]
    print(f"begin {n}")
    sys.stdout.write(f"partial {n}")  # finished by the next print: one line
    sys.stdout.flush()
    time.sleep(event.get("sleep", 0))
    if event.get("exit"):
        os._exit(3)
    print(f" end {n}")
    return {"pid": os.getpid(), "n": n}
"""


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


def _version(tmp_path: Path, *, timeout: int = 5) -> FunctionVersion:
    code = build_artifact(tmp_path / "code", {"fns.py": SOURCE}, {"fn": "fns.handler"})
    return function_version(code, "fn", concurrency=1, timeout=timeout)


def _event(n: int, **extra: Any) -> bytes:
    return json.dumps({"n": n, **extra}).encode()


def _counting(pool: InstancePool) -> list[str]:
    """Request ids whose turn came on an instance they were sent ahead to."""
    passed: list[str] = []
    pass_on = pool._pass_on

    def counted(instance: Any) -> None:
        passed.append(pool._ahead[instance].rid)
        pass_on(instance)

    pool._pass_on = counted  # type: ignore[method-assign]
    return passed


def _warm(loop: LoopThread, pool: InstancePool, fv: FunctionVersion) -> int:
    """A first (quick) request: the instance is then one the pool pipelines."""
    result = loop.run(pool.invoke(fv, _event(0)))
    assert result.status == "ok", result.payload
    pid: int = json.loads(result.payload)["pid"]
    return pid


def _ahead(loop: LoopThread, pool: InstancePool) -> int:
    return loop.call(lambda: len(pool._ahead))


def test_requests_go_ahead_to_the_busy_instance_each_with_its_own_log(
    tmp_path: Path, loop: LoopThread
) -> None:
    fv = _version(tmp_path)
    sink = RecordingSink()
    pool = InstancePool(sink, account_concurrency=4, throttle_wait=10.0)
    passed = _counting(pool)
    try:
        pid = _warm(loop, pool, fv)

        async def burst() -> list[InvokeResult]:
            return list(await asyncio.gather(*(
                pool.invoke(fv, _event(n, sleep=0.002), request_id=f"rid-{n}")
                for n in range(1, 41))))

        results = loop.run(burst())
        assert [r.status for r in results] == ["ok"] * 40
        assert {json.loads(r.payload)["pid"] for r in results} == {pid}  # one instance
        assert len(passed) >= 20  # most went ahead (the first waited for the instance)
        for n in range(1, 41):
            lines = sink.for_request(f"rid-{n}")
            assert lines[0].startswith(f"START RequestId: rid-{n} ")
            assert lines[1:3] == [f"begin {n}", f"partial {n} end {n}"], lines
            assert lines[3].startswith(f"END RequestId: rid-{n}")
            assert lines[4].startswith(f"REPORT RequestId: rid-{n}")
            assert len(lines) == 5, lines
            assert "Init Duration" not in lines[4]
        assert not [line for *_, rid, line in sink.lines if rid is None and "begin" in line]
        assert loop.call(lambda: pool._slots._total) == 0  # every slot given back
    finally:
        loop.run(pool.close())


def test_a_request_sent_ahead_is_throttled_after_its_wait_without_running(
    tmp_path: Path, loop: LoopThread
) -> None:
    fv = _version(tmp_path)
    sink = RecordingSink()
    pool = InstancePool(sink, account_concurrency=4, throttle_wait=0.3)
    passed = _counting(pool)
    try:
        pid = _warm(loop, pool, fv)
        slow = loop.submit(pool.invoke(fv, _event(1, sleep=1.0), request_id="slow"))
        wait_until(lambda: "begin 1" in sink.for_request("slow"))
        waiting = loop.submit(pool.invoke(fv, _event(2), request_id="waiting"))
        wait_until(lambda: _ahead(loop, pool) == 1)  # sent ahead to the busy instance
        throttled = waiting.result(timeout=5)
        assert throttled.status == "throttled"
        assert json.loads(throttled.payload)["Reason"] == \
            "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert slow.result(timeout=5).status == "ok"
        after = loop.run(pool.invoke(fv, _event(3), request_id="after"))
        assert after.status == "ok" and json.loads(after.payload)["pid"] == pid
        assert "begin 2" not in [line for *_, line in sink.lines]  # it never ran
        assert sink.for_request("after")[1:3] == ["begin 3", "partial 3 end 3"]
        assert passed == []
    finally:
        loop.run(pool.close())


@pytest.mark.parametrize("failure", ["timeout", "crash"])
def test_a_request_sent_ahead_runs_elsewhere_when_the_one_before_fails(
    tmp_path: Path, loop: LoopThread, failure: str
) -> None:
    fv = _version(tmp_path, timeout=1)
    sink = RecordingSink()
    pool = InstancePool(sink, account_concurrency=4, throttle_wait=10.0)
    try:
        pid = _warm(loop, pool, fv)
        event = _event(1, sleep=3.0) if failure == "timeout" else _event(1, sleep=0.3, exit=1)
        failing = loop.submit(pool.invoke(fv, event, request_id="failing"))
        wait_until(lambda: "begin 1" in sink.for_request("failing"))
        waiting = loop.submit(pool.invoke(fv, _event(2), request_id="waiting"))
        wait_until(lambda: _ahead(loop, pool) == 1)
        assert failing.result(timeout=10).status == failure
        result = waiting.result(timeout=10)
        assert result.status == "ok", result.payload
        assert json.loads(result.payload)["pid"] != pid  # on a new instance
        lines = sink.for_request("waiting")
        assert lines[1:3] == ["begin 2", "partial 2 end 2"], lines
        assert not [line for line in sink.for_request("failing") if "2" in line.split()]
    finally:
        loop.run(pool.close())


def test_a_request_sent_ahead_and_called_off_does_not_run(
    tmp_path: Path, loop: LoopThread
) -> None:
    fv = _version(tmp_path)
    sink = RecordingSink()
    pool = InstancePool(sink, account_concurrency=4, throttle_wait=10.0)
    try:
        pid = _warm(loop, pool, fv)
        slow = loop.submit(pool.invoke(fv, _event(1, sleep=0.5), request_id="slow"))
        wait_until(lambda: "begin 1" in sink.for_request("slow"))
        called_off = loop.submit(pool.invoke(fv, _event(2), request_id="called-off"))
        wait_until(lambda: _ahead(loop, pool) == 1)
        called_off.cancel()  # its caller went away (a client that hung up)
        wait_until(lambda: _ahead(loop, pool) == 0)
        assert slow.result(timeout=5).status == "ok"
        after = loop.run(pool.invoke(fv, _event(3), request_id="after"))
        assert after.status == "ok" and json.loads(after.payload)["pid"] == pid
        time.sleep(0.1)
        assert "begin 2" not in [line for *_, line in sink.lines]
        assert loop.call(lambda: pool._slots._total) == 0
    finally:
        loop.run(pool.close())
