"""SnapStart's runtime hooks (snapshot_restore_py, which Lambda's Python runtime provides and the
runtime layer too): a template runs the `@register_before_snapshot` hooks once, after init and
priming, before its first fork, newest first; every instance forked from it runs the
`@register_after_restore` hooks before its first request, oldest first. A fresh instance
(`snapshot: false`) runs neither, as a function without SnapStart. A hook that raises fails
the version (before) or the request (after), saying which hook and why."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aloft.local.instances.pool import InstancePool
from aloft.local.types import FunctionVersion
from aloft.package.provided import ensure_layer
from tests.integration.local.dataplane_helpers import (
    LoopThread,
    RecordingSink,
    build_artifact,
    function_version,
)
from tests.waiting import wait_until

HOOKS = """
import os

from snapshot_restore_py import register_after_restore, register_before_snapshot

state = {"init_pid": os.getpid(), "before": [], "after": []}


@register_before_snapshot
def close_things():
    state["before"].append(["close_things", os.getpid()])


def tagged(tag, *, suffix):
    state["before"].append([tag + suffix, os.getpid()])


register_before_snapshot(tagged, "tag", suffix="ged")


@register_after_restore
def reconnect():
    state["after"].append(["reconnect", os.getpid()])


register_after_restore(lambda: state["after"].append(["reseed", os.getpid()]))


def handler(event, context):
    if os.environ.get("FAIL") == "after":
        raise AssertionError("never reached: the after-restore hook failed first")
    return {"pid": os.getpid(), **state}
"""

FAILING = """
import os

from snapshot_restore_py import register_after_restore, register_before_snapshot

if os.environ["FAIL"] == "before":
    @register_before_snapshot
    def flush():
        raise RuntimeError("cannot flush the cache")
else:
    @register_after_restore
    def reconnect():
        raise ConnectionError("database unreachable")


def handler(event, context):
    return "served"
"""


@pytest.fixture(scope="module")
def runtime_layer() -> Path:
    """Lambda's runtime layer (boto3, botocore, snapshot_restore_py), installed once."""
    return ensure_layer(f"{sys.version_info[0]}.{sys.version_info[1]}")


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


def _version(tmp_path: Path, source: str, layer: Path, *, snapshot: bool = True,
             fail: str | None = None) -> FunctionVersion:
    code = build_artifact(tmp_path / "code", {"fns.py": source}, {"fn": "fns.handler"})
    fv = function_version(code, "fn", snapshot=snapshot)
    env = dict(fv.environment, **({"FAIL": fail} if fail else {}))
    return dataclasses.replace(fv, runtime_dir=layer, environment=env)


def _invoke(loop: LoopThread, pool: InstancePool, fv: FunctionVersion) -> Any:
    return loop.run(pool.invoke(fv, b"{}"))


def test_before_in_the_template_once_after_in_every_forked_instance(
    tmp_path: Path, runtime_layer: Path, loop: LoopThread
) -> None:
    fv = _version(tmp_path, HOOKS, runtime_layer)
    sink = RecordingSink()
    pool = InstancePool(sink)
    try:
        first = _invoke(loop, pool, fv)
        assert first.status == "ok", (first.payload, sink.lines)
        loop.call(lambda: pool.drop_idle(fv.function))  # the next request: a new fork
        second = _invoke(loop, pool, fv)
        assert second.status == "ok", (second.payload, sink.lines)
    finally:
        loop.run(pool.close())
    one, two = json.loads(first.payload), json.loads(second.payload)
    template = one["init_pid"]
    assert one["pid"] != template and two["pid"] not in (template, one["pid"])
    # before the snapshot: in the template, newest registration first, and once only
    assert one["before"] == two["before"] == [["tagged", template], ["close_things", template]]
    # after the restore: in each instance itself, oldest first, before its first request
    assert one["after"] == [["reconnect", one["pid"]], ["reseed", one["pid"]]]
    assert two["after"] == [["reconnect", two["pid"]], ["reseed", two["pid"]]]


def test_a_fresh_instance_runs_no_hook(
    tmp_path: Path, runtime_layer: Path, loop: LoopThread
) -> None:
    fv = _version(tmp_path, HOOKS, runtime_layer, snapshot=False)
    sink = RecordingSink()
    pool = InstancePool(sink)
    try:
        result = _invoke(loop, pool, fv)
    finally:
        loop.run(pool.close())
    assert result.status == "ok", (result.payload, sink.lines)
    answer = json.loads(result.payload)
    assert answer["init_pid"] == answer["pid"]
    assert answer["before"] == [] and answer["after"] == []


