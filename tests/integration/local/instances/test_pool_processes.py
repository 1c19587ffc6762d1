"""The instance pool with real processes: cold and warm starts, failures, limits, logs."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aloft.local.instances.pool import InstancePool
from aloft.local.types import FunctionVersion, InvokeResult
from tests.integration.local.dataplane_helpers import (
    LoopThread,
    RecordingSink,
    build_artifact,
    function_version,
)
from tests.waiting import wait_until, wait_until_async

FNS = '''
import ctypes, os, sys, time

print("init output")


def echo(event, context):
    print("echo", event.get("n"))
    sys.stderr.write("to stderr\\n")
    return {"event": event, "pid": os.getpid(), "remaining": context.get_remaining_time_in_millis()}


def quiet(event, context):
    return event


def boom(event, context):
    raise ValueError("boom")


def exit3(event, context):
    print("about to exit")
    os._exit(3)


def exit_if(event, context):
    if event.get("exit"):
        os._exit(4)
    return "alive"


def segfault(event, context):
    ctypes.string_at(0)


def sleep(event, context):
    time.sleep(event.get("seconds", 5))
    return "slept"


def big(event, context):
    return len(bytearray(event["mb"] * 1024 * 1024))


def stream(event, context):
    print("on my stream")
    time.sleep(event.get("hold", 0))
    return {"context": context.log_stream_name, "pid": os.getpid(),
            "environ": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")}


held = []


def grow(event, context):
    while True:  # many small objects: no single allocation hits the heap limit at once
        held.append([0] * 4096)
'''

BROKEN = "import not_a_module_anywhere\n"
NAMES = ["echo", "quiet", "boom", "exit3", "exit_if", "segfault", "sleep", "big", "grow",
         "stream"]


@pytest.fixture(scope="module")
def code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("artifact") / "code"
    return build_artifact(root, {"fns.py": FNS}, {n: f"fns.{n}" for n in NAMES})


@pytest.fixture(scope="module")
def broken_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("broken") / "code"
    return build_artifact(root, {"bad.py": BROKEN}, {"bad": "bad.handler"})


@pytest.fixture(scope="module")
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture(scope="module")
def pool(loop: LoopThread, sink: RecordingSink) -> Iterator[InstancePool]:
    async def make() -> InstancePool:
        return InstancePool(sink, account_concurrency=4, throttle_wait=0.2)

    pool = loop.run(make())
    yield pool
    loop.run(pool.close())


def invoke(loop: LoopThread, pool: InstancePool, fv: FunctionVersion, event: object = None,
           ) -> InvokeResult:
    return loop.run(pool.invoke(fv, json.dumps(event or {}).encode()))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes; so is one reaped between the two looks.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # (comm may hold spaces)
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.parametrize("snapshot", [True, False])
def test_cold_then_warm(loop: LoopThread, pool: InstancePool, code_dir: Path, snapshot: bool,
                        ) -> None:
    fv = function_version(code_dir, "echo", snapshot=snapshot, physical=f"echo-{snapshot}")
    first = invoke(loop, pool, fv, {"n": 1})
    assert first.status == "ok", first.payload
    body = json.loads(first.payload)
    assert body["event"] == {"n": 1}
    assert 0 < body["remaining"] <= 5000
    assert first.init_ms is not None and first.init_ms > 0
    second = invoke(loop, pool, fv, {"n": 2})
    assert second.status == "ok"
    assert second.init_ms is None  # warm: same instance
    assert json.loads(second.payload)["pid"] == body["pid"]
    assert pool.instances()[fv.function] == 1
    assert first.max_memory_mb > 5


def test_fork_is_faster_than_a_fresh_process(loop: LoopThread, pool: InstancePool,
                                             code_dir: Path) -> None:
    forked = function_version(code_dir, "echo", physical="fast", concurrency=2)
    invoke(loop, pool, forked)  # starts the template and one instance

    async def two_at_once() -> list[InvokeResult]:
        event = json.dumps({"n": 0}).encode()
        return list(await asyncio.gather(pool.invoke(forked, event), pool.invoke(forked, event)))

    results = loop.run(two_at_once())
    cold = [r for r in results if r.init_ms is not None]
    assert len(cold) == 1 and all(r.status == "ok" for r in results)
    # A fork of the template, not a new interpreter importing the code.
    template = pool._versions[forked.key].template
    assert template is not None
    with open(f"/proc/{json.loads(cold[0].payload)['pid']}/stat") as fh:
        assert int(fh.read().rsplit(")", 1)[1].split()[1]) == template.watch.proc.pid


def test_template_keeps_a_child_forked_ahead(loop: LoopThread, pool: InstancePool,
                                             code_dir: Path) -> None:
    fv = function_version(code_dir, "echo", physical="spare")
    invoke(loop, pool, fv)
    template = pool._versions[fv.key].template
    assert template is not None
    wait_until(lambda: template.spare is not None and template.spare.pid is not None,
               timeout=5, interval=0.02, message="the child forked ahead")
    spare = template.spare
    assert spare is not None and pool.instances()[fv.function] == 1  # the spare is not counted
    assert loop.call(lambda: pool.drop_idle(fv.function)) == 1
    result = invoke(loop, pool, fv)
    assert result.init_ms is not None  # a cold start...
    assert json.loads(result.payload)["pid"] == spare.pid  # ...on the child forked ahead


def test_logs_are_framed(loop: LoopThread, pool: InstancePool, sink: RecordingSink,
                         code_dir: Path) -> None:
    fv = function_version(code_dir, "echo", physical="logged")
    result = invoke(loop, pool, fv, {"n": 7})
    lines = sink.for_request(result.request_id)
    # every invocation is traced: the pool starts a trace when the caller brings none
    assert re.fullmatch(rf"START RequestId: {result.request_id} Version: 1 "
                        r"TraceId: 1-[0-9a-f]{8}-[0-9a-f]{24}", lines[0])
    assert "echo 7" in lines and "to stderr" in lines
    assert lines[-2] == f"END RequestId: {result.request_id}"
    report = lines[-1].split("\t")
    assert report[0] == f"REPORT RequestId: {result.request_id}"
    assert report[1].startswith("Duration: ") and report[1].endswith(" ms")
    assert report[3] == "Memory Size: 256 MB"
    assert report[5].startswith("Init Duration: ")
    # Init output has no request id.
    assert ("logged", 1, None, "init output") in sink.lines
    warm = invoke(loop, pool, fv, {"n": 8})
    assert "Init Duration" not in sink.for_request(warm.request_id)[-1]


def test_a_silent_request_is_one_log_entry(loop: LoopThread, pool: InstancePool,
                                           sink: RecordingSink, code_dir: Path) -> None:
    fv = function_version(code_dir, "quiet", physical="quiet")
    invoke(loop, pool, fv, {})  # the cold start (init output) first
    result = invoke(loop, pool, fv, {"n": 1})
    assert sink.entries.count(result.request_id) == 1  # START, END and REPORT together
    lines = sink.for_request(result.request_id)
    assert [line.split(" ")[0] for line in lines] == ["START", "END", "REPORT"]


@pytest.mark.parametrize("snapshot", [True, False])
def test_each_instance_logs_to_its_own_stream(loop: LoopThread, pool: InstancePool,
                                              sink: RecordingSink, code_dir: Path,
                                              snapshot: bool) -> None:
    """Spawned or forked, an instance is told a log stream of its own (context and environ),
    and every entry of its requests carries it."""
    fv = function_version(code_dir, "stream", snapshot=snapshot, physical=f"stream-{snapshot}",
                          concurrency=2)

    async def two_at_once() -> list[InvokeResult]:
        event = json.dumps({"hold": 0.5}).encode()
        return list(await asyncio.gather(pool.invoke(fv, event), pool.invoke(fv, event)))

    results = loop.run(two_at_once())
    told = [json.loads(r.payload) for r in results]
    assert told[0]["pid"] != told[1]["pid"] and told[0]["context"] != told[1]["context"]
    for result, own in zip(results, told, strict=True):
        assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[1\][0-9a-f]{32}", own["context"])
        assert own["environ"] == own["context"]
        assert sink.streams[result.request_id] == {own["context"]}
        assert "on my stream" in sink.for_request(result.request_id)
    warm = invoke(loop, pool, fv)
    assert json.loads(warm.payload)["context"] in {t["context"] for t in told}
    template = pool._versions[fv.key].template
    if snapshot:  # the template's own output (its init) has a stream of its own
        assert template is not None and template.log.stream not in {t["context"] for t in told}


def test_init_error(loop: LoopThread, pool: InstancePool, broken_dir: Path) -> None:
    for snapshot in (True, False):
        fv = function_version(broken_dir, "bad", snapshot=snapshot, physical=f"bad-{snapshot}")
        warm = loop.run(pool.prewarm(fv))
        assert warm.status == "init_error"
        error = json.loads(warm.payload)
        assert error["errorType"] == "Runtime.ImportModuleError"
        assert "not_a_module_anywhere" in error["errorMessage"]
        assert error["stackTrace"]
        result = invoke(loop, pool, fv)
        assert result.status == "init_error"
        assert fv.function not in pool.instances()


def test_missing_code_is_an_init_error(loop: LoopThread, pool: InstancePool,
                                       tmp_path: Path) -> None:
    for snapshot in (True, False):
        fv = function_version(tmp_path / "gone", "echo", snapshot=snapshot,
                              physical=f"gone-{snapshot}")
        result = invoke(loop, pool, fv)
        assert result.status == "init_error"
        error = json.loads(result.payload)
        assert error["errorType"] == "Runtime.StartError"
        assert "cannot start an instance of gone" in error["errorMessage"]
        assert loop.run(pool.prewarm(fv)).status == "init_error"


def test_prewarm_ok(loop: LoopThread, pool: InstancePool, code_dir: Path) -> None:
    for snapshot in (True, False):
        fv = function_version(code_dir, "echo", snapshot=snapshot, physical=f"warm-{snapshot}")
        result = loop.run(pool.prewarm(fv))
        assert result.status == "ok" and result.init_ms is not None


def test_handler_exception_keeps_the_instance(loop: LoopThread, pool: InstancePool,
                                              code_dir: Path, sink: RecordingSink) -> None:
    fv = function_version(code_dir, "boom")
    first = invoke(loop, pool, fv)
    assert first.status == "error"
    error = json.loads(first.payload)
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "boom"
    assert any("raise ValueError" in frame for frame in error["stackTrace"])
    # Lambda's runtime logs it as one line: `[ERROR] Type: message`, then the traceback, CR
    # between the lines (awslambdaric's format on stdout)
    record = [x for x in sink.for_request(first.request_id) if x.startswith("[ERROR]")]
    assert record and record[0].startswith("[ERROR] ValueError: boom\rTraceback (most recent")
    assert "fns.py" in record[0] and "instance_main" not in record[0]
    second = invoke(loop, pool, fv)
    assert second.status == "error" and second.init_ms is None  # same instance


@pytest.mark.parametrize(("name", "reason"), [("exit3", "exit status 3"),
                                              ("segfault", "signal: segmentation fault")])
@pytest.mark.parametrize("snapshot", [True, False])
def test_crash_replaces_the_instance(loop: LoopThread, pool: InstancePool, code_dir: Path,
                                     sink: RecordingSink, name: str, reason: str, snapshot: bool,
                                     ) -> None:
    fv = function_version(code_dir, name, snapshot=snapshot, physical=f"{name}-{snapshot}")
    result = invoke(loop, pool, fv)
    assert result.status == "crash"
    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"] == (
        f"RequestId: {result.request_id} Error: Runtime exited with error: {reason}"
    )
    lines = sink.for_request(result.request_id)
    assert lines[-2] == f"END RequestId: {result.request_id}"
    if name == "exit3":
        assert "about to exit" in lines
    # The platform and the function's other requests are unaffected.
    echo = function_version(code_dir, "echo", snapshot=snapshot, physical=f"echo-{snapshot}")
    assert invoke(loop, pool, echo).status == "ok"
    again = invoke(loop, pool, fv)
    assert again.status == "crash" and again.init_ms is not None  # a new instance


@pytest.mark.parametrize("snapshot", [True, False])
def test_a_crash_is_billed_from_the_request_not_from_the_instances_start(
    loop: LoopThread, pool: InstancePool, code_dir: Path, sink: RecordingSink, snapshot: bool,
) -> None:
    fv = function_version(code_dir, "exit_if", snapshot=snapshot,
                          physical=f"exit-if-{snapshot}")
    assert invoke(loop, pool, fv).payload == b'"alive"'  # the instance is up...
    time.sleep(1.5)  # ... and idle for a while (time itself: the crash must not bill it)
    result = invoke(loop, pool, fv, {"exit": True})
    assert result.status == "crash" and result.init_ms is None  # the same, warm instance
    assert result.duration_ms < 1000, result.duration_ms
    report = sink.for_request(result.request_id)[-1]
    assert report.startswith("REPORT") and float(report.split("Duration: ")[1].split()[0]) < 1000


def test_timeout_kills_and_logs(loop: LoopThread, pool: InstancePool, code_dir: Path,
                                sink: RecordingSink) -> None:
    fv = function_version(code_dir, "sleep", timeout=1)
    invoke(loop, pool, fv, {"seconds": 0})  # warm: the timer covers the handler alone
    started = time.monotonic()
    result = invoke(loop, pool, fv, {"seconds": 30})
    elapsed = time.monotonic() - started
    assert result.status == "timeout"
    assert 1.0 <= elapsed < 4.0
    message = json.loads(result.payload)["errorMessage"]
    assert message.endswith(f"{result.request_id} Task timed out after 1.00 seconds")
    assert message in sink.for_request(result.request_id)
    assert invoke(loop, pool, fv, {"seconds": 0}).init_ms is not None  # replaced


def test_each_request_has_its_own_timeout(loop: LoopThread, pool: InstancePool,
                                          code_dir: Path) -> None:
    """One timer per instance checks the deadline of the request in progress: a request busy
    when an earlier request's deadline comes is not killed, and one that runs too long is, its
    own timeout after it began."""
    fv = function_version(code_dir, "sleep", timeout=1, physical="deadlines")
    invoke(loop, pool, fv, {"seconds": 0})  # the instance
    invoke(loop, pool, fv, {"seconds": 0})  # its deadline: 1 s from now
    time.sleep(0.6)
    assert invoke(loop, pool, fv, {"seconds": 0.7}).status == "ok"  # busy at the one before's
    started = time.monotonic()
    result = invoke(loop, pool, fv, {"seconds": 30})
    elapsed = time.monotonic() - started
    assert result.status == "timeout"
    assert 1.0 <= elapsed < 1.5, elapsed


def test_memory_limit(loop: LoopThread, pool: InstancePool, code_dir: Path) -> None:
    small = function_version(code_dir, "big", memory=128)
    assert invoke(loop, pool, small, {"mb": 10}).status == "ok"
    result = invoke(loop, pool, small, {"mb": 200})
    assert result.status == "crash"
    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.OutOfMemory"
    assert error["errorMessage"].endswith("Runtime exited with error: signal: killed")
    assert result.max_memory_mb == 128
    grow = function_version(code_dir, "grow", memory=128, timeout=20)
    started = time.monotonic()
    result = invoke(loop, pool, grow)
    assert result.status == "crash", result.payload
    assert json.loads(result.payload)["errorType"] == "Runtime.OutOfMemory"
    assert time.monotonic() - started < 10


def test_flask_runs_within_128_mb(loop: LoopThread, pool: InstancePool,
                                  tmp_path: Path) -> None:
    from tests.integration.local.dataplane_helpers import SITE_PACKAGES

    app = "import flask\napp = flask.Flask(__name__)\n@app.get('/')\ndef hi():\n    return 'hi'\n"
    code = build_artifact(tmp_path / "code", {"app.py": app}, {"app": None}, app="app:app")
    fv = function_version(code, "app", memory=128, layer_dir=SITE_PACKAGES, physical="flask128")
    event = {
        "version": "2.0", "routeKey": "$default", "rawPath": "/svc/dev/", "rawQueryString": "",
        "headers": {"host": "localhost"},
        "requestContext": {"http": {"method": "GET", "path": "/svc/dev/", "sourceIp": "127.0.0.1",
                                    "protocol": "HTTP/1.1", "userAgent": "t"},
                           "domainName": "localhost", "stage": "$default", "requestId": "r",
                           "timeEpoch": 0},
        "isBase64Encoded": False,
    }
    for snapshot in (True, False):
        fv = function_version(code, "app", memory=128, layer_dir=SITE_PACKAGES,
                              physical=f"flask128-{snapshot}", snapshot=snapshot)
        result = invoke(loop, pool, fv, event)
        assert result.status == "ok", result.payload
        assert json.loads(result.payload)["body"] == "hi"


def test_reserved_concurrency_throttles(loop: LoopThread, pool: InstancePool,
                                        code_dir: Path) -> None:
    fv = function_version(code_dir, "sleep", concurrency=1, physical="reserved")

    async def both() -> list[InvokeResult]:
        slow = asyncio.ensure_future(pool.invoke(fv, b'{"seconds": 1}'))
        await wait_until_async(lambda: pool._busy, message="the slow request on its instance")
        fast = await pool.invoke(fv, b'{"seconds": 0}')
        return [await slow, fast]

    slow, throttled = loop.run(both())
    assert slow.status == "ok"
    assert throttled.status == "throttled"
    assert json.loads(throttled.payload) == {
        "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
        "Type": "User",
        "message": "Rate Exceeded.",
    }
    assert pool.metrics.summary("reserved")["throttles"] == 1
    # Zero reserved concurrency disables the function.
    off = function_version(code_dir, "echo", concurrency=0, physical="disabled")
    assert invoke(loop, pool, off).status == "throttled"


def test_waiting_request_gets_the_freed_slot(loop: LoopThread, pool: InstancePool,
                                             code_dir: Path) -> None:
    fv = function_version(code_dir, "sleep", concurrency=1, physical="queued")
    invoke(loop, pool, fv, {"seconds": 0})  # warm: the wait below is for the slot alone

    async def both() -> list[InvokeResult]:
        first = asyncio.ensure_future(pool.invoke(fv, b'{"seconds": 0.05}'))
        await wait_until_async(lambda: pool._busy, message="the first request on its instance")
        second = await pool.invoke(fv, b'{"seconds": 0}')  # waits for first's slot
        return [await first, second]

    first, second = loop.run(both())
    assert (first.status, second.status) == ("ok", "ok")
    assert second.init_ms is None  # it ran on the instance the first one freed


def test_account_concurrency_throttles(loop: LoopThread, sink: RecordingSink, code_dir: Path,
                                       tmp_path: Path) -> None:
    async def scenario() -> list[InvokeResult]:
        small = InstancePool(sink, account_concurrency=2, throttle_wait=0.1)
        try:
            fvs = [function_version(code_dir, "sleep", physical=f"acct-{i}") for i in range(3)]
            calls = [small.invoke(fv, b'{"seconds": 0.8}') for fv in fvs[:2]]
            running = [asyncio.ensure_future(c) for c in calls]
            await wait_until_async(lambda: len(small._busy) == 2,
                                   message="both requests on their instances")
            third = await small.invoke(fvs[2], b'{"seconds": 0}')
            return [third, *await asyncio.gather(*running)]
        finally:
            await small.close()

    third, *others = loop.run(scenario())
    assert third.status == "throttled"
    assert json.loads(third.payload)["Reason"] == "ConcurrentInvocationLimitExceeded"
    assert [r.status for r in others] == ["ok", "ok"]


@pytest.mark.parametrize("snapshot", [True, False])
def test_scale_to_zero(loop: LoopThread, pool: InstancePool, code_dir: Path,
                       snapshot: bool) -> None:
    fv = function_version(code_dir, "echo", keep_alive=1, snapshot=snapshot,
                          physical=f"idle-{snapshot}")
    result = invoke(loop, pool, fv)
    pid = json.loads(result.payload)["pid"]
    assert pool.instances()[fv.function] == 1
    template = pool._versions[fv.key].template
    others = [template.watch.proc.pid] if template else []
    if template:  # the child forked ahead for the next cold start
        others.append(wait_until(lambda: template.spare and template.spare.pid, timeout=5,
                                 message="the child forked ahead"))
    wait_until(lambda: fv.function not in pool.instances(), timeout=5, interval=0.1,
               message=f"{fv.function} scaled to zero")

    def left() -> list[str]:
        return [*(["the instance"] if alive(pid) else []),
                *(["the version's entry"] if fv.key in pool._versions else []),
                *(f"process {p}" for p in others if p and alive(p))]

    wait_until(lambda: not left(), timeout=5, message=lambda: f"nothing left: {left()}")
    assert not alive(pid)
    assert fv.key not in pool._versions  # no template either
    assert not [p for p in others if p and alive(p)]
    again = invoke(loop, pool, fv)
    assert again.status == "ok" and again.init_ms is not None


def test_retire_lets_in_flight_requests_finish(loop: LoopThread, pool: InstancePool,
                                               code_dir: Path) -> None:
    old = function_version(code_dir, "sleep", version=1, physical="retired")

    async def scenario() -> tuple[InvokeResult, float, int]:
        running = asyncio.ensure_future(pool.invoke(old, b'{"seconds": 0.5}'))
        await wait_until_async(lambda: pool._busy, interval=0.005,
                               message="the request on its instance")
        started = time.monotonic()
        template = pool._versions[old.key].template
        assert template is not None
        await pool.retire("retired", {2})
        return await running, time.monotonic() - started, template.watch.proc.pid

    result, waited, template_pid = loop.run(scenario())
    assert result.status == "ok" and json.loads(result.payload) == "slept"
    assert waited >= 0.4  # retire returned only once the in-flight request was done
    assert "retired" not in pool.instances()
    wait_until(lambda: not alive(template_pid), timeout=3,
               message=f"the retired template (pid {template_pid}) to end")
