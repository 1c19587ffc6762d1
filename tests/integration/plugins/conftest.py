"""The real `aloft` command line (subprocesses) against a real local cloud on a free port, with
a temporary ALOFT_HOME and a build cache private to the session."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.plugins.plugin_helpers import Aloft, free_port, run_aloft


@pytest.fixture(scope="session")
def aloft_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("aloft-cache")


@pytest.fixture(scope="module")
def cloud_env(tmp_path_factory: pytest.TempPathFactory,
              aloft_cache: Path) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("aloft-home")
    env = {"ALOFT_HOME": str(home), "ALOFT_PORT": str(free_port()),
           "ALOFT_CACHE_DIR": str(aloft_cache), "NO_COLOR": "1"}
    yield env
    run_aloft(["cloud", "stop"], cwd=home, env=env, timeout=60)


@pytest.fixture
def aloft(cloud_env: dict[str, str]) -> Aloft:
    """aloft("deploy", "dev", cwd=root, env={...}): the CLI with the module's cloud."""

    def run(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return run_aloft(list(args), cwd=cwd, env={**cloud_env, **(env or {})}, timeout=timeout)

    return run
