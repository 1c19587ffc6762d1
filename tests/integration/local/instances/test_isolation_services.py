"""What a function sees of another service deployed on the same machine: nothing of its code or
its dependency layer, neither in the artifact store nor in the build cache (~/.cache/aloft,
where the packager keeps every project's dependencies, zipped and unpacked), and neither from
its instances nor from its layer's zygote (where its dependencies' code runs at import)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from aloft.local.instances.pool import InstancePool
from aloft.package.cache import default_cache_dir
from tests.integration.local.cloud_helpers import (
    Cloud,
    cloud_fixture,
    module_wheel,
    service,
    write_project,
)
from tests.integration.local.dataplane_helpers import (
    LoopThread,
    RecordingSink,
    build_artifact,
    function_version,
)
from tests.integration.local.instances.test_isolation import (
    NOT_THERE,
    OUTCOMES,
    _isolated,
    isolated_home,
)
from tests.waiting import wait_until

cloud = cloud_fixture()

LOOK = OUTCOMES + """
import {dep}


def _list(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))


def look(event, context):
    return {{
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "dep_file": {dep}.__file__,
        "dep_says": {dep}.SAYS,
        "read": {{p: _outcome(lambda p=p: _read(p)) for p in event.get("read", [])}},
        "list": {{p: _list(p) for p in event.get("list", [])}},
    }}
"""

CONFIG = """
    service: {name}
    functions:
      look:
        handler: fns.look
    stages:
      dev: {{}}
"""


def _deploy(cloud: Cloud, tmp_path: Path, name: str) -> Any:
    """A service `name` whose layer holds `<name>dep` (from requirements.txt): a layer of its
    own, in the artifact store and in the build cache."""
    root = tmp_path / name
    root.mkdir()
    dep = f"{name}dep"
    wheel = module_wheel(root, dep, f"SAYS = 'the layer of {name}'\n")
    (root / "requirements.txt").write_text(f"./{wheel.name}\n")
    write_project(root, CONFIG.format(name=name),
                  {"fns.py": LOOK.format(dep=dep), "secret.py": f"CODE = 'the code of {name}'\n"})
    svc = service(root)
    cloud.provider.deploy(svc)
    return svc


def test_a_function_sees_nothing_of_another_services_code_or_layer(
    cloud: Cloud, tmp_path: Path
) -> None:
    _isolated(cloud)
    mine = _deploy(cloud, tmp_path, "alpha")
    theirs = _deploy(cloud, tmp_path, "beta")
    out = cloud.provider.invoke(theirs, "look", {})
    assert out.error is None, out.logs
    beta = out.payload
    beta_code = Path(beta["task_root"])
    beta_layer = Path(beta["dep_file"]).parent.parent  # unpacked/<sha256>/python/betadep.py
    cache = default_cache_dir()  # where `deploy` built both layers (the daemon's too)
    beta_cached = cache / "unpacked" / beta_layer.name  # the same archive, unpacked there too
    assert (beta_cached / "python" / "betadep.py").is_file(), sorted(cache.rglob("betadep.py"))
    cached_zips = [str(p) for p in (cache / "layers").glob("*/archive.zip")]
    assert cached_zips
    store = beta_code.parent
    read = [str(beta_code / "secret.py"), str(beta_code / "fns.py"), beta["dep_file"],
            str(beta_cached / "python" / "betadep.py"), *cached_zips]
    listed = [str(beta_code), str(beta_layer), str(beta_cached), str(cache / "unpacked"),
              str(cache / "layers"), str(cache), str(store)]

    out = cloud.provider.invoke(mine, "look", {"read": read, "list": listed})
    assert out.error is None, out.logs
    alpha = out.payload
    assert alpha["dep_says"] == "the layer of alpha"  # its own layer is there
    for path, outcome in alpha["read"].items():
        assert outcome in NOT_THERE, f"{path} (of another service) is readable: {outcome}"
    seen = alpha["list"]
    for path in listed[:-1]:  # nothing there, or an empty directory
        assert seen[path] == [] or seen[path] in NOT_THERE, f"{path} lists {seen[path]}"
    # of the artifact store, only its own code and layer
    own = {Path(alpha["task_root"]).name, Path(alpha["dep_file"]).parent.parent.name}
    assert set(seen[str(store)]) == own


ZYGOTE_DEP = """
import json
import os


def _outcome(path):
    try:
        if os.path.isdir(path):
            return sorted(os.listdir(path))
        with open(path, "rb") as fh:
            fh.read(1)
        return "ok"
    except OSError as exc:
        return type(exc).__name__


LOADED_BY = os.getpid()
# What a dependency sees as it is imported (in its layer's zygote, for the templates forked from
# it): the paths the function's environment names.
SEEN = {p: _outcome(p) for p in json.loads(os.environ["LOOK_AT"])}
"""

ZYGOTE_FNS = """
import os

import dep
import rtmod


def look(event, context):
    return {"dep_loaded_by": dep.LOADED_BY, "dep_saw": dep.SEEN, "runtime": rtmod.WHO,
            "own": sorted(os.listdir(os.getcwd()))}
