"""In-process cost of aloft's runtime per HTTP request, beside apig-wsgi and Zappa's handler.

The same Flask app answers the same API Gateway event (HTTP API v2, then REST v1) through each
adapter in one process of the benchmark venv; "bare" calls the app directly with a prepared WSGI
environ for the same request. A run times ROUNDS timeit rounds of NUMBER calls per contestant,
contestants interleaved and rotated round by round, and takes medians: the per-request time and,
as "+", the median of the per-round differences to bare. The figures printed are the medians of
RUNS such runs. Rounds are timed in process CPU time, so that other work on a shared machine
(preemption) does not land in one contestant's figure.

    .venv/bin/python bench/runtime_overhead.py [--runs 3] [--rounds 200] [--number 100]
"""

from __future__ import annotations

import argparse
import atexit
import io
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

EVENTS_DIR = BENCH_DIR.parent / "tests" / "fixtures" / "events"  # the project's own
EVENTS = {
    "HTTP API v2": "apigw_http_v2_lambda_authorizer.json",
    "REST API v1": "apigw_rest_proxy.json",
}

APP = '''
from flask import Flask

app = Flask(__name__)

@app.get("/<path:path>")
def hello(path):
    return {"hello": "world", "path": path}
'''

# What `zappa package` writes as zappa_settings.py for a plain Flask app.
ZAPPA_SETTINGS = '''
APP_MODULE = "benchapp"
APP_FUNCTION = "app"
EXCEPTION_HANDLER = None
DEBUG = False
LOG_LEVEL = "WARNING"
BINARY_SUPPORT = True
CONTEXT_HEADER_MAPPINGS = {}
DOMAIN = None
BASE_PATH = None
ENVIRONMENT_VARIABLES = {}
API_STAGE = "dev"
PROJECT_NAME = "bench"
SETTINGS_FILE = None
DJANGO_SETTINGS = None
AWS_EVENT_MAPPING = {}
AWS_BOT_EVENT_MAPPING = {}
COGNITO_TRIGGER_MAPPING = {}
AUTHORIZER_FUNCTION = None
REMOTE_ENV = None
SLIM_HANDLER = False
'''

ALOFT_SETTINGS = {
    "service": "bench", "stage": "dev", "app": "benchapp:app", "django_settings": None,
    "functions": {"app": {"handler": None, "records": "batch", "payload": "2.0"}},
    "exception_handler": None,
    "binary_types": ["image/*", "audio/*", "video/*", "font/*", "application/octet-stream",
                     "application/pdf", "application/zip", "application/gzip"],
    "debug": False, "task_function": None, "slim": False,
}


def _reexec_in_bench_venv() -> None:
    if Path(sys.prefix).resolve() != BENCH_VENV.resolve():
        python = bench_python()
        os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


def _artifact() -> Path:
    root = Path(tempfile.mkdtemp(prefix="aloft-bench-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    (root / "benchapp.py").write_text(APP)
    (root / "zappa_settings.py").write_text(ZAPPA_SETTINGS)
    (root / "aloft_settings.json").write_text(json.dumps(ALOFT_SETTINGS))
    sys.path.insert(0, str(root))
    os.environ["ALOFT_SETTINGS"] = str(root / "aloft_settings.json")
    return root


def _bare(app: Any, environ: dict[str, Any]) -> Callable[[Any, Any], Any]:
    """Call the Flask app with a ready environ: the floor every adapter adds to."""
    body = environ["wsgi.input"].read()

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        return None

    def call(event: Any, context: Any) -> bytes:
        env = environ.copy()
        env["wsgi.input"] = io.BytesIO(body)
        result = app(env, start_response)
        try:
            return b"".join(result)
        finally:
            result.close()

    return call


def _contestants(event: dict[str, Any]) -> dict[str, Callable[[Any, Any], Any]]:
    import benchapp
    from apig_wsgi import make_lambda_handler
    from zappa.handler import LambdaHandler

    from aloft.runtime import handler as aloft_handler
    from aloft.runtime.sources import infer

    aloft_handler.init()
    instance = aloft_handler.init()
    source = infer(event)
    assert source is not None and instance.app is not None
    environ = source.environ(event, None, "")  # type: ignore[attr-defined]
    zappa = LambdaHandler("zappa_settings")
    return {
        "bare Flask": _bare(benchapp.app, environ),
        "aloft": aloft_handler.handler,
        "apig-wsgi": make_lambda_handler(benchapp.app),
        "Zappa": zappa.handler,
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
        # Short rounds, interleaved and rotated: neighbours in time share the machine's state.
        order.append(order.pop(0))
        for name in order:
            samples[name].append(timers[name].timeit(number) / number * 1e6)
    return samples


def _check(contestants: dict[str, Callable[[Any, Any], Any]], event: Any, context: Any) -> None:
    """Every adapter must really serve the request before its time means anything."""
    for name, fn in contestants.items():
        result = fn(event, context)
        if name == "bare Flask":
            assert json.loads(result)["hello"] == "world", name
        else:
            assert result["statusCode"] == 200, (name, result)
            assert json.loads(result["body"])["hello"] == "world", (name, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--number", type=int, default=100)
    args = parser.parse_args()
    _reexec_in_bench_venv()
    _artifact()

    import io as _io
    from contextlib import redirect_stdout

    from aloft.runtime.context import LambdaContext

    context = LambdaContext._from_environ(request_id="bench")
    print(f"Per-request cost in µs, + = added to bare Flask (median of {args.runs} runs of "
          f"{args.rounds} rounds x {args.number} calls, Python {sys.version.split()[0]})")
    print(f"{'event':<13}{'bare Flask':>12}{'aloft':>18}{'apig-wsgi':>18}{'Zappa':>18}")
    for label, file in EVENTS.items():
        event = json.loads((EVENTS_DIR / file).read_text())
        with redirect_stdout(_io.StringIO()):  # Zappa prints "Instancing.." once
            contestants = _contestants(event)
        _check(contestants, event, context)
        totals: dict[str, list[float]] = {name: [] for name in contestants}
        extras: dict[str, list[float]] = {name: [] for name in contestants}
        for _ in range(args.runs):
            samples = _measure(contestants, event, context, args.rounds, args.number)
            bare = samples["bare Flask"]
            for name, times in samples.items():
                totals[name].append(statistics.median(times))
                paired = [s - b for s, b in zip(times, bare, strict=True)]
                extras[name].append(statistics.median(paired))
        cells = [f"{statistics.median(totals['bare Flask']):>12.1f}"]
        for name in ("aloft", "apig-wsgi", "Zappa"):
            total, extra = statistics.median(totals[name]), statistics.median(extras[name])
            cells.append(f"{total:>9.1f} (+{extra:>5.1f})")
        print(f"{label:<13}" + "".join(cells))


if __name__ == "__main__":
    main()