@pytest.mark.parametrize(
    ("fail", "message"),
    [
        ("before", "a @register_before_snapshot hook raised: cannot flush the cache"),
        ("after", "a @register_after_restore hook raised: database unreachable"),
    ],
)
def test_a_failing_hook_fails_the_init_and_says_which(
    tmp_path: Path, runtime_layer: Path, loop: LoopThread, fail: str, message: str
) -> None:
    fv = _version(tmp_path, FAILING, runtime_layer, fail=fail)
    sink = RecordingSink()
    pool = InstancePool(sink)
    try:
        results = [_invoke(loop, pool, fv) for _ in range(2)]
    finally:
        loop.run(pool.close())
    for result in results:  # the next request fails alike: nothing half-started serves
        assert result.status == "init_error", (result.payload, sink.lines)
        error = json.loads(result.payload)
        assert error["errorMessage"] == message
        assert error["errorType"] == ("RuntimeError" if fail == "before" else "ConnectionError")
        assert any("fns.py" in frame for frame in error["stackTrace"]), error
    logged = "\n".join(text for *_, text in sink.lines)
    assert message in logged


def test_a_spare_that_failed_before_any_request_answers_its_error(
    tmp_path: Path, runtime_layer: Path, loop: LoopThread
) -> None:
    """The template's spare (forked ahead, before any request) runs its after-restore hook at
    once; when that fails, its INIT_ERROR comes with no request to answer. The request that
    takes the spare later gets that error, not a crash (seen: 1 run in 8 said "crash")."""
    fv = _version(tmp_path, FAILING, runtime_layer, fail="after")
    sink = RecordingSink()
    pool = InstancePool(sink)
    try:
        assert loop.run(pool.prewarm(fv)).status == "ok"  # the template, and its spare forked

        def spare_failed() -> bool:
            version = pool._versions[fv.key]
            template = pool.templates.running(version)
            spare = template.spare if template is not None else None
            return spare is not None and spare.ready.done()

        wait_until(lambda: loop.call(spare_failed), message="the spare's INIT_ERROR")
        result = _invoke(loop, pool, fv)
    finally:
        loop.run(pool.close())
    assert result.status == "init_error", (result.payload, sink.lines)
    assert json.loads(result.payload)["errorMessage"] == \
        "a @register_after_restore hook raised: database unreachable"


CHATTY = """
import sys

from snapshot_restore_py import register_after_restore

print("importing the model")
sys.stderr.write("a partial line of init")  # no newline: its end is the init's end


@register_after_restore
def reconnect():
    print("reconnecting after the restore")


def handler(event, context):
    print("handling", context.aws_request_id)
    return "ok"
"""


@pytest.mark.parametrize("snapshot", [True, False])
def test_init_and_restore_output_is_logged_before_the_request_not_in_it(
    tmp_path: Path, runtime_layer: Path, loop: LoopThread, snapshot: bool
) -> None:
    """As Lambda logs its INIT and RESTORE phases: what an instance prints while it starts (a
    fresh one's imports, a forked one's after-restore hooks) has no request id and comes before
    the START of the request it started for; what the request prints is the request's."""
    fv = _version(tmp_path, CHATTY, runtime_layer, snapshot=snapshot)
    sink = RecordingSink()
    pool = InstancePool(sink)
    try:
        first = _invoke(loop, pool, fv)
        loop.call(lambda: pool.drop_idle(fv.function))  # the next request: a new instance
        second = _invoke(loop, pool, fv)
    finally:
        loop.run(pool.close())
    init = [text for _, _, rid, text in sink.lines if rid is None]
    for result in (first, second):
        assert result.status == "ok", (result.payload, sink.lines)
        rid = result.request_id
        own = sink.for_request(rid)
        assert own[0].startswith("START ") and own[1] == f"handling {rid}", own
        assert not any("reconnecting" in line or "init" in line for line in own), own
        start = sink.lines.index(next(e for e in sink.lines if e[2] == rid))
        before = [text for _, _, r, text in sink.lines[:start] if r is None]
        if snapshot:  # the import ran once, in the template; each instance restored
            assert before.count("reconnecting after the restore") == (
                1 if result is first else 2), sink.lines
        else:  # each instance imported the code itself
            assert before.count("importing the model") == (1 if result is first else 2)
            assert before.count("a partial line of init") == (1 if result is first else 2)
    if snapshot:
        assert init.count("importing the model") == 1  # the template's init, once
    assert not any("aloft: init done" in text for *_, text in sink.lines)


INIT_TYPE = """
import os


def handler(event, context):
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")
"""


def test_a_snap_start_function_is_told_its_initialization_type(
    tmp_path: Path, runtime_layer: Path, loop: LoopThread
) -> None:
    fv = _version(tmp_path, INIT_TYPE, runtime_layer)
    fv = dataclasses.replace(fv, snap_start=True, environment={
        **fv.environment, "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"})
    pool = InstancePool(RecordingSink())
    try:
        result = _invoke(loop, pool, fv)
    finally:
        loop.run(pool.close())
    assert json.loads(result.payload) == "snap-start"
