"""Helpers of the plugin integration tests (imported by name: this directory is on sys.path)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import urllib.request
from collections.abc import Callable
from pathlib import Path

Aloft = Callable[..., subprocess.CompletedProcess[str]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as reply:
        return int(reply.status), reply.read()


def run_aloft(args: list[str], *, cwd: Path, env: dict[str, str],
              timeout: float = 300) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "aloft"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "aloft.cli.main"]
    return subprocess.run([*command, *args], cwd=cwd, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout, check=False)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root
