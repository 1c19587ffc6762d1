"""Instances wait awake for back-to-back requests (instance_main.SPIN), as the daemon's
ALOFT_SPIN_US says, without the function seeing that setting.

Whether an instance slept between two requests is read from the kernel: a process that blocks
in `recv` counts a voluntary context switch (`/proc/PID/status`); one that polls and yields the
CPU does not."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
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
from tests.integration.local.instances.test_pool_zygote import dep_layer, wait_for_zygote

FNS = '''
import os


def where(event, context):
    return {"pid": os.getpid(), "sees_spin": any("SPIN" in name for name in os.environ)}
'''
REQUESTS = 100


@pytest.fixture(scope="module")
def code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("artifact") / "code"
    return build_artifact(root, {"fns.py": FNS}, {"where": "fns.where"})


@pytest.fixture
def pool(loop: LoopThread) -> Iterator[InstancePool]:
    async def make() -> InstancePool:
        return InstancePool(RecordingSink(), account_concurrency=2)

    pool = loop.run(make())
    yield pool
    loop.run(pool.close())


def switches(pid: int) -> tuple[int, int]:
    """The process's context switches so far: voluntary (each a sleep), and involuntary (its
    CPU taken by another process, a yield that let one run among them)."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
                found[name] = int(value)
    return found["voluntary_ctxt_switches"], found["nonvoluntary_ctxt_switches"]


def sleeps(pid: int) -> int:
    """The process's voluntary context switches so far (each a sleep)."""
    return switches(pid)[0]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_pid(loop: LoopThread, pool: InstancePool, fv: FunctionVersion) -> int:
    """The pid of the instance a first request started."""
    first = json.loads(loop.run(pool.invoke(fv, b"{}")).payload)
    assert first["sees_spin"] is False  # taken out of the environment before the code ran
    return int(first["pid"])


def switched(loop: LoopThread, pool: InstancePool, fv: FunctionVersion, pid: int
             ) -> tuple[int, int]:
    """How many times the instance `pid` slept, and how many times its CPU was taken, over
    REQUESTS requests sent one after another, each as soon as the last one's answer arrived."""
    async def run() -> tuple[int, int]:
        before = switches(pid)
        for _ in range(REQUESTS):
            result = await pool.invoke(fv, b"{}")
            assert json.loads(result.payload)["pid"] == pid
        after = switches(pid)
        return after[0] - before[0], after[1] - before[1]

    return loop.run(run())


def back_to_back(loop: LoopThread, pool: InstancePool, fv: FunctionVersion) -> tuple[int, int]:
    """(how many times the instance slept, how many of those it chose) over REQUESTS
    back-to-back requests, after a first one. An instance waiting awake sleeps once another
    process takes its CPU (see instance_main.YIELDED), which the kernel counts as an
    involuntary switch: on a busy test machine those sleeps are not the instance's choice."""
    pid = first_pid(loop, pool, fv)
    slept, taken = switched(loop, pool, fv, pid)
    return slept, max(0, slept - taken)


