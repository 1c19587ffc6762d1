"""Shared by the in-process benchmarks (runtime_overhead.py, asgi_overhead.py): the app's artifact
in the benchmark venv, and the timing harness.

A run times ROUNDS timeit rounds of NUMBER calls per contestant, contestants interleaved and
rotated round by round, and takes medians: the per-request time and, as "+", the median of the
per-round differences to the bare contestant (the app called without an adapter). The figures
printed are the medians of RUNS such runs. Rounds are timed in process CPU time, so that other
work on a shared machine (preemption) does not land in one contestant's figure.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _env import BENCH_VENV, bench_python

EVENTS_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "events"
EVENTS = {
    "HTTP API v2": "apigw_http_v2_lambda_authorizer.json",
    "REST API v1": "apigw_rest_proxy.json",
}

Handler = Callable[[Any, Any], Any]


def options(doc: str, rounds: int) -> argparse.Namespace:
    """The command line (--runs, --rounds, --number), then the benchmark venv: a script not run
    by its python is run again by it, with the same arguments."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--number", type=int, default=100)
    args = parser.parse_args()
    if Path(sys.prefix).resolve() != BENCH_VENV.resolve():
        python = bench_python()
        os.execv(str(python), [str(python), os.path.abspath(sys.argv[0]), *sys.argv[1:]])
    return args


def artifact(files: dict[str, str], settings: dict[str, Any]) -> Path:
    """A temporary directory with `files` and aloft_settings.json, importable and named by
    $ALOFT_SETTINGS, as in a deployed function."""
    root = Path(tempfile.mkdtemp(prefix="aloft-bench-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    for name, text in files.items():
        (root / name).write_text(text)
    (root / "aloft_settings.json").write_text(json.dumps(settings))
    sys.path.insert(0, str(root))
    os.environ["ALOFT_SETTINGS"] = str(root / "aloft_settings.json")
    return root


def measure(
    contestants: dict[str, Handler], event: Any, context: Any, rounds: int, number: int,
) -> dict[str, list[float]]:
    """Per contestant, the µs per call of each round."""
    timers = {
        name: timeit.Timer(lambda fn=fn: fn(event, context), timer=time.process_time)  # type: ignore[misc]
        for name, fn in contestants.items()
    }
    for timer in timers.values():
        timer.timeit(number // 4)  # warm up
    samples: dict[str, list[float]] = {name: [] for name in timers}
    order = list(timers)
    for _ in range(rounds):
        # Short rounds, interleaved and rotated: neighbours in time share the machine's state.
        order.append(order.pop(0))
        for name in order:
            samples[name].append(timers[name].timeit(number) / number * 1e6)
    return samples


def report(
    args: argparse.Namespace, context: Any, bare: str, others: Sequence[str],
    contestants: Callable[[dict[str, Any]], dict[str, Handler]],
    check: Callable[[dict[str, Handler], Any, Any], None],
) -> None:
    """Print the table: a row per event of EVENTS, the bare contestant's time, then each of
    `others`' with what it adds to bare. `contestants(event)` makes the handlers (`bare` and
    `others` among them); `check` asserts that each really serves the event."""
    print(f"Per-request cost in µs, + = added to {bare} (median of {args.runs} runs of "
          f"{args.rounds} rounds x {args.number} calls, Python {sys.version.split()[0]})")
    width = len(bare) + 2
    print(f"{'event':<13}{bare:>{width}}" + "".join(f"{name:>18}" for name in others))
    for label, file in EVENTS.items():
        event = json.loads((EVENTS_DIR / file).read_text())
        handlers = contestants(event)
        check(handlers, event, context)
        totals: dict[str, list[float]] = {name: [] for name in handlers}
        extras: dict[str, list[float]] = {name: [] for name in handlers}
        for _ in range(args.runs):
            samples = measure(handlers, event, context, args.rounds, args.number)
            for name, times in samples.items():
                totals[name].append(statistics.median(times))
                paired = [s - b for s, b in zip(times, samples[bare], strict=True)]
                extras[name].append(statistics.median(paired))
        cells = [f"{statistics.median(totals[bare]):>{width}.1f}"]
        for name in others:
            total, extra = statistics.median(totals[name]), statistics.median(extras[name])
            cells.append(f"{total:>9.1f} (+{extra:>5.1f})")
        print(f"{label:<13}" + "".join(cells))
