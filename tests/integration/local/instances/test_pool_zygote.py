"""Zygotes: a new version's template forked from a process that has imported the layer's
modules already, importing only its own code; never a module of another version's code. A
zygote outlives its layer's templates (ALOFT_ZYGOTE_IDLE) and serves every function on it."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aloft.local.instances.instance import ForkedProcess
from aloft.local.instances.pool import InstancePool
from aloft.local.types import FunctionVersion
from tests.integration.local.dataplane_helpers import (
    LoopThread,
    RecordingSink,
    build_artifact,
    function_version,
)
from tests.waiting import wait_until

DEP = """
import os
import time
LOADED_BY = os.getpid()  # the process that imported this module
time.sleep(0.3)  # a dependency slow to import, as real ones are
"""

FNS = """
import sys
import dep
{extra}
VERSION = {version}


def where(event, context):
    return {{"version": VERSION, "dep_loaded_by": dep.LOADED_BY, "pid": __import__("os").getpid(),
            "leaked": sorted(m for m in ("only_v1", "fns_v1") if m in sys.modules)}}
"""


@pytest.fixture()
def pool(loop: LoopThread, tmp_path: Path) -> Iterator[InstancePool]:
    pool = InstancePool(RecordingSink())
    yield pool
    loop.run(pool.close())


def version(root: Path, layer: Path, n: int, extra: str = "") -> FunctionVersion:
    modules = {"fns.py": FNS.format(version=n, extra=extra)}
    if n == 1:
        modules["only_v1.py"] = "X = 1\n"
    code = build_artifact(root / f"code{n}", modules, {"where": "fns.where"})
    return function_version(code, "where", version=n, layer_dir=layer)


def call(loop: LoopThread, pool: InstancePool, fv: FunctionVersion) -> dict[str, object]:
    result = loop.run(pool.invoke(fv, b"{}"))
    assert result.status == "ok", result.payload
    data: dict[str, object] = json.loads(result.payload)
    return data


def dep_layer(root: Path, dep: str = DEP) -> Path:
    """A dependency layer holding `dep.py` (by default the module that takes 0.3 s to import)."""
    layer = root / "layer"
    layer.mkdir()
    (layer / "dep.py").write_text(dep)
    return layer


def the_zygote_pid(pool: InstancePool) -> int:
    return next(iter(pool.templates._zygotes.values())).watch.proc.pid


def wait_for_zygote(pool: InstancePool) -> None:
    wait_until(lambda: any(z.ready.done() and z.alive for z in pool.templates._zygotes.values()),
               timeout=10, interval=0.02, message="a ready zygote")


def test_next_version_reuses_the_layer_not_the_code(
    loop: LoopThread, pool: InstancePool, tmp_path: Path
) -> None:
    layer = dep_layer(tmp_path)
    v1 = version(tmp_path, layer, 1, extra="import only_v1")
    first = call(loop, pool, v1)
    assert first["version"] == 1 and first["leaked"] == ["only_v1"]
    wait_for_zygote(pool)

    v2 = version(tmp_path, layer, 2)
    started = time.perf_counter()
    prewarm = loop.run(pool.prewarm(v2))
    elapsed = time.perf_counter() - started
    assert prewarm.status == "ok"
    second = call(loop, pool, v2)
    assert second["version"] == 2
    assert second["leaked"] == []  # v1's own module never reaches v2
    zygote_pid = the_zygote_pid(pool)
    assert second["dep_loaded_by"] == zygote_pid  # the layer's module came from the zygote
    assert first["dep_loaded_by"] != zygote_pid
    assert elapsed < 0.3  # dep's 0.3 s import was not paid again


def test_zygotes_stop_once_idle_after_their_layers_templates(
    loop: LoopThread, pool: InstancePool, tmp_path: Path
) -> None:
    layer = dep_layer(tmp_path, "LOADED_BY = 0\n")
    v1 = version(tmp_path, layer, 1)
    call(loop, pool, v1)
    wait_for_zygote(pool)
    zygote = next(iter(pool.templates._zygotes.values()))
    pool.templates.zygote_idle = 1.5
    loop.run(pool.retire(v1.function, set()))
    gone = time.monotonic()
    # Only the zygote is left: the reaper stops (no wake-ups while the platform idles) and a
    # timer brings it back when the zygote is due.
    wait_until(lambda: pool._reaper is not None and pool._reaper.done(), timeout=5,
               message="the reaper to stop")
    assert zygote.alive and pool.templates._zygotes
    wait_until(lambda: not pool.templates._zygotes, timeout=5, message="the zygote to stop")
    assert time.monotonic() - gone >= 1.5  # it outlived the template by zygote_idle
    assert not zygote.alive
    zygote.watch.proc.wait(5)  # the process is gone too


def test_after_idle_any_function_on_the_layer_starts_from_its_zygote(
    loop: LoopThread, pool: InstancePool, tmp_path: Path
) -> None:
    layer = dep_layer(tmp_path)
    v1 = version(tmp_path, layer, 1)
    first = call(loop, pool, v1)
    wait_for_zygote(pool)
    zygote_pid = the_zygote_pid(pool)

    # Idle past keep_alive: no instance, no template of the function; the zygote stays.
    loop.call(lambda: pool.drop_idle(v1.function, templates=True))
    wait_until(lambda: not pool.instances(), timeout=5, message="no instance left")
    again = call(loop, pool, v1)
    assert again["pid"] != first["pid"]
    assert again["dep_loaded_by"] == zygote_pid

    # Another function of the service, on the same layer: the same zygote.
    code = build_artifact(tmp_path / "other", {"fns.py": FNS.format(version=1, extra="")},
                          {"other": "fns.where"})
    other = function_version(code, "other", layer_dir=layer)
    assert call(loop, pool, other)["dep_loaded_by"] == zygote_pid
    assert len(pool.templates._zygotes) == 1


def test_env_change_gets_its_own_zygote(
    loop: LoopThread, pool: InstancePool, tmp_path: Path
) -> None:
    layer = dep_layer(tmp_path)
    v1 = version(tmp_path, layer, 1)
    call(loop, pool, v1)
    wait_for_zygote(pool)
    v2 = version(tmp_path, layer, 2)
    env = dict(v2.environment, FEATURE="on")  # a config change, not code only
    v2 = FunctionVersion(**{**v2.__dict__, "environment": env})
    second = call(loop, pool, v2)
    zygote_pids = {z.watch.proc.pid for z in pool.templates._zygotes.values()}
    assert second["dep_loaded_by"] not in zygote_pids


def test_a_broken_new_version_still_reports_its_init_error(
    loop: LoopThread, pool: InstancePool, tmp_path: Path
) -> None:
    layer = dep_layer(tmp_path, "LOADED_BY = 0\n")
    call(loop, pool, version(tmp_path, layer, 1))
    wait_for_zygote(pool)
    code = build_artifact(tmp_path / "broken", {"fns.py": "def where(:\n"}, {"where": "fns.where"})
    broken = function_version(code, "where", version=2, layer_dir=layer)
    result = loop.run(pool.prewarm(broken))
    assert result.status == "init_error"
    assert json.loads(result.payload)["errorType"] == "Runtime.UserCodeSyntaxError"


RUNTIME = """
import aloft.runtime.handler as runtime


