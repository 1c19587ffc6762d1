"""Which Python runs a service here: the declared one when it is installed, else ours with one
warning that says what to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from aloft.package.python import find_interpreter, local_python_version, runtime_warning

HOST = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture
def nothing_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH and a pyenv root of our own: only what the test puts there exists."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    return bin_dir


def test_ours_when_it_is_the_declared_one(nothing_installed: Path) -> None:
    assert find_interpreter(HOST) == sys.executable
    assert runtime_warning(HOST) is None


def test_a_missing_python_runs_on_ours_with_one_warning(nothing_installed: Path) -> None:
    assert find_interpreter("3.99") is None
    assert local_python_version("3.99") == HOST
    assert runtime_warning("3.99") == (f"declared python3.99, running on {HOST}: install "
                                       "python3.99 to match Lambda (on PATH, or with uv or pyenv)")


def test_a_shim_that_does_not_run_the_version_is_not_it(nothing_installed: Path) -> None:
    shim = nothing_installed / "python3.98"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.98: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    assert find_interpreter("3.98") is None


def test_found_on_path_or_in_pyenv(nothing_installed: Path, tmp_path: Path) -> None:
    fake = nothing_installed / "python3.97"  # answers as Python 3.97 would
    fake.write_text(f"#!/bin/sh\necho 3.97\necho {fake}\n")
    fake.chmod(0o755)
    assert find_interpreter("3.97") == str(fake)
    assert local_python_version("3.97") == "3.97"
    pyenv = tmp_path / "pyenv" / "versions" / "3.96.1" / "bin"
    pyenv.mkdir(parents=True)
    (pyenv / "python3.96").write_text(f"#!/bin/sh\necho 3.96\necho {pyenv}/python3.96\n")
    (pyenv / "python3.96").chmod(0o755)
    assert find_interpreter("3.96") == f"{pyenv}/python3.96"


def test_older_than_the_runtime_supports(nothing_installed: Path) -> None:
    assert local_python_version("3.8") == HOST
    assert "aloft's runtime needs Python 3.9 or later" in (runtime_warning("3.8") or "")
