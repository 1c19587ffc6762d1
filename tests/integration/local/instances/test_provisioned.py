"""Provisioned concurrency on the local cloud (`provisioned_concurrency: N`): the pool keeps N
instances of each version the stages' aliases point at initialised, started before any request,
never stopped for idling nor evicted, replaced when one is lost; their requests are no cold
starts (no Init Duration); a version that is no longer current has them become ordinary
instances, which stop once idle for keep_alive."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
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
from tests.waiting import wait_until

SOURCE = """
import os

def handler(event, context):
    return {"pid": os.getpid()}
"""

BROKEN = "raise RuntimeError('no database')\n"


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


def _version(tmp_path: Path, *, provisioned: int, snapshot: bool, source: str = SOURCE,
             keep_alive: int = 1, concurrency: int | None = None) -> FunctionVersion:
    code = build_artifact(tmp_path / "code", {"fns.py": source}, {"fn": "fns.handler"})
    fv = function_version(code, "fn", snapshot=snapshot, keep_alive=keep_alive,
                          concurrency=concurrency)
    return dataclasses.replace(fv, provisioned=provisioned)


def _pids(loop: LoopThread, pool: InstancePool, fv: FunctionVersion) -> set[int]:
    def read() -> set[int]:
        version = pool._versions.get(fv.key)
        return set() if version is None else {
            i.pid for i in version.live if i.provisioned and i.pid is not None}
    return loop.call(read)


@pytest.mark.parametrize("snapshot", [True, False])
def test_provisioned_instances_start_ahead_stay_and_are_replaced(
    tmp_path: Path, loop: LoopThread, snapshot: bool
) -> None:
    fv = _version(tmp_path, provisioned=2, snapshot=snapshot)
    sink = RecordingSink()
    pool = InstancePool(sink, account_concurrency=10)
    try:
        loop.call(lambda: pool.provision([fv]))
        pids = wait_until(lambda: (p := _pids(loop, pool, fv)) and len(p) == 2 and p)
        assert loop.call(pool.instances) == {fv.function: 2}  # before any request
        result = loop.run(pool.invoke(fv, b"{}"))
        assert result.status == "ok" and json.loads(result.payload)["pid"] in pids
        assert result.init_ms is None  # no cold start: initialised ahead
        report = next(line for *_, line in sink.lines if line.startswith("REPORT"))
        assert "Init Duration" not in report
        time.sleep(1.6)  # idle past keep_alive (1 s; the reaper looks 4 times a second)
        assert _pids(loop, pool, fv) == pids
        lost = next(iter(pids))
        os.kill(lost, signal.SIGKILL)  # a provisioned instance is lost: another takes its place
        replaced = wait_until(lambda: (p := _pids(loop, pool, fv)) and len(p) == 2
                              and lost not in p and p)
        assert replaced & pids == pids - {lost}
        loop.call(lambda: pool.provision([]))  # no longer the alias's version
        wait_until(lambda: loop.call(pool.instances) == {}, timeout=10)  # idle: stopped
    finally:
        loop.run(pool.close())


def test_no_more_than_the_reserved_concurrency(tmp_path: Path, loop: LoopThread) -> None:
    fv = _version(tmp_path, provisioned=5, snapshot=True, concurrency=2)
    pool = InstancePool(RecordingSink(), account_concurrency=10)
    try:
        loop.call(lambda: pool.provision([fv]))
        wait_until(lambda: len(_pids(loop, pool, fv)) == 2)
        time.sleep(0.5)
        assert len(_pids(loop, pool, fv)) == 2
    finally:
        loop.run(pool.close())


@pytest.mark.parametrize("snapshot", [True, False])
def test_an_init_that_fails_is_logged_not_retried_without_end(
    tmp_path: Path, loop: LoopThread, snapshot: bool
) -> None:
    fv = _version(tmp_path, provisioned=2, snapshot=snapshot, source=BROKEN)
    sink = RecordingSink()
    pool = InstancePool(sink)
    try:
        loop.call(lambda: pool.provision([fv]))
        said = "Provisioned concurrency: an instance failed to initialise: RuntimeError: " \
            "no database"
        wait_until(lambda: any(said in line for *_, line in sink.lines))
        time.sleep(0.5)
        assert sum(said in line for *_, line in sink.lines) == 1
        assert loop.call(pool.instances) == {}
    finally:
        loop.run(pool.close())


INIT_TYPE = """
import os
import time

AT_INIT = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid(), "init": AT_INIT,
            "now": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")}
"""


def test_a_provisioned_instance_initialises_as_one(tmp_path: Path, loop: LoopThread) -> None:
    """AWS_LAMBDA_INITIALIZATION_TYPE is `provisioned-concurrency` in a provisioned instance,
    from its init on (as on Lambda), and `on-demand` in one started for a request beyond it."""
    fv = _version(tmp_path, provisioned=1, snapshot=True, source=INIT_TYPE)
    fv = dataclasses.replace(fv, environment={
        **fv.environment, "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"})
    pool = InstancePool(RecordingSink(), account_concurrency=10)
    try:
        loop.call(lambda: pool.provision([fv]))
        (provisioned,) = wait_until(lambda: (p := _pids(loop, pool, fv)) and len(p) == 1 and p)

        async def two() -> list[dict[str, object]]:
            results = await asyncio.gather(*(
                pool.invoke(fv, json.dumps({"sleep": 0.3}).encode()) for _ in range(2)))
            return [json.loads(r.payload) for r in results]

        answers = {a["pid"]: a for a in loop.run(two())}
        assert len(answers) == 2
        assert answers.pop(provisioned) == {"pid": provisioned, "init": "provisioned-concurrency",
                                            "now": "provisioned-concurrency"}
        (on_demand,) = answers.values()
        assert on_demand["init"] == on_demand["now"] == "on-demand"
    finally:
        loop.run(pool.close())