"""


def _look_at(fv: Any, paths: list[Path], runtime: Path) -> Any:
    env = {**fv.environment, "LOOK_AT": json.dumps([str(p) for p in paths])}
    return dataclasses.replace(fv, environment=env, runtime_dir=runtime)


def test_a_zygote_sees_only_its_own_layer_and_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A layer's zygote imports the layer's modules: that dependency code sees, of the artifact
    store, its layer and the code of its own service's versions, nothing of another service's
    code or layer; nor the build cache, beyond the runtime layer (Lambda's boto3) kept there."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("ALOFT_CACHE_DIR", str(cache))  # before isolated_home: hidden too
    runtime = cache / "runtime" / "python3-test"
    runtime.mkdir(parents=True)
    (runtime / "rtmod.py").write_text("WHO = 'runtime layer'\n")
    cached_dep = cache / "unpacked" / "theirs" / "python" / "otherdep.py"
    cached_dep.parent.mkdir(parents=True)
    cached_dep.write_text("X = 1\n")
    home, artifacts = isolated_home(tmp_path, monkeypatch)
    layer, other_layer = artifacts / "layer", artifacts / "otherlayer"
    layer.mkdir()
    (layer / "dep.py").write_text(ZYGOTE_DEP)
    other_layer.mkdir()
    (other_layer / "dep.py").write_text(ZYGOTE_DEP)
    look_at = [artifacts, artifacts / "other" / "fns.py", other_layer / "dep.py", cached_dep,
               cache / "unpacked", home / "token"]
    other = _look_at(function_version(
        build_artifact(artifacts / "other", {"fns.py": ZYGOTE_FNS}, {"look": "fns.look"}),
        "look", layer_dir=other_layer, physical="other-dev-look"), look_at, runtime)
    other = dataclasses.replace(other, environment={**other.environment,
                                                    "ALOFT_BASE_PATH": "/other/dev"})
    fvs = [_look_at(function_version(
        build_artifact(artifacts / f"code{n}", {"fns.py": ZYGOTE_FNS}, {"look": "fns.look"}),
        "look", version=n, layer_dir=layer), look_at, runtime) for n in (1, 2)]
    loop = LoopThread()
    pool = InstancePool(RecordingSink())
    try:
        theirs = loop.run(pool.invoke(other, b"{}"))  # another service's function runs
        assert theirs.status == "ok", theirs.payload
        first = loop.run(pool.invoke(fvs[0], b"{}"))
        assert first.status == "ok", first.payload
        wait_until(lambda: any(z.ready.done() and z.alive and z.layer_dir == layer
                               for z in pool.templates._zygotes.values()),
                   timeout=10, interval=0.02, message="a ready zygote of the layer")
        second = loop.run(pool.invoke(fvs[1], b"{}"))  # a new version: forked from the zygote
        assert second.status == "ok", second.payload
        zygote = next(z for z in pool.templates._zygotes.values() if z.layer_dir == layer)
        seen = json.loads(second.payload)
        assert seen["dep_loaded_by"] == zygote.watch.proc.pid  # imported in the zygote
        assert seen["runtime"] == "runtime layer"  # kept, inside the hidden cache
        assert "fns.py" in seen["own"]
        saw = seen["dep_saw"]
        store, other_code, other_dep, cached, cached_root, token = (str(p) for p in look_at)
        # the zygote's view of the store: the code it imported aloft's runtime from (version
        # 1's: version 2's is linked in later, before its template is forked), and its layer
        assert saw[store] == ["code1", "layer"]
        assert saw[other_code] == "FileNotFoundError"
        assert saw[other_dep] == "FileNotFoundError"
        assert saw[cached] == "FileNotFoundError"
        assert saw[cached_root] in ("FileNotFoundError", [])
        assert saw[token] == "FileNotFoundError"
        assert json.loads(first.payload)["runtime"] == "runtime layer"  # a fresh template too
        assert zygote.view is not None  # what the daemon links in as it forks versions
        assert sorted(p.name for p in zygote.view.path.iterdir()) == ["code1", "code2", "layer"]
    finally:
        loop.run(pool.close())
        loop.close()
    assert list((artifacts.parent / "zygote-views").iterdir()) == []  # gone with the zygote


def test_a_zygotes_view_is_made_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Making a zygote's view links its version's code tree: a large one takes a while (a
    few hundred ms for 3,000 files on a slow machine), so it is made in a worker thread, and
    the gateway's event loop goes on serving meanwhile."""
    from aloft.local.instances import templates

    _home, artifacts = isolated_home(tmp_path, monkeypatch)
    layer = artifacts / "layer"
    layer.mkdir()
    (layer / "dep.py").write_text("X = 1\n")
    made_in: list[threading.Thread] = []
    make = templates.new_view

    def slow_view(fv: Any) -> Any:
        made_in.append(threading.current_thread())
        time.sleep(0.5)  # a large code tree
        return make(fv)

    monkeypatch.setattr(templates, "new_view", slow_view)
    fvs = [function_version(
        build_artifact(artifacts / f"code{n}", {"fns.py": "import dep\n\ndef f(e, c):\n"
                                                "    return dep.X\n"}, {"f": "fns.f"}),
        "f", version=n, layer_dir=layer) for n in (1, 2)]
    loop = LoopThread()
    pool = InstancePool(RecordingSink())
    gaps: list[float] = []

    async def tick() -> None:  # the loop's responsiveness while the view is made
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = loop.submit(tick())
    try:
        assert loop.run(pool.invoke(fvs[0], b"{}")).status == "ok"
        wait_until(lambda: any(z.ready.done() and z.alive
                               for z in pool.templates._zygotes.values()),
                   timeout=10, interval=0.02, message="a ready zygote of the layer")
        assert made_in and made_in[0] is not loop._thread  # a worker thread made it
        assert max(gaps) < 0.4, max(gaps)  # the loop never stood still for the 0.5 s
        second = loop.run(pool.invoke(fvs[1], b"{}"))  # forked from that zygote
        assert second.status == "ok", second.payload
        zygote = next(iter(pool.templates._zygotes.values()))
        assert zygote.view is not None and (zygote.view.path / "code2").is_dir()
    finally:
        ticker.cancel()
        loop.run(pool.close())
        loop.close()
