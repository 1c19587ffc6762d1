"""In-process cost of aloft's ASGI bridge per HTTP request, beside mangum's.

The same FastAPI app answers the same API Gateway event (HTTP API v2, then REST v1) through
each adapter in one process of the benchmark venv; "bare" awaits the app directly with a
prepared scope on a running loop (what a server like uvicorn does per request, without its
HTTP parsing). Timing as bench/runtime_overhead.py: short rounds of NUMBER calls, contestants
interleaved and rotated, in process CPU time; medians of RUNS runs, "+" the median of the
per-round differences to bare.

    .venv/bin/python bench/asgi_overhead.py [--runs 3] [--rounds 100] [--number 100]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from _env import BENCH_VENV, bench_python  # noqa: E402

EVENTS_DIR = BENCH_DIR.parent / "tests" / "fixtures" / "events"
EVENTS = {
    "HTTP API v2": "apigw_http_v2_lambda_authorizer.json",
    "REST API v1": "apigw_rest_proxy.json",
}

APP = '''
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    id: int
    name: str
    price: float


@app.get("/{path:path}")
async def item(path: str) -> Item:
    return Item(id=1, name=path, price=12.5)
'''

ALOFT_SETTINGS = {
    "service": "bench", "stage": "dev", "app": "benchasgi:app", "django_settings": None,
    "functions": {"app": {"handler": None, "records": "batch", "payload": "2.0"}},
    "exception_handler": None, "binary_types": ["application/octet-stream"],
    "debug": False, "task_function": None, "slim": False,
}


def _reexec_in_bench_venv() -> None:
    if Path(sys.prefix).resolve() != BENCH_VENV.resolve():
        python = bench_python()
        os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


def _artifact() -> None:
    root = Path(tempfile.mkdtemp(prefix="aloft-bench-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    (root / "benchasgi.py").write_text(APP)
    (root / "aloft_settings.json").write_text(json.dumps(ALOFT_SETTINGS))
    sys.path.insert(0, str(root))
    os.environ["ALOFT_SETTINGS"] = str(root / "aloft_settings.json")


def _bare(app: Any, scope: dict[str, Any]) -> Callable[[Any, Any], Any]:
    """Await the app with a ready scope on a running loop: the floor every adapter adds to."""
    loop = asyncio.new_event_loop()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def one() -> bytes:
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(dict(scope), receive, send)
        return b"".join(chunks)

    def call(event: Any, context: Any) -> bytes:
        return loop.run_until_complete(one())

    return call


def _contestants(event: dict[str, Any]) -> dict[str, Callable[[Any, Any], Any]]:
    import benchasgi
    from mangum import Mangum

    from aloft.runtime import handler as aloft_handler
    from aloft.runtime.sources import infer

    instance = aloft_handler.init()
    source = infer(event)
    assert source is not None and instance.app is not None
    environ = source.environ(event, None, "")  # type: ignore[attr-defined]
    scope = instance.app.scope(environ)  # type: ignore[attr-defined]
    return {
        "bare FastAPI": _bare(benchasgi.app, scope),
        "aloft": aloft_handler.handler,
        "mangum": Mangum(benchasgi.app, lifespan="off"),
    }


def _measure(
    contestants: dict[str, Callable[[Any, Any], Any]], event: Any, context: Any,
    rounds: int, number: int,
) -> dict[str, list[float]]:
    timers = {
        name: timeit.Timer(lambda fn=fn: fn(event, context), timer=time.process_time)  # type: ignore[misc]
        for name, fn in contestants.items()
    }
    for timer in timers.values():
        timer.timeit(number // 4)  # warm up
    samples: dict[str, list[float]] = {name: [] for name in timers}
    order = list(timers)
    for _ in range(rounds):
        order.append(order.pop(0))
        for name in order:
            samples[name].append(timers[name].timeit(number) / number * 1e6)
    return samples


def _check(contestants: dict[str, Callable[[Any, Any], Any]], event: Any, context: Any) -> None:
    """Every adapter must really serve the request before its time means anything."""
    for name, fn in contestants.items():
        result = fn(event, context)
        body = result if name == "bare FastAPI" else result["body"]
        if name != "bare FastAPI":
            assert result["statusCode"] == 200, (name, result)
        assert json.loads(body)["price"] == 12.5, (name, result)


class _Context:
    aws_request_id = "bench"
    function_name = "bench"
    memory_limit_in_mb = "256"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--number", type=int, default=100)
    args = parser.parse_args()
    _reexec_in_bench_venv()
    _artifact()
    context = _Context()
    print(f"Per-request cost in µs, + = added to bare FastAPI (median of {args.runs} runs of "
          f"{args.rounds} rounds x {args.number} calls, Python {sys.version.split()[0]})")
    print(f"{'event':<13}{'bare FastAPI':>14}{'aloft':>18}{'mangum':>18}")
    for label, file in EVENTS.items():
        event = json.loads((EVENTS_DIR / file).read_text())
        contestants = _contestants(event)
        _check(contestants, event, context)
        totals: dict[str, list[float]] = {name: [] for name in contestants}
        extras: dict[str, list[float]] = {name: [] for name in contestants}
        for _ in range(args.runs):
            samples = _measure(contestants, event, context, args.rounds, args.number)
            bare = samples["bare FastAPI"]
            for name, times in samples.items():
                totals[name].append(statistics.median(times))
                paired = [s - b for s, b in zip(times, bare, strict=True)]
                extras[name].append(statistics.median(paired))
        cells = [f"{statistics.median(totals['bare FastAPI']):>14.1f}"]
        for name in ("aloft", "mangum"):
            total, extra = statistics.median(totals[name]), statistics.median(extras[name])
            cells.append(f"{total:>9.1f} (+{extra:>5.1f})")
        print(f"{label:<13}" + "".join(cells))


if __name__ == "__main__":
    main()