def where(event, context):
    return {"file": runtime.__file__, "compiled_from": runtime.init.__code__.co_filename,
            "sources": __import__("aloft.runtime.sources").runtime.sources.__path__}
"""


@pytest.mark.parametrize("changed", [False, True], ids=["same files", "changed runtime"])
def test_a_template_from_the_zygote_uses_its_runtime_only_if_the_files_are_the_same(
    loop: LoopThread, pool: InstancePool, tmp_path: Path, changed: bool
) -> None:
    """The zygote imports aloft's runtime from the code of the template that started it; a
    template it forks uses those modules, repointed to its own code dir, when its files are
    the same, and imports its own otherwise (an artifact built by another aloft)."""
    layer = dep_layer(tmp_path, "LOADED_BY = 0\n")
    modules = {"fns.py": "import dep\n" + RUNTIME}
    v1 = function_version(build_artifact(tmp_path / "code1", modules, {"where": "fns.where"}),
                          "where", layer_dir=layer)
    first = call(loop, pool, v1)
    wait_for_zygote(pool)
    code2 = build_artifact(tmp_path / "code2", modules, {"where": "fns.where"})
    if changed:
        handler = code2 / "aloft" / "runtime" / "handler.py"
        handler.write_text(handler.read_text() + "\n# built by another aloft\n")
    second = call(loop, pool, function_version(code2, "where", version=2, layer_dir=layer))
    assert Path(str(first["file"])).is_relative_to(v1.code_dir)
    assert Path(str(second["file"])).is_relative_to(code2)  # repointed, or its own
    assert second["sources"] == [str(code2 / "aloft" / "runtime" / "sources")]
    imported_in = Path(str(second["compiled_from"]))
    assert imported_in.is_relative_to(code2 if changed else v1.code_dir)


def spares(zygote_pid: int) -> list[int]:
    """The zygote's children waiting to become templates."""
    children = Path(f"/proc/{zygote_pid}/task/{zygote_pid}/children").read_text().split()
    named = []
    for pid in map(int, children):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "aloft-spare":
                named.append(pid)
        except OSError:
            continue
    return named


