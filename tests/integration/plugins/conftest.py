"""The real `aloft` command line (subprocesses) against a real local cloud on a free port, with
a temporary ALOFT_HOME and a build cache private to the session."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

Aloft = Callable[..., subprocess.CompletedProcess[str]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as reply:
        return int(reply.status), reply.read()


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


def run_aloft(args: list[str], *, cwd: Path, env: dict[str, str],
              timeout: float = 300) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "aloft"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "aloft.cli.main"]
    return subprocess.run([*command, *args], cwd=cwd, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture
def aloft(cloud_env: dict[str, str]) -> Aloft:
    """aloft("deploy", "dev", cwd=root, env={...}): the CLI with the module's cloud."""

    def run(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return run_aloft(list(args), cwd=cwd, env={**cloud_env, **(env or {})}, timeout=timeout)

    return run


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root
