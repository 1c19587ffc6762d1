"""worker/sandbox.py `run MODULE`, what `aloft invoke --local` starts: the module runs as
`python -S -m` runs it, narrowed first; when narrowing fails, it never runs and the process
exits with SANDBOX_FAILED, saying why (the CLI's error then names ALOFT_SANDBOX=0)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from aloft.local.instances import isolation
from aloft.local.instances.worker import sandbox
from tests.isolation_required import no_isolation

PROBE = """import os, sys
print("ran", sys.path[0] == os.getcwd(), "ALOFT_SANDBOX_SPEC" in os.environ, sys.argv[0])
"""


def _run(tmp_path: Path, spec: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "probe_module.py").write_text(PROBE)
    return subprocess.run([sys.executable, "-S", str(sandbox.__file__), "run", "probe_module"],
                          cwd=tmp_path, text=True, capture_output=True, timeout=60,
                          check=False, env={**os.environ, sandbox.SPEC_ENV: spec})


def test_the_module_runs_as_python_m_runs_it(tmp_path: Path) -> None:
    mode, described = isolation.probe()
    if mode == "none":  # pragma: no cover - a machine without isolation
        no_isolation(described)
    done = _run(tmp_path, '{"hide": [], "keep": [], "share": [], "tmp_mb": 1}')
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ran", "True", "False",
                                   str(tmp_path / "probe_module.py")]


def test_a_spec_it_cannot_apply_stops_it_before_the_module(tmp_path: Path) -> None:
    done = _run(tmp_path, "[]")  # not a spec: narrowing fails on it
    assert "ran" not in done.stdout
    assert done.returncode == sandbox.SANDBOX_FAILED
    assert done.stderr.startswith("aloft: cannot isolate the function: ")