def test_after_idle_the_zygotes_spare_serves_and_the_template_starts_beside(
    loop: LoopThread, pool: InstancePool, tmp_path: Path
) -> None:
    """A cold start after idle (no process of the function, its layer's zygote alive): the
    request's instance is the child the zygote forked ahead of need (no fork on the way), and
    runs init itself; the version's template starts once that init is done, in the next
    spare, for the cold starts that follow (forked from it)."""
    layer = dep_layer(tmp_path, "LOADED_BY = 0\n")
    where = FNS.format(version=1, extra="") + (
        "\n\ndef parent(event, context):\n    import os\n"
        "    return [os.getpid(), os.getppid()]\n")
    code = build_artifact(tmp_path / "code", {"fns.py": where}, {"parent": "fns.parent"})
    fv = function_version(code, "parent", layer_dir=layer)
    assert loop.run(pool.invoke(fv, b"{}")).status == "ok"
    wait_for_zygote(pool)
    zygote_pid = the_zygote_pid(pool)
    wait_until(lambda: spares(zygote_pid), timeout=10, interval=0.02, message="a spare")
    (spare,) = spares(zygote_pid)

    # after idle: no process of the function
    loop.call(lambda: pool.drop_idle(fv.function, templates=True))
    wait_until(lambda: not pool.instances(), timeout=5, message="no instance left")
    result = loop.run(pool.invoke(fv, b"{}"))
    assert result.status == "ok", result.payload
    assert json.loads(result.payload) == [spare, zygote_pid]  # the spare that was waiting
    version = pool._versions[fv.key]
    wait_until(lambda: version.template is not None and version.template.alive, timeout=10,
               interval=0.02, message="the template, started beside")
    template = version.template
    assert template is not None and isinstance(template.watch, ForkedProcess)  # the zygote's
    template_pid = template.watch.pid
    assert template_pid is not None and template_pid not in (spare, zygote_pid)
    # the next cold start (its template alive) forks from that template
    loop.call(lambda: pool.drop_idle(fv.function))
    wait_until(lambda: not pool.instances(), timeout=5, message="no instance left")
    forked = loop.run(pool.invoke(fv, b"{}"))
    assert forked.status == "ok", forked.payload
    assert json.loads(forked.payload)[1] == template_pid
    wait_until(lambda: spares(zygote_pid), timeout=10, interval=0.02, message="the next spare")
    assert spares(zygote_pid) != [spare]


def test_after_idle_an_init_that_fails_starts_no_template(
    loop: LoopThread, pool: InstancePool, tmp_path: Path
) -> None:
    """The first request after idle gets the init error from the instance that ran init; no
    template is started for a version that cannot initialise (the next cold start tries init
    again, as Lambda's does)."""
    layer = dep_layer(tmp_path, "LOADED_BY = 0\n")
    flag = tmp_path / "broken"
    code = build_artifact(tmp_path / "code", {"fns.py": (
        f"import os\nif os.path.exists({str(flag)!r}):\n    raise RuntimeError('broken')\n\n\n"
        "def ok(event, context):\n    return 'ok'\n")}, {"ok": "fns.ok"})
    fv = function_version(code, "ok", layer_dir=layer)
    assert loop.run(pool.invoke(fv, b"{}")).status == "ok"
    wait_for_zygote(pool)
    loop.call(lambda: pool.drop_idle(fv.function, templates=True))
    wait_until(lambda: not pool.instances(), timeout=5, message="no instance left")
    started: list[object] = []  # what asked for a template beside (then it starts it)
    beside = pool.templates.start_beside
    pool.templates.start_beside = lambda slot: (started.append(slot), beside(slot))[-1]
    flag.write_text("")
    for _ in range(2):
        failed = loop.run(pool.invoke(fv, b"{}"))
        assert failed.status == "init_error", failed
        assert b"broken" in failed.payload
        time.sleep(0.3)  # (a template started beside would be starting by now)
        assert started == [] and not pool.templates._starting  # no template started beside
        version = pool._versions.get(fv.key)  # (its record may be gone with its instance)
        assert version is None or (version.template is None and
                                   version.template_starting is None)


