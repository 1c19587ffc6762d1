"""The real `aloft` console script of this environment, run in a pseudo-terminal with colours
and spinners on (TERM=xterm-256color, no NO_COLOR), a private ALOFT_HOME, a free port and a
build cache shared by the session; every command has a hard deadline."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pty.terminal import Finished, Terminal

ALOFT = Path(sys.executable).parent / "aloft"
"""The console script pip installed (what a user runs), not `python -m`."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cloud:
    """One ALOFT_HOME and port: the environment a command runs in."""

    home: Path
    port: int
    cache: Path

    def env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items()
                if (not k.startswith("ALOFT_") or k == "ALOFT_SANDBOX_SHARE") and k not in
                ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "CI")}  # (tests/conftest.py)
        return {**base, "TERM": "xterm-256color", "ALOFT_HOME": str(self.home),
                "ALOFT_PORT": str(self.port), "ALOFT_CACHE_DIR": str(self.cache), **extra}

    @contextmanager
    def terminal(self, *args: str, cwd: Path, **env: str) -> Iterator[Terminal]:
        """`aloft ARGS` in a terminal, killed if the test leaves it running."""
        term = Terminal([str(ALOFT), *args], cwd=cwd, env=self.env(**env))
        try:
            yield term
        finally:
            term.close()

    def run(self, *args: str, cwd: Path, timeout: float = 30, **env: str) -> Finished:
        """`aloft ARGS` to its end (it must end within `timeout` seconds)."""
        with self.terminal(*args, cwd=cwd, **env) as term:
            return term.wait(timeout)

    def stop(self) -> None:
        from aloft.local.control.client import CloudClient

        CloudClient(self.home).stop()


@pytest.fixture(scope="session")
def pty_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pty-cache")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory, pty_cache: Path) -> Iterator[Cloud]:
    """A local cloud for the module (started by its first deploy, stopped at the end)."""
    found = Cloud(tmp_path_factory.mktemp("pty-home"), free_port(), pty_cache)
    yield found
    found.stop()


@pytest.fixture(scope="session")
def copy_example(tmp_path_factory: pytest.TempPathFactory,
                 examples_dir: Path) -> Callable[[str], Path]:
    """A fresh copy of examples/<name> in its own directory (named like the example, so that
    `aloft init` names the service the same)."""

    def copy(name: str) -> Path:
        target = tmp_path_factory.mktemp("pty-app") / name
        shutil.copytree(examples_dir / name, target,
                        ignore=shutil.ignore_patterns(".aloft", "__pycache__"))
        return target

    return copy
