"""HTTP requests as API Gateway events, and function results as HTTP responses. Pure functions.

The event builders live in instances/worker/event_builders.py (stdlib only, run in instances);
they are re-exported here. `health_event` is the deploy health check's request.
`parse_http_response` reads a function's result the way API Gateway does, and says why when it
cannot (the gateway answers 502 and logs the reason).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from aloft import health
from aloft.local.instances.worker.event_builders import (
    ACCOUNT_ID,
    build_http_event,
    build_rest_event,
    encode_body,
    is_text,
    request_time,
)
from aloft.local.instances.worker.proxy_response import MalformedResponse, proxy_response
from aloft.local.types import FunctionVersion, HttpResponse

__all__ = [
    "ACCOUNT_ID",
    "build_http_event",
    "build_rest_event",
    "encode_body",
    "health_event",
    "is_text",
    "json_response",
    "parse_http_response",
    "request_time",
]
_JSON = [("content-type", "application/json")]


def health_event(fv: FunctionVersion, path: str) -> bytes:
    """A GET of `path` within the function's stage, as the gateway would send it (the deploy
    health check, aloft.health). The stage prefix comes from the function's
    ALOFT_BASE_PATH."""
    base = fv.environment.get("ALOFT_BASE_PATH", "").rstrip("/")
    stage = base.rsplit("/", 1)[-1] if base else "$default"
    return json.dumps(health.health_event(fv.payload, path, base_path=base,
                                          stage=stage)).encode()


# -- responses --------------------------------------------------------------------------------


def parse_http_response(payload: bytes, version: Literal["2.0", "1.0"] = "2.0") -> HttpResponse:
    """The HTTP response API Gateway would make of a function's result (JSON)."""
    try:
        result = json.loads(payload)
    except ValueError as exc:
        raise MalformedResponse(f"the result is not JSON: {exc}") from None
    status, headers, body = proxy_response(result, version, payload)
    return HttpResponse(status, headers, body)


def json_response(status: int, data: Any, headers: Sequence[tuple[str, str]] = ()) -> HttpResponse:
    return HttpResponse(status, [*_JSON, *headers], json.dumps(data).encode())
