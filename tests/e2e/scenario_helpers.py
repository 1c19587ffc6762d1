"""Helpers for the end-to-end scenarios: the real `aloft` command line in subprocesses against a
private local cloud (its own ALOFT_HOME and a free port), and private copies of examples/."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cli:
    """`cli("deploy", "dev")` runs aloft in `project` with the private home and port."""

    def __init__(self, home: Path, project: Path, cache: Path, env: Mapping[str, str] = {}):
        self.home, self.project, self.port = home, project, free_port()
        script = Path(sys.executable).parent / "aloft"
        self.command = [str(script)] if script.exists() else [sys.executable, "-m",
                                                               "aloft.cli.main"]
        self.env = {**os.environ, "ALOFT_HOME": str(home), "ALOFT_PORT": str(self.port),
                    "ALOFT_CACHE_DIR": str(cache), "NO_COLOR": "1", **env}

    def __call__(self, *args: str, stdin: str | None = None, check: bool = True,
                 timeout: float = 900) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*self.command, *args], cwd=self.project, env=self.env,
                              input=stdin, capture_output=True, text=True, timeout=timeout,
                              check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"aloft {' '.join(args)} exited {done.returncode}:\n"
                                 f"{done.stdout}\n{done.stderr}")
        return done

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self("cloud", "stop", check=False, timeout=60)


def copy_example(name: str, target: Path) -> Path:
    shutil.copytree(REPO_ROOT / "examples" / name, target,
                    ignore=shutil.ignore_patterns(".aloft", "__pycache__"))
    return target


def http(url: str, *, method: str = "GET", body: bytes | None = None,
         headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
