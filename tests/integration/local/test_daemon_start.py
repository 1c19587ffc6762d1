"""What the daemon sets up as it starts: its open-files limit (and Lambda's for instances), the
port it takes again after a crash (its AWS endpoint's too), and its memory under a 128 MB
header."""

from __future__ import annotations

import os
import resource
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from aloft.local.control.client import CloudClient
from aloft.local.store.home import Home, resolve_port
from tests.integration.local.cloud_helpers import Cloud, free_port, service, write_project
from tests.integration.local.http.test_server_limits import send_huge_header, status_of
from tests.waiting import wait_until

LIMITS = """
    import json
    import os
    import resource

    def files(event, context):
        return list(resource.getrlimit(resource.RLIMIT_NOFILE))

    def endpoints(event, context):
        return {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL")}
"""

CONFIG = """
    service: boot
    functions:
      files:
        handler: limits.files
      endpoints:
        handler: limits.endpoints
    stages:
      dev: {}
"""


def proc_status(pid: int, field: str) -> int:
    """A field of /proc/<pid>/status in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def open_files_limits(pid: int) -> tuple[int, int]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no open files limit")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    """A daemon started with a low soft limit of open files (as a login shell may give it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
    c = Cloud(tmp_path_factory.mktemp("home"), env={"ALOFT_AWS_ENDPOINT": "0"})
    try:
        c.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    yield c
    c.stop()


def test_the_daemon_raises_its_open_files_limit_and_instances_keep_lambdas(
    cloud: Cloud, tmp_path: Path,
) -> None:
    info = cloud.client.running()
    assert info is not None
    soft, hard = open_files_limits(info.pid)
    assert soft == hard > 256
    root = write_project(tmp_path / "p", CONFIG, {"limits.py": LIMITS})
    cloud.provider.deploy(service(root))
    assert cloud.provider.invoke(service(root), "files", {}).payload == [1024, 1024]


def test_a_128_mb_header_costs_the_daemon_no_memory(cloud: Cloud) -> None:
    info = cloud.client.running()
    assert info is not None
    answer, _ = send_huge_header(cloud.port, 32 * 2**20)  # warm up: buffers, code paths
    assert status_of(answer) == 431
    rss, peak = proc_status(info.pid, "VmRSS"), proc_status(info.pid, "VmHWM")
    answer, answered_at = send_huge_header(cloud.port, 128 * 2**20)
    assert status_of(answer) == 431 and answered_at <= 8 * 2**20
    grown = proc_status(info.pid, "VmRSS") - rss
    peak_grown = proc_status(info.pid, "VmHWM") - peak
    print(f"daemon memory after a 128 MB header: RSS {grown:+d} kB, peak {peak_grown:+d} kB")
    assert grown < 4 * 1024 and peak_grown < 4 * 1024, (grown, peak_grown)  # kB


def test_a_restarted_daemon_takes_its_ports_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed, then started again by a command that names no port: the daemon listens where it
    did, its AWS endpoint too, so a deployed version's environment is still right."""
    monkeypatch.delenv("ALOFT_PORT", raising=False)
    home, port = tmp_path / "home", free_port()
    first = Cloud(home)
    first.port, first.client = port, CloudClient(home, port)
    first.start()
    try:
        root = write_project(tmp_path / "p", CONFIG, {"limits.py": LIMITS})
        first.provider.deploy(service(root))
        before = first.provider.invoke(service(root), "endpoints", {}).payload
        assert before["AWS_ENDPOINT_URL_LAMBDA"] == f"http://127.0.0.1:{port}"
        info = first.client.running()
        assert info is not None
        os.kill(info.pid, signal.SIGKILL)
        wait_until(lambda: first.client.running() is None, timeout=10, interval=0.02,
                   message=f"the killed daemon (pid {info.pid}) to be gone")
        # no port given: the home's (checked first: never start a test's daemon on 8750)
        assert resolve_port(None, Home(home)) == port
        again = CloudClient(home)
        restarted = again.ensure_running()
        assert restarted.port == port and restarted.pid != info.pid
        endpoint = again.call("GET", "cloud")["aws_endpoint"]
        assert endpoint["url"] == before["AWS_ENDPOINT_URL"]
        assert first.provider.invoke(service(root), "endpoints", {}).payload == before
        assert "as before" not in (home / "daemon.log").read_text()
        # started elsewhere on purpose: the log says what that means for deployed versions
        again.stop()
        moved = free_port()
        CloudClient(home, moved).start()
        assert f"listening on port {moved}, not {port} as before" in (
            home / "daemon.log").read_text()
    finally:
        CloudClient(home).stop()
