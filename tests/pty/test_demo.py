"""`make demo` (scripts/demo.py) at a terminal: its steps with the spinners on, exit 0; and a
step that fails (the port is taken) makes it exit 1 saying which step and why."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

import pytest

from tests.pty.conftest import Cloud, free_port
from tests.pty.terminal import Finished, Terminal

pytestmark = pytest.mark.timeout(180)

SPINNER = "⠋"


@pytest.fixture
def demo_tree(tmp_path: Path, repo_root: Path) -> Path:
    """scripts/demo.py and examples/flask-hello in a tree of their own (the demo builds into
    the example's directory)."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(repo_root / "scripts" / "demo.py", tmp_path / "scripts" / "demo.py")
    shutil.copytree(repo_root / "examples" / "flask-hello", tmp_path / "examples" / "flask-hello",
                    ignore=shutil.ignore_patterns(".aloft", "__pycache__"))
    return tmp_path


def run_demo(tree: Path, env: Cloud, timeout: float) -> Finished:
    term = Terminal([sys.executable, str(tree / "scripts" / "demo.py")], cwd=tree,
                    env=env.env())
    try:
        return term.wait(timeout)
    finally:
        term.close()


def test_the_demo_runs_at_a_terminal(demo_tree: Path, tmp_path: Path, pty_cache: Path) -> None:
    cloud = Cloud(tmp_path / "home", free_port(), pty_cache)
    try:
        done = run_demo(demo_tree, cloud, timeout=150)
    finally:
        cloud.stop()
    assert done.code == 0, done.text
    assert SPINNER in done.text  # aloft's spinners ran on the demo's terminal
    assert "deployed flask-hello to dev: version 1" in done.text
    assert "JSON route: GET http://127.0.0.1:" in done.text and "-> 200 in" in done.text
    assert b"\x1b[1m== 1. Package" in done.raw  # the demo's own headings in bold


def test_the_demo_fails_when_a_step_fails(demo_tree: Path, tmp_path: Path,
                                          pty_cache: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        cloud = Cloud(tmp_path / "home", sock.getsockname()[1], pty_cache)
        done = run_demo(demo_tree, cloud, timeout=150)
    assert done.code == 1, done.text
    assert f"error: port {cloud.port} is taken by another program" in done.text
    assert "demo failed: step 3: `aloft deploy dev` failed" in done.text
    assert "JSON route" not in done.text
