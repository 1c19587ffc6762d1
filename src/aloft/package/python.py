"""Which Python runs a service's code on this machine, and what it inherits from ours.

A service declares the Python it runs on Lambda (`runtime: python3.12`). Here it runs on that
interpreter when one is installed: `python3.X` on PATH, or what `uv python find 3.X` or pyenv
knows (their shims on PATH may not run a version that is not selected, so each candidate is run
once to ask which Python it is). Otherwise on ours, with one warning (`runtime_warning`).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from aloft.errors import PackageError

PASS_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")
"""The only variables a process running the service's code inherits from the caller: it must
not see the user's shell."""

OLDEST = (3, 9)
"""The oldest Python the runtime package (aloft.runtime) and the instances run on."""


def host_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def find_interpreter(version: str) -> str | None:
    """The executable of Python `version` ("3.12") here, or None. Ours when it matches."""
    if version == host_version():
        return sys.executable
    return _search(version, os.environ.get("PATH", ""))


@functools.lru_cache(maxsize=32)
def _search(version: str, path: str) -> str | None:
    candidates = [shutil.which(f"python{version}", path=path), _uv_find(version),
                  *_pyenv_candidates(version)]
    for candidate in candidates:
        if candidate:
            found = _ask(candidate, version)
            if found is not None:
                return found
    return None


def _uv_find(version: str) -> str | None:
    uv = shutil.which("uv")
    if uv is None:
        return None
    try:
        done = subprocess.run([uv, "python", "find", "--no-project", version],
                              capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _pyenv_candidates(version: str) -> list[str]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = sorted(root.glob(f"{version}.*/bin/python{version}"), reverse=True)
    return [str(p) for p in found]


def _ask(candidate: str, version: str) -> str | None:
    """The real executable behind `candidate` if it runs and is Python `version`."""
    try:
        done = subprocess.run(
            [candidate, "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2]); "
             "print(sys.executable)"],
            capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = done.stdout.split("\n")
    if done.returncode != 0 or len(lines) < 2 or lines[0] != version:
        return None
    return lines[1] or candidate


def interpreter(version: str) -> str:
    """A Python matching the artifact's runtime: this one if it matches, else pythonX.Y."""
    found = find_interpreter(version)
    if found:
        return found
    raise PackageError(
        f"the service runs on Python {version} but no python{version} is installed here",
        fix=f"install Python {version}, or set `runtime: '{host_version()}'` in aloft.yml",
    )


def local_python_version(declared: str) -> str:
    """The Python the service's code runs on here: the declared one when it is installed (and
    not older than the runtime supports), else ours."""
    too_old = tuple(int(p) for p in declared.split(".")) < OLDEST
    return declared if not too_old and find_interpreter(declared) else host_version()


def runtime_warning(declared: str) -> str | None:
    """The warning when the declared Python cannot run here (None when it does)."""
    running = local_python_version(declared)
    if running == declared:
        return None
    if tuple(int(p) for p in declared.split(".")) < OLDEST:
        return (f"declared python{declared}, running on {running}: aloft's runtime needs "
                f"Python {OLDEST[0]}.{OLDEST[1]} or later (so does Lambda)")
    return (f"declared python{declared}, running on {running}: install python{declared} "
            "to match Lambda (on PATH, or with uv or pyenv)")
