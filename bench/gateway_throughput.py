"""Throughput and latency of web apps through the local cloud's gateway, beside the server a
user would otherwise run them with:

- flask: examples/flask-hello `GET /`, beside gunicorn `-w 2` (sync workers);
- fastapi: examples/fastapi-items `GET /items/1`, beside uvicorn `--workers 2` with httptools
  and uvloop;
- handler: a plain handler (bench/serverless: its serverless.yml, which aloft reads as it is)
  `GET /hello`, beside serverless-offline (serverless v3, installed there with npm on first
  use; skipped, saying why, when npm cannot install it).

The local cloud side is the data plane alone (instance pool + gateway + HTTP server, with the
real log store), with 2 instances (account and reserved concurrency 2), as many as the
alternative's workers; the alternatives run from the benchmark venv. Both are loaded with wrk,
`-t2 -c16` for throughput and `-t1 -c1` for latency, after a warm-up. Each round starts every
contender, then loads them in turn in slices of half the seconds (rounded up), in an order and
its mirror (aloft, the alternative, the floors, then back): a shared VM's speed drifts by a
third within minutes, and the mirror gives each contender the same share of the drift, where
loading each for its whole time in turn would put the drift between them. The figures of a
round are its two slices together (latencies weighted by their requests); ROUNDS rounds, and
the best round of each is printed too. The CPU time each side's processes used during the
throughput load, per request, is printed too: the gateway's process apart from the
instances' (the alternative's figure is all of its processes).

`--floor` adds, in each round, the design's floor (bench/_relay.py): a minimal Python gateway
process handing each request to one of 2 worker processes, with none of Lambda's semantics,
one request per worker at a time ("floor") and with the next one waiting in the worker's
socket ("floor, pipelined"). It shows how far aloft is from what its design can reach on this
machine, and how far that is from the alternative.

    .venv/bin/python bench/gateway_throughput.py [--apps flask,fastapi,handler] [--seconds 10]
        [--rounds 3] [--floor]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from _env import bench_python  # noqa: E402
from _localcloud import (  # noqa: E402
    ROOT,
    build_example,
    cpu_seconds,
    free_port,
    process_tree,
    start_platform,
    wait_for_port,
    warm,
    wrk,
)

RESULTS = BENCH_DIR / "results" / "gateway_throughput.json"
LOADS = {"throughput": (2, 16), "latency": (1, 1)}  # name -> (wrk threads, connections)
Figures = dict[str, dict[str, float]]


SERVERLESS = BENCH_DIR / "serverless"


@dataclass(frozen=True)
class App:
    project: Path  # the project's directory
    service: str
    path: str  # the request measured, within the stage
    alternative: str  # the alternative's name, as printed
    argv: Callable[[Path, int], list[str]]  # (project dir, port) -> the alternative's command
    floor: tuple[str, str]  # how bench/_relay.py calls the app: (kind, module:attr)
    function: str = "app"


def _gunicorn(example: Path, port: int) -> list[str]:
    return [str(bench_python().parent / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
            "--chdir", str(example), "--log-level", "warning", "app:app"]


def _uvicorn(example: Path, port: int) -> list[str]:
    return [str(bench_python().parent / "uvicorn"), "main:app", "--workers", "2",
            "--http", "httptools", "--loop", "uvloop", "--host", "127.0.0.1",
            "--port", str(port), "--app-dir", str(example), "--log-level", "warning",
            "--no-access-log"]


def _serverless_offline(project: Path, port: int) -> list[str]:
    return [str(project / "node_modules" / ".bin" / "sls"), "offline", "--httpPort", str(port),
            "--lambdaPort", str(free_port()), "--noPrependStageInUrl"]


def serverless_ready() -> str | None:
    """Install serverless and serverless-offline in bench/serverless (npm); why not, if not."""
    if (SERVERLESS / "node_modules" / ".bin" / "sls").exists():
        return None
    if shutil.which("npm") is None:
        return "npm is not installed (apt-get install -y npm)"
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                          cwd=SERVERLESS, capture_output=True, text=True)
    if done.returncode != 0:
        return f"npm install failed in {SERVERLESS}: {done.stderr.strip()[-800:]}"
    return None


APPS = {
    "flask": App(ROOT / "examples" / "flask-hello", "flask-hello", "/", "gunicorn -w 2",
                 _gunicorn, ("wsgi", "app:app")),
    "fastapi": App(ROOT / "examples" / "fastapi-items", "fastapi-items", "/items/1",
                   "uvicorn -w 2", _uvicorn, ("asgi", "main:app")),
    "handler": App(SERVERLESS, "hello", "/hello", "serverless-offline", _serverless_offline,
                   ("handler", "handler:hello"), function="hello"),
}
QUIET_NODE = {"SLS_TELEMETRY_DISABLED": "1", "SLS_NOTIFICATIONS_MODE": "off",
              "SLS_DEPRECATION_DISABLE": "*"}


FLOORS = {"floor": 1, "floor, pipelined": 2}  # name -> requests a worker may hold


def _floor(depth: int) -> Callable[[App, int], list[str]]:
    def argv(app: App, port: int) -> list[str]:
        return [str(bench_python()), str(BENCH_DIR / "_relay.py"), str(port), "2", str(depth),
                *app.floor]
    return argv


def start_alternative(app: App, argv: Callable[[App, int], list[str]] | None = None
                      ) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = argv(app, port) if argv is not None else app.argv(app.project, port)
    proc = subprocess.Popen(command, cwd=app.project,
                            env={**os.environ, **QUIET_NODE}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # serverless-offline: a line a request
    wait_for_port(port, timeout=60)
    return proc, port


@dataclass
class Contender:
    """One server of a round, started and warmed: aloft, the alternative or a floor."""
    proc: subprocess.Popen[bytes]
    url: str
    apart: bool  # whether its own process is a gateway to count apart from its workers


def slice_of(contender: Contender, load: str, seconds: int) -> dict[str, float]:
    """wrk's figures for one slice of `load`; for the throughput load, the CPU seconds of the
    contender's process tree, and of its own process apart when `apart`."""
    if load != "throughput":
        return wrk(contender.url, *LOADS[load], seconds)
    pid = contender.proc.pid
    tree = process_tree(pid)
    before_own, before_all = cpu_seconds([pid]), cpu_seconds(tree)
    figures = wrk(contender.url, *LOADS[load], seconds)
    figures["cpu_s"] = cpu_seconds(tree) - before_all
    if contender.apart:
        figures["gateway_cpu_s"] = cpu_seconds([pid]) - before_own
    return figures


