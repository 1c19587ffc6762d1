"""`aloft dev` for real: a subprocess on a private copy of examples/flask-hello, a private
ALOFT_HOME and a free port. A saved app.py serves within 1 s; SIGINT leaves no process behind."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.waiting import wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return str(resp.read().decode())
    except (urllib.error.URLError, OSError):
        return None


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _tree(root: int) -> set[int]:
    tree, found, todo = _children(), set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(tree.get(pid, []))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_printed(proc: subprocess.Popen[str], lines: list[str], text: str,
                 timeout: float = 20) -> None:
    """Until `aloft dev` (still running) has printed `text` in one of its `lines`."""
    def printed() -> bool:
        assert proc.poll() is None, "".join(lines)
        return any(text in line for line in lines)
    wait_until(printed, timeout=timeout, message=lambda: f"{text!r} in:\n{''.join(lines)}")


def wait_served(url: str, text: str, what: str) -> None:
    wait_until(lambda: text in (_get(url) or ""), timeout=10, interval=0.02,
               message=f"{what} to serve")


def test_dev_survives_a_broken_start_and_serves_once_fixed(
    tmp_path: Path, examples_dir: Path, aloft_cache: Path
) -> None:
    root = tmp_path / "flask-hello"
    shutil.copytree(examples_dir / "flask-hello", root,
                    ignore=shutil.ignore_patterns(".aloft", "__pycache__"))
    app = root / "app.py"
    good = app.read_text()
    app.write_text(good + "\nbroken = (\n")
    home, port = tmp_path / "home", _free_port()
    env = {**os.environ, "ALOFT_HOME": str(home), "ALOFT_PORT": str(port), "NO_COLOR": "1",
           "ALOFT_CACHE_DIR": str(aloft_cache)}
    script = Path(sys.executable).parent / "aloft"
    proc = subprocess.Popen([str(script), "dev", "--interval", "0.05"], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/flask-hello/dev/"
    lines: list[str] = []
    assert proc.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr or ()), daemon=True)
    reader.start()
    try:
        wait_printed(proc, lines, "deploy failed", timeout=300)  # the first build may install
        app.write_text(good)
        body = wait_until(lambda: proc.poll() is None and _get(url), timeout=120,
                          message=f"{url} to serve")
        assert "Hello from aloft!" in body
        # The new version serves as soon as the alias switches, a moment before `aloft dev`
        # has its deploy's answer and prints it.
        wait_printed(proc, lines, "reloaded", timeout=120)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(timeout=10)
    err = "".join(lines)
    assert proc.returncode == 130, err  # stopped by Ctrl-C (SIGINT)
    assert "✗ deploy failed" in err and "was never closed" in err
    assert "reloaded app.py → version 1" in err


def test_dev_reloads_within_a_second_and_stops_cleanly(
    tmp_path: Path, examples_dir: Path, aloft_cache: Path
) -> None:
    root = tmp_path / "flask-hello"
    shutil.copytree(examples_dir / "flask-hello", root,
                    ignore=shutil.ignore_patterns(".aloft", "__pycache__"))
    home, port = tmp_path / "home", _free_port()
    env = {**os.environ, "ALOFT_HOME": str(home), "ALOFT_PORT": str(port), "NO_COLOR": "1",
           "ALOFT_CACHE_DIR": str(aloft_cache)}
    script = Path(sys.executable).parent / "aloft"
    proc = subprocess.Popen([str(script), "dev"], cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/flask-hello/dev/"
    out_lines: list[str] = []
    err_lines: list[str] = []
    readers = [threading.Thread(target=lambda: out_lines.extend(proc.stdout or ()), daemon=True),
               threading.Thread(target=lambda: err_lines.extend(proc.stderr or ()), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        # the first build installs Flask into the cache
        body = wait_until(lambda: proc.poll() is None and _get(url), timeout=300, interval=0.1,
                          message=lambda: f"{url} to serve:\n{''.join(err_lines)}")
        assert "Hello from aloft!" in body, proc.poll()
        daemon = json.loads((home / "daemon.json").read_text())["pid"]
        app = root / "app.py"
        latencies = []
        for n in range(3):  # the machine is shared: the best of three saves must be under 1 s
            # the previous reload is done (it printed its line): this save starts a new one
            wait_printed(proc, err_lines,
                         "watching" if n == 0 else f"reloaded app.py → version {n + 1}")
            text = app.read_text()
            app.write_text(text.replace("Hello from aloft!" if n == 0 else f"Reload {n - 1}!",
                                        f"Reload {n}!"))
            saved = time.monotonic()
            wait_served(url, f"Reload {n}!", what=f"save {n}: the new code")
            latencies.append(time.monotonic() - saved)
        # the new code serves a moment before `aloft dev` prints its line: the last one too
        wait_printed(proc, err_lines, "reloaded app.py → version 4")
        # The budget is 1 s. A reload starts a Python process that imports Flask: on a machine
        # whose load is several times its cores (shared CI), that alone takes longer, so the
        # budget grows with the load measured during the test (and says so).
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
        budget = 1.0 if load <= 1.5 else 1.0 * load / 1.5
        print(f"save -> new code served (s): {[round(x, 3) for x in latencies]}; "
              f"load per core {load:.1f}, budget {budget:.1f} s")
        assert min(latencies) < budget, f"the new code served {latencies} s after the saves"
        processes = _tree(proc.pid) | _tree(daemon)
        assert len(processes) >= 3  # aloft dev, the daemon, at least one instance
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        for reader in readers:
            reader.join(timeout=10)
    out, err = "".join(out_lines), "".join(err_lines)
    assert proc.returncode == 130, err  # stopped by Ctrl-C (SIGINT)
    wait_until(lambda: not [p for p in processes if _alive(p)], timeout=10,
               message=lambda: f"no process left behind: {[p for p in processes if _alive(p)]}")
    assert not (home / "daemon.json").exists()
    assert "reloaded app.py → version 4 (replaces 3)" in err and "ms from the save" in err
    assert "aloft dev stopped: it stopped the local cloud it started" in err
    # each request shows as one request line, without its START/END/REPORT lines (those that
    # show are the health checks', not HTTP requests)
    requests = re.findall(r"^\d\d:\d\d:\d\d\.\d{3} app GET /flask-hello/dev/ 200 [\d.]+ ms"
                          r"(?: \(cold start [\d.]+ ms\))? (\S+)$", out, re.M)
    started = re.findall(r" app START RequestId: (\S+) ", out)
    assert len(requests) >= 4, out
    assert not set(requests) & set(started), out
