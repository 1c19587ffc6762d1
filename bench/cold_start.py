"""Cold start of examples/flask-hello: a request to a function with no instance, until its
response, through the local cloud's gateway (HTTP, keep-alive connection), four ways:

- fork: the instance is forked from the version's template (which has imported the app and
  frozen its heap), like Lambda's SnapStart (scale-out: a template is alive);
- after idle: the function has no process at all (its instances and template stopped, as
  after keep_alive); the layer's zygote, which outlives them, forks a template that imports
  the app's own code only, which forks the instance;
- fresh: `snapshot: false`, a new Python process imports the app;
- connected at init: the app opens a connection at import (a module-level database
  connection), so its template declines to fork (every instance would share the socket); each
  instance runs init, forked from the layer's zygote;
- `python -c 'import app'`: a bare interpreter importing the app, no request at all.

Before each timed request the platform stops the function's idle instances (templates stay,
but for "after idle"). Beside the time, the CPU the function's processes (zygote, template,
instance) spent on each cold start: less at the mercy of other work on a shared machine than
the time is.

    .venv/bin/python bench/cold_start.py [--runs 40] [--fresh-runs 12]
"""

from __future__ import annotations

import argparse
import compileall
import http.client
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results" / "cold_start.json"
sys.path.insert(0, str(BENCH_DIR))

from _localcloud import (  # noqa: E402
    CONNECTED,
    SERVICE,
    build_flask_hello,
    cpu_seconds,
    process_tree,
    start_platform,
    warm,
)


def cpu_ms(pid: int) -> float:
    """CPU milliseconds a process (all its threads) has run, to the nanosecond (schedstat);
    from /proc/PID/stat's clock ticks where schedstat is missing."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return cpu_seconds([pid]) * 1000
    return total / 1e6


def functions_cpu(platform: int) -> dict[int, float]:
    """CPU milliseconds so far of each process under the platform (not the platform's own)."""
    return {pid: cpu_ms(pid) for pid in process_tree(platform) if pid != platform}


def cold_requests(
    port: int, platform: int, stage: str, runs: int, templates: bool = False
) -> tuple[list[float], list[float]]:
    """Milliseconds from sending a request to a function with no instance to its response
    (`templates`: and no template), and the CPU milliseconds its processes spent meanwhile."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    function = f"{SERVICE}-{stage}-app"
    drop = f"/_aloft/bench/drop?function={function}" + ("&templates=1" if templates else "")
    times, cpu = [], []
    try:
        for _ in range(runs):
            conn.request("POST", drop)
            conn.getresponse().read()
            before = functions_cpu(platform)
            started = time.perf_counter()
            conn.request("GET", f"/{SERVICE}/{stage}/")
            response = conn.getresponse()
            response.read()
            times.append((time.perf_counter() - started) * 1000)
            after = functions_cpu(platform)
            cpu.append(sum(t - before.get(pid, 0.0) for pid, t in after.items()))
            assert response.status == 200, response.status
    finally:
        conn.close()
    return times, cpu


def bare_imports(code: Path, layer: Path | None, runs: int) -> tuple[list[float], list[float]]:
    env = {"PYTHONPATH": os.pathsep.join([str(code)] + ([str(layer)] if layer else []))}
    times, cpu = [], []
    for _ in range(runs):
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-S", "-P", "-c", "import app"], cwd=code, env=env, check=True
        )
        times.append((time.perf_counter() - started) * 1000)
        now = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime) * 1000)
    return times, cpu


def connected_copy(code: Path) -> socket.socket:
    """Beside `code`, a copy whose app connects at import to a listener that accepts and holds
    every connection (the listener's socket, to close when done)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        with listener:
            while True:
                try:
                    held.append(listener.accept()[0])
                except OSError:
                    return

    threading.Thread(target=accept, daemon=True).start()
    copy = code.with_name(code.name + CONNECTED)
    shutil.copytree(code, copy)
    app = copy / "app.py"
    port = listener.getsockname()[1]
    app.write_text(app.read_text() + "\nimport socket\n_db = socket.create_connection("
                   f"('127.0.0.1', {port}))  # a module-level connection\n")
    compileall.compile_file(str(app), quiet=1)
    return listener


def quantiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--fresh-runs", type=int, default=12)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aloft-bench-"))
    try:
        code, layer = build_flask_hello(work)
        listener = connected_copy(code)
        proc, port = start_platform(code, layer, concurrency=2)
        try:
            warm(f"http://127.0.0.1:{port}/{SERVICE}/dev/")  # starts the template
            warm(f"http://127.0.0.1:{port}/{SERVICE}/connected/")  # its template declines
            time.sleep(1.0)  # meanwhile its layer's zygote starts (from the template's modules)
            runs = {
                "fork from template": cold_requests(port, proc.pid, "dev", args.runs),
                "after idle (zygote)": cold_requests(port, proc.pid, "dev", args.runs,
                                                     templates=True),
                "fresh process (snapshot: false)": cold_requests(port, proc.pid, "fresh",
                                                                 args.fresh_runs),
                "connected at init (zygote, init)": cold_requests(port, proc.pid, "connected",
                                                                  args.runs),
            }
        finally:
            proc.terminate()
            proc.wait()
            listener.close()
        runs["python -c 'import app' (no request)"] = bare_imports(code, layer, args.fresh_runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("\nflask-hello cold start: request to a function with no instance -> response")
    print(f"{'':40}{'runs':>6}{'p50 ms':>10}{'p99 ms':>10}{'CPU ms, median':>16}")
    summary: dict[str, object] = {"load_average": os.getloadavg()[0]}
    for name, (times, cpu) in runs.items():
        p50, p99 = quantiles(times)
        cpu_p50 = statistics.median(cpu)
        print(f"{name:40}{len(times):>6}{p50:>10.2f}{p99:>10.2f}{cpu_p50:>16.2f}")
        summary[name] = {"runs": len(times), "p50_ms": round(p50, 3), "p99_ms": round(p99, 3),
                         "cpu_ms": round(cpu_p50, 3)}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
