"""The daemon's life: `aloft cloud start | status | stop`, the pid file, stale pids, one daemon
per home, and `deploy` starting the platform when it is not running."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from aloft.cli.main import cli
from aloft.errors import ProviderError
from aloft.local import compiled
from aloft.local.control.client import CloudClient
from aloft.local.store.home import Home
from tests.integration.local.cloud_helpers import WSGI_APP, free_port, get, write_project


def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.output


def test_cloud_start_status_stop(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    code, output = run_cli("cloud", "start", "--home", str(home), "--port", str(port))
    assert code == 0, output
    assert f"http://127.0.0.1:{port}" in output
    try:
        info = Home(home).read_pid()
        assert info is not None and info.port == port
        assert (home / "token").stat().st_mode & 0o777 == 0o600
        assert (home / "state.db").exists()
        code, output = run_cli("cloud", "status", "--home", str(home), "--json")
        data = json.loads(output)
        assert data["running"] is True and data["pid"] == info.pid and data["port"] == port
        # starting again finds the running one
        code, output = run_cli("cloud", "start", "--home", str(home), "--port", str(port))
        assert code == 0 and "already runs" in output
        # a second daemon on the same home is refused
        second = subprocess.run(
            [sys.executable, "-m", "aloft.local.daemon", "--home", str(home), "--port",
             str(free_port())], capture_output=True, text=True, timeout=30)
        assert second.returncode == 1 and "already runs" in second.stderr
    finally:
        code, output = run_cli("cloud", "stop", "--home", str(home))
    assert code == 0 and "stopped" in output
    assert Home(home).read_pid() is None
    assert not (home / "daemon.json").exists()
    code, output = run_cli("cloud", "status", "--home", str(home))
    assert "not running" in output


def test_stale_pid_file_is_ignored(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    home.create()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (home.pid_file).write_text(json.dumps({"pid": dead.pid, "port": 1, "home": str(home.root)}))
    assert home.read_pid() is None
    # a live process that is not a daemon (the pid was reused) is stale too
    other = subprocess.Popen(["sleep", "30"])
    try:
        (home.pid_file).write_text(json.dumps({"pid": other.pid, "port": 1,
                                               "home": str(home.root)}))
        assert home.read_pid() is None
    finally:
        other.kill()
        other.wait()
    client = CloudClient(home.root, free_port())
    info = client.start()
    try:
        assert info.pid != dead.pid and home.read_pid() == info
    finally:
        client.stop()


def test_deploy_starts_the_platform(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    root = write_project(tmp_path / "project", """
        service: auto
        app: app:app
        stages:
          dev: {}
    """, {"app.py": WSGI_APP})
    env = {"ALOFT_HOME": str(home), "ALOFT_PORT": str(port)}
    assert Home(home).read_pid() is None
    try:
        code, output = run_cli("-C", str(root), "deploy", "dev", "--json", env=env)
        assert code == 0, output
        url = json.loads(output)["url"]
        assert url == f"http://127.0.0.1:{port}/auto/dev/"
        assert get(url) == (200, b"v1 /auto/dev /")
        # the state survives a restart: the stage serves again after stop and start
        CloudClient(home, port).stop()
        CloudClient(home, port).start()
        assert get(url) == (200, b"v1 /auto/dev /")
    finally:
        CloudClient(home, port).stop()


def test_foreground_daemon_stops_on_sigterm(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    env = {**os.environ, "ALOFT_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aloft.cli.main", "cloud", "start", "--foreground", "--port",
         str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        client = CloudClient(home, port)
        info = client._wait_ready(20)
        assert client.call("GET", "health")["ok"] is True
        assert info.pid == proc.pid  # the command became the daemon (a fresh interpreter)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert Home(home).read_pid() is None
    # as `deploy` starts it: compiled when the build for these sources exists (see
    # test_compiled_data_plane.py), which the command that imported the sources could not do
    built = compiled.unavailable() is None
    claim = (f"data plane: compiled with mypyc ({len(compiled.MODULES)} modules)" if built
             else "data plane: Python sources")
    assert claim in err.decode(), err.decode()


def test_a_taken_port_leaves_no_home_behind(tmp_path: Path) -> None:
    """A start that fails because another program holds the port (`aloft manage`, `deploy`
    and `cloud start` start a cloud; `cloud start --foreground` runs the daemon itself)
    creates nothing: not the home, its artifacts/ or its token."""
    home = tmp_path / "home"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ProviderError, match=f"port {port} is taken by another program"):
            CloudClient(home, port).start()
        assert not home.exists()
        foreground = subprocess.run(
            [sys.executable, "-m", "aloft.local.daemon", "--home", str(home), "--port",
             str(port)], capture_output=True, text=True, timeout=30)
        assert foreground.returncode == 1, foreground.stderr
        assert f"port {port} is taken by another program" in foreground.stderr
        assert not home.exists()
