"""200 deployed idle functions of 5 services: no process of any function, and the platform's
memory.

A daemon is started for the run (free port, temporary ALOFT_HOME) and SERVICES services of
FUNCTIONS/SERVICES plain functions each, deployed with LocalProvider (`keep_alive: 5`, so the
instances the deploy's health checks started stop 5 s later, as idle instances do after
`keep_alive`). Each service has a dependency layer (Flask, imported by its handler module), so
each keeps its layer's zygote once its functions are idle (ALOFT_ZYGOTE_IDLE). The figures:
the processes under the daemon once the functions have stopped (the zygotes and the platform's
own AWS endpoint server counted apart), the platform's RSS and proportional set size (PSS:
each shared page counted once, shared among its processes), and the first request to one of
the functions after that (no process of its own: a template forked from its layer's zygote).

    .venv/bin/python bench/idle_functions.py [--functions 200] [--services 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(ROOT / "src"))

from _localcloud import BENCH_USER, free_port, invoke_headers, process_tree  # noqa: E402

from aloft.config import load_project  # noqa: E402
from aloft.local.provider import LocalProvider  # noqa: E402

TARGET_PSS_MB = 250.0
KEEP_ALIVE = 5


def function_processes(pid: int) -> tuple[list[int], list[int], list[int]]:
    """The daemon's descendants split into functions' processes (instances, templates,
    zygotes: instance_main.py), the layers' zygotes (with the spare template each keeps
    forked, named aloft-spare), and the platform's own (the AWS endpoint server)."""
    functions, zygotes, platform = [], [], []
    for child in process_tree(pid)[1:]:
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{child}/stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if not any(arg.endswith(b"instance_main.py") for arg in argv):
            platform.append(child)
        elif b"zygote" in argv and (parent == pid or "(aloft-spare)" in stat):
            zygotes.append(child)
        else:  # a template forked from a zygote keeps the zygote's command line
            functions.append(child)
    return functions, zygotes, platform


def _proc_mb(pid: int, file: str, field: str) -> float:
    """The kB figure `field` of /proc/PID/FILE in MB (0: the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/{file}").read_text()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    return _proc_mb(pid, "status", "VmRSS")


def pss_mb(pid: int) -> float:
    """Proportional set size: private pages, plus each shared page's share."""
    return _proc_mb(pid, "smaps_rollup", "Pss")


def write_service(project: Path, index: int, functions: int) -> None:
    project.mkdir()
    lines = [f"service: idle{index}", f"keep_alive: {KEEP_ALIVE}", "functions:"]
    lines += [f"  f{i:03d}:\n    handler: jobs.handle" for i in range(functions)]
    lines += ["stages:", "  dev: {}"]
    (project / "aloft.yml").write_text("\n".join(lines) + "\n")
    (project / "requirements.txt").write_text("flask\n")
    (project / "jobs.py").write_text(
        "import flask  # a dependency layer, as most services have\n\n\n"
        "def handle(event, context):\n    return {'function': context.function_name}\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", type=int, default=200)
    parser.add_argument("--services", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aloft-bench-idle-"))
    per_service = max(1, args.functions // args.services)
    for index in range(args.services):
        write_service(work / f"project{index}", index, per_service)
    os.environ.update(BENCH_USER)  # the daemon this starts accepts what they sign
    provider = LocalProvider(work / "home", free_port())
    try:
        started = time.perf_counter()
        deployed = 0
        for index in range(args.services):
            service = load_project(work / f"project{index}").service("dev")
            deployed += len(provider.deploy(service).functions)
        deploy_s = time.perf_counter() - started
        info = provider.client.running()
        assert info is not None
        print(f"deployed {deployed} functions of {args.services} services in {deploy_s:.1f} s "
              f"(each initialised and health-checked)")
        plane = [line.partition("data plane: ")[2] for line in
                 (work / "home" / "daemon.log").read_text().splitlines() if "data plane: " in line]
        print(f"the daemon's data plane: {plane[-1] if plane else 'not said'}")
        peak = len(process_tree(info.pid)) - 1
        deadline = time.monotonic() + KEEP_ALIVE + 30
        while time.monotonic() < deadline and function_processes(info.pid)[0]:
            time.sleep(0.25)
        procs, zygotes, platform = function_processes(info.pid)
        daemon_rss = rss_mb(info.pid)
        idle_rss = daemon_rss + sum(rss_mb(p) for p in [*platform, *zygotes])
        idle_pss = pss_mb(info.pid) + sum(pss_mb(p) for p in [*platform, *zygotes])
        zygotes_pss = sum(pss_mb(p) for p in zygotes)
        cloud = provider.client.call("GET", "cloud")
        cold = []
        for index in range(args.services):
            function = f"idle{index}-dev-f{per_service // 2:03d}"
            url = f"http://127.0.0.1:{info.port}/2015-03-31/functions/{function}/invocations"
            request = urllib.request.Request(url, data=b"{}", method="POST",
                                             headers=invoke_headers(url, b"{}", {}))
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as resp:
                resp.read()
            cold.append((time.perf_counter() - started) * 1000)
        print()
        print(f"{'':44}{'aloft local cloud':>20}")
        print(f"{'functions deployed':44}{deployed:>20}")
        print(f"{'processes right after the deploy':44}{peak:>20}")
        print(f"{'function processes once idle (5 s)':44}{len(procs):>20}")
        print(f"{'layer zygotes and spares (2 per service)':44}{len(zygotes):>20}")
        print(f"{'platform processes (AWS endpoint)':44}{len(platform):>20}")
        print(f"{'platform PSS, idle (daemon+endpoint+zygotes)':44}{idle_pss:>17.1f} MB")
        print(f"{'  of which the zygotes':44}{zygotes_pss:>17.1f} MB")
        print(f"{'platform RSS sum, idle':44}{idle_rss:>17.1f} MB")
        print(f"{'  of which the daemon':44}{daemon_rss:>17.1f} MB")
        print(f"{'daemon peak RSS':44}{cloud['max_rss_mb']:>17.1f} MB")
        print(f"{'first request after idle (Invoke API)':44}"
              f"{statistics.median(cold):>17.1f} ms  (each service's: "
              + ", ".join(f"{ms:.0f}" for ms in cold) + ")")
        ok = not procs and idle_pss <= TARGET_PSS_MB
        print(f"target: no function process, PSS <= {TARGET_PSS_MB:.0f} MB: "
              f"{'met' if ok else 'NOT met'}")
        return 0
    finally:
        provider.client.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
