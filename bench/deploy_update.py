"""A code-only change of examples/flask-hello deployed and serving, under load, beside the
first deploy's time.

The real path a user takes: `LocalProvider.deploy` (build from the cache, upload what the daemon
lacks, plan, publish, health check, alias switch) against a daemon started for the run on a
free port with a temporary ALOFT_HOME. Updates run twice per round: once with the machine
otherwise idle, once while a load loop (wrk, LOAD_CONNECTIONS connections back to back) requests
the stage URL; every non-2xx response and socket error of the load counts as a failed request.
An update's time runs from calling deploy until a GET of the URL returns the new body.

    .venv/bin/python bench/deploy_update.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(ROOT / "src"))

from _localcloud import EXAMPLE, free_port, wrk  # noqa: E402

from aloft.config import load_project  # noqa: E402
from aloft.local.provider import LocalProvider  # noqa: E402

TARGET_S = 1.5
LOAD_CONNECTIONS = 2


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as resp:
        body: bytes = resp.read()
        return body


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aloft-bench-deploy-"))
    project = work / "flask-hello"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".aloft", "__pycache__"))
    home = work / "home"
    port = free_port()
    provider = LocalProvider(home, port)
    app_py = project / "app.py"
    original = app_py.read_text()
    try:
        started = time.perf_counter()
        first = provider.deploy(load_project(project).service("dev"))
        first_s = time.perf_counter() - started
        url = first.url or ""
        fetch(url)
        print(f"first deploy (daemon start, build, upload, health check): {first_s:.2f} s "
              f"-> version {first.version}")
        idle: list[float] = []
        updates: list[float] = []
        failures = 0
        requests = 0
        version = 0

        def update(marker: str) -> float:
            nonlocal version
            app_py.write_text(original.replace("Hello from aloft!", f"Hello ({marker})"))
            started = time.perf_counter()
            version = provider.deploy(load_project(project).service("dev")).version
            while marker.encode() not in fetch(url):
                time.sleep(0.005)
            return time.perf_counter() - started

        for round_no in range(1, args.rounds + 1):
            idle.append(update(f"idle {round_no}"))
            load: dict[str, float] = {}
            loader = threading.Thread(
                target=lambda out=load: out.update(wrk(url, 1, LOAD_CONNECTIONS, 4)))
            loader.start()
            time.sleep(1.0)  # the load is running before the update starts
            elapsed = update(f"loaded {round_no}")
            loader.join()
            updates.append(elapsed)
            bad = int(load["non_2xx"]) + int(load["socket_errors"])
            failures += bad
            requests += int(load["rps"] * 4)
            print(f"round {round_no}: idle {idle[-1]:.2f} s; under load (version {version}) "
                  f"{elapsed:.2f} s at {load['rps']:.0f} req/s, failed requests: {bad}")
        best, worst = min(updates), max(updates)
        print()
        print(f"{'':38}{'aloft local cloud':>20}")
        print(f"{'first deploy':38}{first_s:>19.2f}s")
        print(f"{'code-only update, idle (median)':38}{sorted(idle)[len(idle) // 2]:>19.2f}s")
        print(f"{'code-only update, under load (best)':38}{best:>19.2f}s")
        print(f"{'code-only update, under load (worst)':38}{worst:>19.2f}s")
        print(f"{'failed requests during updates':38}{failures:>20} (of about {requests})")
        ok = worst <= TARGET_S and failures == 0
        print(f"target: update <= {TARGET_S} s with zero failed requests: "
              f"{'met' if ok else 'NOT met'}")
        return 0
    finally:
        provider.client.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
