"""Requests leave nothing for the garbage collector: what the pool makes for a request is freed
by reference counting when the request ends. Reference cycles left per request (a queued
request and its waiter referring to each other) made the gateway's collector run every hundred
or so requests under load and cost more CPU than any piece of the gateway's own work; they are
checked here on real instances, with requests queued, sent ahead, and throttled."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aloft.local.instances.pool import InstancePool
from aloft.local.types import InvokeResult
from tests.integration.local.dataplane_helpers import (
    LoopThread,
    RecordingSink,
    build_artifact,
    function_version,
)

SOURCE = """
import time

def handler(event, context):
    time.sleep(event["sleep"])
    return event["n"]
"""
OURS = ("aloft.local.",)  # what the pool, the instances and the slots are made of


@pytest.fixture
def saved_garbage() -> Iterator[list[object]]:
    """What the collector finds unreachable while the test runs (kept for inspection)."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def _ours(garbage: list[object]) -> list[str]:
    return sorted({type(o).__qualname__ for o in garbage
                   if type(o).__module__.startswith(OURS)})


def test_queued_sent_ahead_and_throttled_requests_leave_no_cycles(
    tmp_path: Path, loop: LoopThread, saved_garbage: list[object],
) -> None:
    code = build_artifact(tmp_path / "code", {"fns.py": SOURCE}, {"fn": "fns.handler"})
    fv = function_version(code, "fn", concurrency=1, timeout=5)
    pool = InstancePool(RecordingSink(), account_concurrency=4, throttle_wait=0.5)

    async def burst(sleep: float, count: int) -> list[InvokeResult]:
        return list(await asyncio.gather(*(
            pool.invoke(fv, json.dumps({"n": n, "sleep": sleep}).encode())
            for n in range(count))))

    try:
        assert loop.run(burst(0.0, 1))[0].status == "ok"  # warm: later ones are sent ahead
        quick = loop.run(burst(0.001, 30))  # queued, most sent ahead to the busy instance
        assert [r.status for r in quick] == ["ok"] * 30
        assert [json.loads(r.payload) for r in quick] == list(range(30))
        slow = loop.run(burst(0.3, 4))  # one runs, one waits ahead, the others time out
        assert "throttled" in [r.status for r in slow]
        assert loop.run(burst(0.0, 1))[0].status == "ok"
        gc.collect()  # (before the pool closes: what serving requests left, not stopping)
        assert _ours(saved_garbage) == []
    finally:
        loop.run(pool.close())
