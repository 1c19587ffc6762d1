"""In-process cost of aloft's ASGI bridge per HTTP request, beside mangum's.

The same FastAPI app answers the same API Gateway event (HTTP API v2, then REST v1) through
each adapter in one process of the benchmark venv; "bare" awaits the app directly with a
prepared scope on a running loop (what a server like uvicorn does per request, without its
HTTP parsing). Timing as bench/_timing.py says: short rounds of NUMBER calls, contestants
interleaved and rotated, in process CPU time; medians of RUNS runs, "+" the median of the
per-round differences to bare.

    .venv/bin/python bench/asgi_overhead.py [--runs 3] [--rounds 100] [--number 100]
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _timing

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


def _bare(app: Any, scope: dict[str, Any]) -> _timing.Handler:
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


def _contestants(event: dict[str, Any]) -> dict[str, _timing.Handler]:
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


def _check(contestants: dict[str, _timing.Handler], event: Any, context: Any) -> None:
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
    args = _timing.options(__doc__, rounds=100)
    _timing.artifact({"benchasgi.py": APP}, ALOFT_SETTINGS)
    _timing.report(args, _Context(), "bare FastAPI", ("aloft", "mangum"), _contestants, _check)


if __name__ == "__main__":
    main()
