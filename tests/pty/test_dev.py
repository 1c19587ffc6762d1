"""`aloft dev` at a terminal: it starts its own local cloud, reloads on a save (the reload line
says so), and Ctrl-C, even in the middle of a reload, stops everything it started (the daemon
and its instances) within a second, with exit 130."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.pty.conftest import Cloud
from tests.pty.test_session import ctrl_c_budget, descendants, get
from tests.waiting import wait_until

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
        # a reload replaces the version the previous `aloft dev` deploy made
        term.expect(r"↻ reloaded app\.py → version 2 \(replaces 1\) in \d+ ms from the save",
                    timeout=20)
        assert "Hello, reloaded!" in get(url)[1]
        # its logs stream: the request's line (the new version's health check may show before
        # the reload's line or after it: its logs come on their own)
        term.expect(r"app GET /flask-hello/dev/ 200 [\d.]+ ms", timeout=10)
        daemon = json.loads((cloud.home / "daemon.json").read_text())["pid"]
        before = descendants(daemon)
        assert len(before) >= 2  # its AWS endpoint, the app's instance(s)
        # Ctrl-C in the middle of the next reload, while the new version initialises (slowly)
        slow = slow_start(app)
        wait_until(lambda: begun(slow), message=lambda: f"the slow version to start:\n{term.text}")
        processes = {daemon, *descendants(daemon)}
        pressed = term.ctrl_c()
        done = term.wait(15)
        took = time.monotonic() - pressed
    assert done.code == 130, done.text
    assert "aloft dev stopped: it stopped the local cloud it started" in done.text
    assert done.text.rstrip().endswith("interrupted")
    assert took < ctrl_c_budget(), f"aloft dev stopped {took:.2f} s after Ctrl-C"
    assert not alive(daemon)  # aloft dev waited for its cloud to end
    # instances end when their daemon closes their sockets
    wait_until(lambda: not [pid for pid in processes if alive(pid)], timeout=2,
               message=lambda: f"no process left behind: {[p for p in processes if alive(p)]}")
    assert not (cloud.home / "daemon.json").exists()


def test_ctrl_c_in_a_reload_calls_it_off_on_a_cloud_that_keeps_running(
    cloud: Cloud, copy_example: Callable[[str], Path]
) -> None:
    project = copy_example("flask-hello")
    started = cloud.run("cloud", "start", cwd=project, timeout=30)
    assert started.code == 0, started.text
    daemon = json.loads((cloud.home / "daemon.json").read_text())["pid"]
    try:
        with cloud.terminal("dev", "--interval", "0.05", cwd=project) as term:
            term.expect("save a file to reload, Ctrl-C to stop", timeout=150)
            serving = json.loads(cloud.run("status", "dev", "--json", cwd=project).text)
            before = descendants(daemon)
            app = project / "app.py"
            slow = slow_start(app)
            # (its process may be a zygote's spare, forked before the save: wait for its import)
            wait_until(lambda: begun(slow), message=lambda: f"a new version to start:\n{term.text}")
            importing = int(slow.read_text())
            term.ctrl_c()
            done = term.wait(15)
        assert done.code == 130, done.text
        assert "aloft dev stopped: the local cloud keeps running (it was running before)" \
            in done.text
        assert alive(daemon)
        wait_until(lambda: not alive(importing) and not descendants(daemon) - before - {
                   importing}, timeout=5, message="the called-off version's processes to stop")
        status = cloud.run("status", "dev", "--json", cwd=project, timeout=20)
        assert json.loads(status.text)["version"] == serving["version"]  # not published
    finally:
        cloud.stop()


def slow_start(app: Path) -> Path:
    """Make `app` a version that initialises for a minute; the file returned appears (holding
    the importing process's pid) once its import has begun. It lies outside the project, so it
    is not part of the code."""
    marker = app.parent.parent / f"importing-{app.parent.name}"
    marker.unlink(missing_ok=True)
    app.write_text(f"import os, pathlib, time\npathlib.Path({str(marker)!r}).write_text("
                   "str(os.getpid()))\ntime.sleep(60)\n" + app.read_text())
    return marker


def begun(marker: Path) -> bool:
    return marker.is_file() and marker.read_text().strip().isdigit()
