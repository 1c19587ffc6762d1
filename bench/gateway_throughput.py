"""Throughput and latency of examples/flask-hello through the local cloud's gateway, beside
gunicorn serving the same app directly.

The local cloud side is the data plane alone (instance pool + gateway + HTTP server, with the
real log store), with 2 instances (account and reserved concurrency 2); gunicorn runs `-w 2` sync
workers from the benchmark venv. Both are loaded with wrk, `-t2 -c16` for throughput and
`-t1 -c1` for latency, after a warm-up; the two runs alternate ROUNDS times and the best round
of each counts (the machine is shared: the best round is the least disturbed one).

    .venv/bin/python bench/gateway_throughput.py [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from _env import bench_python  # noqa: E402
from _localcloud import (  # noqa: E402
    EXAMPLE,
    build_flask_hello,
    free_port,
    start_platform,
    wait_for_port,
    warm,
    wrk,
)

RESULTS = BENCH_DIR / "results" / "gateway_throughput.json"
LOADS = {"throughput": (2, 16), "latency": (1, 1)}  # name -> (wrk threads, connections)


def start_gunicorn() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    gunicorn = bench_python().parent / "gunicorn"
    argv = [
        str(gunicorn),
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--chdir",
        str(EXAMPLE),
        "--log-level",
        "warning",
        "app:app",
    ]
    proc = subprocess.Popen(argv)
    wait_for_port(port)
    return proc, port


def measure(url: str, seconds: int) -> dict[str, dict[str, float]]:
    warm(url)
    wrk(url, 2, 16, 3)  # warm-up: both instances started, caches hot
    return {name: wrk(url, t, c, seconds) for name, (t, c) in LOADS.items()}


def best(runs: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    return {
        "throughput": max((r["throughput"] for r in runs), key=lambda m: m["rps"]),
        "latency": min((r["latency"] for r in runs), key=lambda m: m["avg_ms"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    work = Path(tempfile.mkdtemp(prefix="aloft-bench-"))
    try:
        code, layer = build_flask_hello(work)
        results: dict[str, list[dict[str, dict[str, float]]]] = {"aloft": [], "gunicorn": []}
        for _ in range(args.rounds):
            proc, port = start_platform(code, layer, concurrency=2)
            try:
                results["aloft"].append(
                    measure(f"http://127.0.0.1:{port}/flask-hello/dev/", args.seconds)
                )
            finally:
                proc.terminate()
                proc.wait()
            proc, port = start_gunicorn()
            try:
                results["gunicorn"].append(measure(f"http://127.0.0.1:{port}/", args.seconds))
            finally:
                proc.terminate()
                proc.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\n{'round':8}{'aloft req/s':>14}{'gunicorn req/s':>16}{'ratio':>8}"
          f"{'1-conn p50 diff':>18}")
    for i, (a_run, g_run) in enumerate(zip(results["aloft"], results["gunicorn"], strict=True)):
        a_t, g_t = a_run["throughput"], g_run["throughput"]
        diff = a_run["latency"]["p50_ms"] - g_run["latency"]["p50_ms"]
        print(f"{i + 1:<8}{a_t['rps']:>14.0f}{g_t['rps']:>16.0f}{a_t['rps'] / g_t['rps']:>7.3f}x"
              f"{diff:>+15.3f} ms")
    aloft, gunicorn = best(results["aloft"]), best(results["gunicorn"])
    print(f"\nflask-hello GET /, wrk {args.seconds}s, best of {args.rounds} rounds")
    print(f"{'':34}{'aloft local cloud':>20}{'gunicorn -w 2':>16}{'ratio/diff':>14}")
    a, g = aloft["throughput"], gunicorn["throughput"]
    print(
        f"{'throughput -t2 -c16 (req/s)':34}{a['rps']:>20.0f}{g['rps']:>16.0f}"
        f"{a['rps'] / g['rps']:>13.3f}x"
    )
    print(
        f"{'  latency p50 / p99 (ms)':34}{a['p50_ms']:>12.2f} / {a['p99_ms']:<5.2f}"
        f"{g['p50_ms']:>9.2f} / {g['p99_ms']:<5.2f}"
    )
    a, g = aloft["latency"], gunicorn["latency"]
    print(
        f"{'latency -t1 -c1 avg (ms)':34}{a['avg_ms']:>20.3f}{g['avg_ms']:>16.3f}"
        f"{a['avg_ms'] - g['avg_ms']:>+13.3f}ms"
    )
    print(
        f"{'latency -t1 -c1 p50 (ms)':34}{a['p50_ms']:>20.3f}{g['p50_ms']:>16.3f}"
        f"{a['p50_ms'] - g['p50_ms']:>+13.3f}ms"
    )
    print(f"{'  requests/s at one connection':34}{a['rps']:>20.0f}{g['rps']:>16.0f}")
    bad = sum(r[k]["non_2xx"] for r in results["aloft"] for k in r)
    print(f"non-2xx responses from aloft: {bad:.0f}")
    RESULTS.parent.mkdir(exist_ok=True)
    summary = {"aloft": aloft, "gunicorn": gunicorn, "load_average": os.getloadavg()[0]}
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