def test_without_spares_the_zygote_forks_each_template(
    loop: LoopThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ALOFT_ZYGOTE_SPARE=0: a zygote and nothing forked ahead (less memory per layer)."""
    monkeypatch.setenv("ALOFT_ZYGOTE_SPARE", "0")
    pool = InstancePool(RecordingSink())
    try:
        layer = dep_layer(tmp_path)
        v1 = version(tmp_path, layer, 1)
        call(loop, pool, v1)
        wait_for_zygote(pool)
        zygote_pid = the_zygote_pid(pool)
        loop.call(lambda: pool.drop_idle(v1.function, templates=True))
        wait_until(lambda: not pool.instances(), timeout=5, message="no instance left")
        assert call(loop, pool, v1)["dep_loaded_by"] == zygote_pid  # forked from the zygote
        argv = Path(f"/proc/{zygote_pid}/cmdline").read_bytes().split(b"\0")
        assert b"spare" not in argv  # told to keep none (the spare test: those that do, do)
        assert spares(zygote_pid) == []
    finally:
        loop.run(pool.close())


PROVISIONED = """
import os
import dep

AT_INIT = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")
RAN_INIT_IN = os.getpid()


def where(event, context):
    return {"pid": os.getpid(), "dep_loaded_by": dep.LOADED_BY, "init": AT_INIT,
            "init_pid": RAN_INIT_IN}
"""


def test_a_provisioned_instance_is_forked_from_the_zygote_and_runs_init_as_one(
    loop: LoopThread, pool: InstancePool, tmp_path: Path
) -> None:
    """Provisioned concurrency on a layer whose zygote is ready: each instance is forked from
    it (the layer imported there once, its pages shared) and runs the version's init itself,
    as provisioned-concurrency; not a fresh Python importing the layer again."""
    layer = dep_layer(tmp_path)
    call(loop, pool, version(tmp_path, layer, 1))  # the layer's first template: its zygote
    wait_for_zygote(pool)
    zygote_pid = the_zygote_pid(pool)
    code = build_artifact(tmp_path / "prov", {"prov.py": PROVISIONED}, {"prov": "prov.where"})
    fv = dataclasses.replace(function_version(code, "prov", layer_dir=layer), provisioned=2)

    def provisioned() -> set[int]:
        version = pool._versions.get(fv.key)
        return set() if version is None else {
            i.pid for i in version.live if i.provisioned and i.pid is not None}

    loop.call(lambda: pool.provision([fv]))
    pids = wait_until(lambda: (p := loop.call(provisioned)) and len(p) == 2 and p, timeout=10,
                      message="two provisioned instances")
    answer = call(loop, pool, fv)
    assert answer["pid"] in pids
    assert answer["dep_loaded_by"] == zygote_pid  # the layer, imported by the zygote
    assert answer["init_pid"] == answer["pid"]  # the version's init ran in the instance
    assert answer["init"] == "provisioned-concurrency"


ONLY_FRESH = """
import os
import dep

if dep.LOADED_BY != os.getpid():
    raise RuntimeError("init fails in a zygote's fork")


def where(event, context):
    return {"pid": os.getpid(), "dep_loaded_by": dep.LOADED_BY}
"""


def test_a_provisioned_init_that_fails_in_the_zygotes_fork_is_tried_fresh(
    loop: LoopThread, pool: InstancePool, tmp_path: Path
) -> None:
    """As a zygote's template is: an init that fails in a fork of the zygote is tried once as
    a fresh process, and only what fails there too is reported."""
    layer = dep_layer(tmp_path)
    call(loop, pool, version(tmp_path, layer, 1))
    wait_for_zygote(pool)
    code = build_artifact(tmp_path / "picky", {"picky.py": ONLY_FRESH}, {"picky": "picky.where"})
    fv = dataclasses.replace(function_version(code, "picky", layer_dir=layer), provisioned=1)
    loop.call(lambda: pool.provision([fv]))

    def provisioned() -> list[int]:
        version = pool._versions.get(fv.key)
        return [] if version is None else [
            i.pid for i in version.live if i.provisioned and i.pid is not None]

    (pid,) = wait_until(lambda: loop.call(provisioned), timeout=10,
                        message="a provisioned instance")
    answer = call(loop, pool, fv)
    assert answer == {"pid": pid, "dep_loaded_by": pid}  # a fresh process: its own import
    sink = pool._sink
    assert isinstance(sink, RecordingSink)
    assert not any("failed to initialise" in line for *_, line in sink.lines)
