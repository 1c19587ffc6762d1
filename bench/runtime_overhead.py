"""In-process cost of aloft's runtime per HTTP request, beside apig-wsgi and Zappa's handler.

The same Flask app answers the same API Gateway event (HTTP API v2, then REST v1) through each
adapter in one process of the benchmark venv; "bare" calls the app directly with a prepared WSGI
environ for the same request. Timing as bench/_timing.py says: short rounds of NUMBER calls,
contestants interleaved and rotated, in process CPU time; medians of RUNS runs, "+" the median of
the per-round differences to bare.

    .venv/bin/python bench/runtime_overhead.py [--runs 3] [--rounds 200] [--number 100]
"""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _timing

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


def _bare(app: Any, environ: dict[str, Any]) -> _timing.Handler:
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


def _contestants(event: dict[str, Any]) -> dict[str, _timing.Handler]:
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
    with redirect_stdout(io.StringIO()):  # Zappa prints "Instancing.." once
        zappa = LambdaHandler("zappa_settings")
    return {
        "bare Flask": _bare(benchapp.app, environ),
        "aloft": aloft_handler.handler,
        "apig-wsgi": make_lambda_handler(benchapp.app),
        "Zappa": zappa.handler,
    }


def _check(contestants: dict[str, _timing.Handler], event: Any, context: Any) -> None:
    """Every adapter must really serve the request before its time means anything."""
    for name, fn in contestants.items():
        result = fn(event, context)
        if name == "bare Flask":
            assert json.loads(result)["hello"] == "world", name
        else:
            assert result["statusCode"] == 200, (name, result)
            assert json.loads(result["body"])["hello"] == "world", (name, result)


def main() -> None:
    args = _timing.options(__doc__, rounds=200)
    _timing.artifact({"benchapp.py": APP, "zappa_settings.py": ZAPPA_SETTINGS}, ALOFT_SETTINGS)

    from aloft.runtime.context import LambdaContext

    context = LambdaContext._from_environ(request_id="bench")
    _timing.report(args, context, "bare Flask", ("aloft", "apig-wsgi", "Zappa"), _contestants,
                   _check)


if __name__ == "__main__":
    main()
