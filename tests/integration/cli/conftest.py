"""Fixtures for running the real `aloft` command line in subprocesses.

Builds use a build cache private to this test session (ALOFT_CACHE_DIR), so that parallel
sessions do not race; the first build of an example installs its dependencies with pip and is
shared by every test of the session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.cli.cli_run import Aloft


@pytest.fixture(scope="session")
def aloft_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("aloft-cache")


@pytest.fixture(scope="session")
def aloft(aloft_cache: Path) -> Aloft:
    """`aloft("package", cwd=dir)`: the installed console script, in a fresh process."""
    script = Path(sys.executable).parent / "aloft"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "aloft.cli.main"]

    def run(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
        environ = {**os.environ, "ALOFT_CACHE_DIR": str(aloft_cache), "NO_COLOR": "1",
                   **(env or {})}
        return subprocess.run([*command, *args], cwd=cwd, env=environ, capture_output=True,
                              text=True, timeout=timeout, check=False)

    return run


@pytest.fixture(scope="session")
def example(tmp_path_factory: pytest.TempPathFactory, examples_dir: Path) -> Callable[[str], Path]:
    """A private copy of examples/<name> (builds write .aloft/ inside the project)."""
    copies: dict[str, Path] = {}

    def copy(name: str) -> Path:
        if name not in copies:
            target = tmp_path_factory.mktemp("examples") / name
            shutil.copytree(examples_dir / name, target,
                            ignore=shutil.ignore_patterns(".aloft", "__pycache__"))
            copies[name] = target
        return copies[name]

    return copy
