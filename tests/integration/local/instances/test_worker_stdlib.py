"""`aloft/local/instances/worker/` runs inside instances: standard library only.

An instance runs `python -S instance_main.py` with only its artifact on sys.path (aloft's
runtime and the function's code), so these files must load with nothing but the standard library
and each other, found by path. One test loads them in a bare interpreter from a directory that
holds only them; the other reads every import they make, inside functions too.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import aloft
import aloft.local.instances.worker as worker

WORKER = Path(worker.__file__).parent
FILES = sorted(p for p in WORKER.glob("*.py") if p.name != "__init__.py")

_LOAD = """
import importlib.util, json, sys
before = set(sys.modules)
loaded = {}
for name in sys.argv[2:]:
    spec = importlib.util.spec_from_file_location("_w_" + name, f"{sys.argv[1]}/{name}.py")
    loaded[name] = module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
new = sorted(m.split(".")[0] for m in set(sys.modules) - before)
siblings = [m.__file__ for m in (loaded["instance_main"].P, loaded["instance_main"].R,
                                 loaded["instance_main"].E, loaded["instance_main"].T,
                                 loaded["instance_main"].C)]
print(json.dumps({"path": sys.path, "new": new, "siblings": siblings}))
"""


def test_the_worker_files_are_the_ones_instances_load() -> None:
    assert [p.name for p in FILES] == [
        "connections.py", "event_builders.py", "instance_main.py", "protocol.py",
        "proxy_response.py", "sandbox.py", "trace_env.py"]


def test_they_load_in_a_bare_interpreter_with_only_each_other(tmp_path: Path) -> None:
    for path in FILES:
        shutil.copy(path, tmp_path / path.name)
    names = [p.stem for p in FILES]  # instance_main loads its siblings by path, from tmp_path
    done = subprocess.run([sys.executable, "-S", "-I", "-c", _LOAD, str(tmp_path), *names],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert not [p for p in found["path"] if "site-packages" in p or p in ("", str(tmp_path))]
    foreign = [m for m in found["new"] if m not in sys.stdlib_module_names]
    assert foreign == []
    assert found["siblings"] == [  # what instance_main loaded by path: its own directory's
        str(tmp_path / f"{name}.py")
        for name in ("protocol", "proxy_response", "event_builders", "trace_env", "connections")]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


def test_every_import_is_the_standard_library_or_the_artifacts_runtime() -> None:
    for path in FILES:
        outside = {m for m in _imports(path)
                   if m.split(".")[0] not in sys.stdlib_module_names and m != "__future__"}
        # the `aloft` an instance imports is the artifact's copy of aloft.runtime, never the
        # platform's (which is not on its sys.path)
        runtime = {m for m in outside if m == "aloft.runtime" or m.startswith("aloft.runtime.")}
        assert outside - runtime == set(), path.name
        assert not runtime or path.name == "instance_main.py", path.name


_IMPORT_ALL = """
import importlib, pkgutil, sys
sys.path.insert(0, sys.argv[1])
import aloft.runtime
for info in pkgutil.walk_packages(aloft.runtime.__path__, "aloft.runtime."):
    importlib.import_module(info.name)
"""


def test_they_and_the_runtime_load_on_the_oldest_python(tmp_path: Path) -> None:
    """A service declaring python3.9 runs on 3.9 (aloft.package.python.OLDEST): the worker files
    and every module of aloft.runtime must at least load there."""
    from aloft.package.python import OLDEST, find_interpreter

    oldest = ".".join(map(str, OLDEST))
    python = find_interpreter(oldest)
    if python is None:
        pytest.skip(f"no python{oldest} here")
    for path in FILES:
        shutil.copy(path, tmp_path / path.name)
    names = [p.stem for p in FILES]
    done = subprocess.run([python, "-S", "-I", "-c", _LOAD, str(tmp_path), *names],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    src = Path(aloft.__file__).parent.parent
    done = subprocess.run([python, "-S", "-I", "-c", _IMPORT_ALL, str(src)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
