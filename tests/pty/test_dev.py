"""`aloft dev` at a terminal: it starts its own local cloud, reloads on a save (the reload line
says so), and Ctrl-C stops everything it started (the daemon and its instances) with exit 130."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.pty.conftest import Cloud
from tests.pty.test_session import ctrl_c_budget, descendants, get

pytestmark = pytest.mark.timeout(180)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_dev_reloads_on_save_and_ctrl_c_stops_all_it_started(
    cloud: Cloud, copy_example: Callable[[str], Path]
) -> None:
    project = copy_example("flask-hello")
    url = f"http://127.0.0.1:{cloud.port}/flask-hello/dev/"
    with cloud.terminal("dev", "--interval", "0.05", cwd=project) as term:
        term.expect(r"✓ flask-hello dev version 1 \(app v1\)", timeout=150)  # may pip install
        term.expect("save a file to reload, Ctrl-C to stop", timeout=10)
        assert "Hello from aloft!" in get(url)[1]
        app = project / "app.py"
        app.write_text(app.read_text().replace("Hello from aloft!", "Hello, reloaded!"))
        term.expect(r"↻ reloaded app\.py → version 2 in \d+ ms from the save", timeout=20)
        assert "Hello, reloaded!" in get(url)[1]
        term.expect(r"app START RequestId: \S+ Version: 2", timeout=10)  # its logs stream
        daemon = json.loads((cloud.home / "daemon.json").read_text())["pid"]
        processes = {daemon, *descendants(daemon)}
        assert len(processes) >= 3  # the daemon, its AWS endpoint, the app's instance(s)
        pressed = term.ctrl_c()
        done = term.wait(15)
        took = time.monotonic() - pressed
    assert done.code == 130, done.text
    assert "aloft dev stopped: it stopped the local cloud it started" in done.text
    assert done.text.rstrip().endswith("interrupted")
    assert took < ctrl_c_budget(), f"aloft dev stopped {took:.2f} s after Ctrl-C"
    assert not alive(daemon)  # aloft dev waited for its cloud to end
    deadline = time.monotonic() + 2  # instances end when their daemon closes their sockets
    while [pid for pid in processes if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in processes if alive(pid)]
    assert not left, f"processes left behind: {left}"
    assert not (cloud.home / "daemon.json").exists()