def combined(slices: list[dict[str, float]]) -> dict[str, float]:
    """One contender's slices of a load as one run: requests/s over their whole time, CPU per
    request over all their requests, latencies weighted by each slice's requests."""
    requests = sum(f["requests"] for f in slices)
    took = sum(f["requests"] / f["rps"] for f in slices if f["rps"])
    weight = [f["requests"] / max(1.0, requests) for f in slices]
    result = {
        "rps": requests / took if took else 0.0,
        "requests": requests,
        "non_2xx": sum(f["non_2xx"] for f in slices),
        "socket_errors": sum(f["socket_errors"] for f in slices),
        **{key: sum(w * f[key] for w, f in zip(weight, slices, strict=True))
           for key in ("avg_ms", "p50_ms", "p99_ms")},
    }
    for key in ("cpu", "gateway_cpu"):
        if f"{key}_s" in slices[0]:
            result[f"{key}_us"] = sum(f[f"{key}_s"] for f in slices) * 1e6 / max(1.0, requests)
    return result


def measure_round(contenders: dict[str, Contender], seconds: int) -> dict[str, Figures]:
    """Both loads on every contender, in slices of ceil(seconds / 2), in an order and its
    mirror (A B C C B A): a machine that drifts slower or faster over the round (a shared VM
    does, by a third within minutes) weighs on each contender alike, where running each for
    its whole time in turn would put the drift between them."""
    for contender in contenders.values():
        warm(contender.url)
        wrk(contender.url, 2, 16, 3)  # warm-up: both instances (workers) started, caches hot
    half = max(1, -(-seconds // 2))
    order = [*contenders, *reversed(contenders)]
    results: dict[str, Figures] = {name: {} for name in contenders}
    for load in LOADS:
        slices: dict[str, list[dict[str, float]]] = {name: [] for name in contenders}
        for name in order:
            slices[name].append(slice_of(contenders[name], load, half))
        for name, figures in slices.items():
            results[name][load] = combined(figures)
    return results


def best(runs: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    return {
        "throughput": max((r["throughput"] for r in runs), key=lambda m: m["rps"]),
        "latency": min((r["latency"] for r in runs), key=lambda m: m["p50_ms"]),
    }


def run_app(name: str, app: App, work: Path, seconds: int, rounds: int, floor: bool = False
            ) -> dict[str, object]:
    code, layer = build_example(app.project, work / name)
    results: dict[str, list[dict[str, dict[str, float]]]] = {"aloft": [], "other": []}
    floors: dict[str, list[Figures]] = {f: [] for f in FLOORS} if floor else {}
    for _ in range(rounds):
        contenders: dict[str, Contender] = {}
        try:
            proc, port = start_platform(code, layer, concurrency=2, service=app.service,
                                        function=app.function)
            contenders["aloft"] = Contender(
                proc, f"http://127.0.0.1:{port}/{app.service}/dev{app.path}", True)
            proc, port = start_alternative(app)
            contenders["other"] = Contender(proc, f"http://127.0.0.1:{port}{app.path}", False)
            for floor_name in floors:
                proc, port = start_alternative(app, _floor(FLOORS[floor_name]))
                contenders[floor_name] = Contender(proc, f"http://127.0.0.1:{port}{app.path}",
                                                   True)
            measured = measure_round(contenders, seconds)
        finally:
            for contender in contenders.values():
                contender.proc.terminate()
                contender.proc.wait()
        results["aloft"].append(measured["aloft"])
        results["other"].append(measured["other"])
        for floor_name, runs in floors.items():
            runs.append(measured[floor_name])
    report(name, app, results, seconds, rounds)
    if floors:
        report_floors(app, results, floors)
    summary: dict[str, object] = {"aloft": best(results["aloft"]),
                                  app.alternative: best(results["other"]), "rounds": results}
    for floor_name, runs in floors.items():
        summary[floor_name] = {"best": best(runs), "rounds": runs}
    return summary


def report_floors(app: App, results: dict[str, list[Figures]],
                  floors: dict[str, list[Figures]]) -> None:
    """Each round's requests/s of the design's floor beside aloft's and the alternative's."""
    names = ["aloft", *floors, app.alternative]
    runs = [results["aloft"], *floors.values(), results["other"]]
    print(f"the design's floor (bench/_relay.py), requests/s by round, and the ratio to "
          f"{app.alternative}:")
    print(f"{'round':8}" + "".join(f"{n:>26}" for n in names))
    for i in range(len(results["aloft"])):
        other = results["other"][i]["throughput"]["rps"]
        cells = []
        for name, rs in zip(names, runs, strict=True):
            rps = rs[i]["throughput"]["rps"]
            cells.append(f"{rps:.0f}" if name == app.alternative
                         else f"{rps:.0f} ({rps / other:.3f}x)")
        print(f"{i + 1:<8}" + "".join(f"{c:>26}" for c in cells))
    print(f"{'CPU/req':8}" + "".join(
        f"{statistics.median(r['throughput']['cpu_us'] for r in rs):>23.0f} µs" for rs in runs))
    print(f"{'  front':8}" + "".join(
        f"{statistics.median(r['throughput']['gateway_cpu_us'] for r in rs):>23.0f} µs"
        for rs in runs[:-1]))
    print(f"{'c1 p50':8}" + "".join(
        f"{min(r['latency']['p50_ms'] for r in rs):>23.3f} ms" for rs in runs))


def report(name: str, app: App, results: dict[str, list[Figures]], seconds: int,
           rounds: int) -> None:
    other = app.alternative
    print(f"\n{app.service} GET {app.path} ({name}), wrk {seconds}s, {rounds} rounds")
    print(f"{'round':8}{'aloft req/s':>14}{other + ' req/s':>26}{'ratio':>8}"
          f"{'1-conn p50 diff':>18}{'gateway CPU/req':>17}")
    for i, (a_run, o_run) in enumerate(zip(results["aloft"], results["other"], strict=True)):
        a_t, o_t = a_run["throughput"], o_run["throughput"]
        diff = a_run["latency"]["p50_ms"] - o_run["latency"]["p50_ms"]
        print(f"{i + 1:<8}{a_t['rps']:>14.0f}{o_t['rps']:>26.0f}{a_t['rps'] / o_t['rps']:>7.3f}x"
              f"{diff:>+15.3f} ms{a_t['gateway_cpu_us']:>14.0f} µs")
    aloft, alt = best(results["aloft"]), best(results["other"])
    print(f"best round of each{'':16}{'aloft local cloud':>20}{other:>20}{'ratio/diff':>14}")
    a, o = aloft["throughput"], alt["throughput"]
    print(f"{'throughput -t2 -c16 (req/s)':34}{a['rps']:>20.0f}{o['rps']:>20.0f}"
          f"{a['rps'] / o['rps']:>13.3f}x")
    print(f"{'  latency p50 / p99 (ms)':34}{a['p50_ms']:>12.2f} / {a['p99_ms']:<5.2f}"
          f"{o['p50_ms']:>13.2f} / {o['p99_ms']:<5.2f}")
    print(f"{'  CPU per request, all (µs)':34}{a['cpu_us']:>20.0f}{o['cpu_us']:>20.0f}")
    print(f"{'  of which the gateway (µs)':34}{a['gateway_cpu_us']:>20.0f}")
    # Requests per CPU-second: what the machine's cores buy on each side. The least noisy
    # figure on a shared machine, where requests/s follow what the other work leaves free.
    a_eff = [1e6 / r["throughput"]["cpu_us"] for r in results["aloft"] if r["throughput"]["cpu_us"]]
    o_eff = [1e6 / r["throughput"]["cpu_us"] for r in results["other"] if r["throughput"]["cpu_us"]]
    if a_eff and o_eff:
        a_med, o_med = statistics.median(a_eff), statistics.median(o_eff)
        print(f"{'  requests per CPU-second, median':34}{a_med:>20.0f}{o_med:>20.0f}"
              f"{a_med / o_med:>13.3f}x")
    a, o = aloft["latency"], alt["latency"]
    print(f"{'latency -t1 -c1 p50 (ms)':34}{a['p50_ms']:>20.3f}{o['p50_ms']:>20.3f}"
          f"{a['p50_ms'] - o['p50_ms']:>+13.3f}ms")
    print(f"{'  requests/s at one connection':34}{a['rps']:>20.0f}{o['rps']:>20.0f}")
    bad = sum(r[k]["non_2xx"] for r in results["aloft"] for k in r)
    print(f"non-2xx responses from aloft: {bad:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", default=",".join(APPS),
                        help="comma-separated: " + ", ".join(APPS))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--floor", action="store_true",
                        help="also the design's floor in each round (bench/_relay.py)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    names = [n.strip() for n in args.apps.split(",") if n.strip()]
    unknown = [n for n in names if n not in APPS]
    if unknown:
        sys.exit(f"unknown app {', '.join(unknown)}: choose among {', '.join(APPS)}")
    bench_python()  # the alternatives' venv, made before anything is timed
    work = Path(tempfile.mkdtemp(prefix="aloft-bench-"))
    summary: dict[str, object] = {}
    try:
        for name in names:
            why = serverless_ready() if name == "handler" else None
            if why is not None:
                print(f"\n{name}: skipped, serverless-offline is not available: {why}")
                summary[name] = {"skipped": why}
                continue
            summary[name] = run_app(name, APPS[name], work, args.seconds, args.rounds,
                                    args.floor)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary["load_average"] = os.getloadavg()[0]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