@pytest.mark.parametrize("snapshot", [True, False], ids=["forked", "fresh"])
@pytest.mark.parametrize("spin", ["20000", "0"], ids=["spin", "no-spin"])
def test_an_instance_waits_awake_for_back_to_back_requests(
    loop: LoopThread, pool: InstancePool, code_dir: Path, snapshot: bool, spin: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Waiting 20 ms (long enough that a busy test machine's scheduling does not decide the
    result), it hardly sleeps unless another process takes its CPU; with ALOFT_SPIN_US=0, it
    sleeps before each request."""
    monkeypatch.setenv("ALOFT_SPIN_US", spin)
    fv = function_version(code_dir, "where", snapshot=snapshot, physical=f"s{spin}-{snapshot}")
    slept, chose = back_to_back(loop, pool, fv)
    if spin == "0":
        assert slept >= REQUESTS // 2, f"slept only {slept} times in {REQUESTS} requests"
    else:  # it sleeps after a gap over 20 ms: the warm-up's, and the test's own stalls on a
        # busy machine (a third of the requests, at most, where no waiting sleeps at every one)
        assert chose <= REQUESTS // 3, \
            f"chose to sleep {chose} times (of {slept}) in {REQUESTS} back-to-back requests"


def test_instances_forked_through_a_zygote_wait_awake(
    loop: LoopThread, pool: InstancePool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The layer's zygote took the setting: the template it forks, and that template's
    instances, wait awake too (and none of them shows it to the function)."""
    monkeypatch.setenv("ALOFT_SPIN_US", "20000")
    layer = dep_layer(tmp_path, "X = 1\n")
    versions = [
        function_version(build_artifact(tmp_path / f"code{n}", {"fns.py": FNS},
                                        {"where": "fns.where"}),
                         "where", version=n, layer_dir=layer, physical="zygote-spin")
        for n in (1, 2)
    ]
    loop.run(pool.invoke(versions[0], b"{}"))
    wait_for_zygote(pool)
    slept, chose = back_to_back(loop, pool, versions[1])  # its template forked by the zygote
    assert pool.templates._zygotes, "no zygote"
    assert chose <= REQUESTS // 3, \
        f"chose to sleep {chose} times (of {slept}) in {REQUESTS} back-to-back requests"


def spaced(loop: LoopThread, pool: InstancePool, fv: FunctionVersion, pid: int, count: int,
           gap: float) -> int:
    """How many times the instance `pid` slept over `count` requests, each `gap` seconds after
    the last one's answer."""
    async def run() -> int:
        before = sleeps(pid)
        for _ in range(count):
            await asyncio.sleep(gap)
            await pool.invoke(fv, b"{}")
        return sleeps(pid) - before

    return loop.run(run())


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs sched_setaffinity")
def test_an_instance_sleeps_when_other_processes_want_its_cpu(
    loop: LoopThread, pool: InstancePool, code_dir: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Requests 30 ms apart, within the 50 ms the instance waits awake, and a busy loop on the
    instance's CPU: a yield lets the busy loop run, and at the second such yield the instance
    stops waiting awake and sleeps, before nearly every request, instead of trading its CPU
    back and forth with the busy loop until the request comes (which never sleeps)."""
    monkeypatch.setenv("ALOFT_SPIN_US", "50000")
    fv = function_version(code_dir, "where", physical="wanted")
    pid = first_pid(loop, pool, fv)
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(pid, {cpu})
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        os.sched_setaffinity(busy.pid, {cpu})
        slept = spaced(loop, pool, fv, pid, 40, 0.03)
    finally:
        busy.kill()
        busy.wait()
    assert slept >= 30, f"slept only {slept} times before 40 requests"


def test_an_instance_whose_requests_are_apart_sleeps_at_once(
    loop: LoopThread, pool: InstancePool, code_dir: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Requests further apart than BUSY (5 ms): the instance sleeps as soon as it has answered,
    whatever SPIN is (spinning 20 ms after each of them would cost 20 ms of CPU each)."""
    monkeypatch.setenv("ALOFT_SPIN_US", "20000")
    fv = function_version(code_dir, "where", physical="apart")
    pid = json.loads(loop.run(pool.invoke(fv, b"{}")).payload)["pid"]

    async def run() -> tuple[int, float]:
        before, cpu = sleeps(pid), cpu_seconds(pid)
        for _ in range(10):
            await asyncio.sleep(0.03)
            await pool.invoke(fv, b"{}")
        return sleeps(pid) - before, cpu_seconds(pid) - cpu

    slept, cpu = loop.run(run())
    assert slept >= 10
    assert cpu < 0.1, f"the instance used {cpu:.2f} s of CPU for 10 requests 30 ms apart"


def test_an_instance_told_to_doze_sleeps_after_its_request(
    loop: LoopThread, pool: InstancePool, code_dir: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A request with P.DOZE (the pool's loop saturated): the instance sleeps after it instead
    of waiting awake for the next one, even back to back within a 20 ms SPIN."""
    from aloft.local.instances import instance as instance_module
    from aloft.local.instances.worker import protocol as P

    monkeypatch.setenv("ALOFT_SPIN_US", "20000")
    fv = function_version(code_dir, "where", physical="dozing")
    pid = first_pid(loop, pool, fv)
    real = P.invoke_frame

    def dozing(request_id: str, timeout: float, event: bytes, kind: int = P.INVOKE,
               trace: str = "") -> bytes:
        return real(request_id, timeout, event, kind | P.DOZE, trace)

    monkeypatch.setattr(instance_module.P, "invoke_frame", dozing)
    slept, _ = switched(loop, pool, fv, pid)
    assert slept >= REQUESTS // 2, f"slept only {slept} times in {REQUESTS} requests"


def test_only_queued_requests_carry_doze_while_the_loop_is_saturated(
    loop: LoopThread, pool: InstancePool, code_dir: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the pool's loop saturated (Spinner.doze), requests that waited for a slot (sent
    ahead, or handed over as one freed) go out with P.DOZE; one that found a slot at once (a
    single client's) never does. Not saturated: none does."""
    from aloft.local.instances import instance as instance_module
    from aloft.local.instances.worker import protocol as P

    fv = function_version(code_dir, "where", concurrency=1, physical="queued")
    first_pid(loop, pool, fv)
    kinds: list[int] = []
    real = P.invoke_frame

    def recording(request_id: str, timeout: float, event: bytes, kind: int = P.INVOKE,
                  trace: str = "") -> bytes:
        kinds.append(kind)
        return real(request_id, timeout, event, kind, trace)

    monkeypatch.setattr(instance_module.P, "invoke_frame", recording)

    async def burst(count: int) -> None:
        results = await asyncio.gather(*(pool.invoke(fv, b"{}") for _ in range(count)))
        assert all(r.status == "ok" for r in results)

    for saturated in (P.DOZE, 0):
        monkeypatch.setattr(pool.spinner, "doze", lambda s=saturated: s)
        kinds.clear()
        loop.run(burst(6))
        assert len(kinds) == 6
        assert not kinds[0] & P.DOZE  # it took the free slot: nothing queued before it
        assert [bool(k & P.DOZE) for k in kinds[1:]] == [bool(saturated)] * 5
    kinds.clear()
    loop.run(pool.invoke(fv, b"{}"))
    assert kinds == [P.INVOKE]
