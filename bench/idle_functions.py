"""200 deployed idle functions: no process for any of them, and the platform's memory.

A daemon is started for the run (free port, temporary ALOFT_HOME) and a service with 200
plain functions deployed with LocalProvider (`keep_alive: 5`, so the instances the deploy's
health checks started stop 5 s later, as idle instances do after `keep_alive`). The figures:
the functions' processes under the daemon once they have stopped (the platform's own AWS
endpoint server is counted apart), the platform's RSS (daemon and endpoint), and a cold start
of one of the functions from nothing.

    .venv/bin/python bench/idle_functions.py [--functions 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(ROOT / "src"))

from _localcloud import BENCH_USER, free_port, invoke_headers  # noqa: E402

from aloft.config import load_project  # noqa: E402
from aloft.local.provider import LocalProvider  # noqa: E402

TARGET_RSS_MB = 200.0
KEEP_ALIVE = 5


def descendants(pid: int) -> list[int]:
    """Every process whose ancestry leads to `pid` (instances are forked by templates)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    out = []
    for child in parents:
        node = child
        while node in parents and node not in (0, 1):
            node = parents[node]
            if node == pid:
                out.append(child)
                break
    return out


def function_processes(pid: int) -> tuple[list[int], list[int]]:
    """The daemon's descendants split into functions' processes (instances, templates,
    zygotes: instance_main.py) and the platform's own (the AWS endpoint server)."""
    functions, platform = [], []
    for child in descendants(pid):
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        (functions if b"instance_main.py" in argv else platform).append(child)
    return functions, platform


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aloft-bench-idle-"))
    project = work / "project"
    project.mkdir()
    lines = ["service: idle", f"keep_alive: {KEEP_ALIVE}", "functions:"]
    lines += [f"  f{i:03d}:\n    handler: jobs.handle" for i in range(args.functions)]
    lines += ["stages:", "  dev: {}"]
    (project / "aloft.yml").write_text("\n".join(lines) + "\n")
    (project / "jobs.py").write_text(
        "def handle(event, context):\n    return {'function': context.function_name}\n")
    os.environ.update(BENCH_USER)  # the daemon this starts accepts what they sign
    provider = LocalProvider(work / "home", free_port())
    try:
        service = load_project(project).service("dev")
        started = time.perf_counter()
        result = provider.deploy(service)
        deploy_s = time.perf_counter() - started
        info = provider.client.running()
        assert info is not None
        print(f"deployed {len(result.functions)} functions in {deploy_s:.1f} s "
              f"(each initialised and health-checked)")
        peak = len(descendants(info.pid))
        deadline = time.monotonic() + KEEP_ALIVE + 30
        while time.monotonic() < deadline and function_processes(info.pid)[0]:
            time.sleep(0.25)
        procs, platform = function_processes(info.pid)
        daemon_rss = rss_mb(info.pid)
        idle_rss = daemon_rss + sum(rss_mb(p) for p in platform)
        cloud = provider.client.call("GET", "cloud")
        started = time.perf_counter()
        url = (f"http://127.0.0.1:{info.port}/2015-03-31/functions/idle-dev-f123/invocations")
        request = urllib.request.Request(url, data=b"{}", method="POST",
                                         headers=invoke_headers(url, b"{}", {}))
        with urllib.request.urlopen(request, timeout=30) as resp:
            resp.read()
        cold_ms = (time.perf_counter() - started) * 1000
        print()
        print(f"{'':40}{'aloft local cloud':>20}")
        print(f"{'functions deployed':40}{len(result.functions):>20}")
        print(f"{'processes right after the deploy':40}{peak:>20}")
        print(f"{'function processes once idle (5 s)':40}{len(procs):>20}")
        print(f"{'platform processes (AWS endpoint)':40}{len(platform):>20}")
        print(f"{'platform RSS, idle (daemon + endpoint)':40}{idle_rss:>17.1f} MB")
        print(f"{'  of which the daemon':40}{daemon_rss:>17.1f} MB")
        print(f"{'daemon peak RSS':40}{cloud['max_rss_mb']:>17.1f} MB")
        print(f"{'cold start from nothing (Invoke API)':40}{cold_ms:>17.1f} ms")
        ok = not procs and idle_rss <= TARGET_RSS_MB
        print(f"target: no process, RSS <= {TARGET_RSS_MB:.0f} MB: {'met' if ok else 'NOT met'}")
        return 0
    finally:
        provider.client.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
