"""Events the CLI sends: a convenience HTTP API v2 request, the raw and manage commands.

Pure functions over plain data; the formats are AWS's (HTTP API payload 2.0, built by the same
code as the local cloud's gateway events) and the runtime's command events
(`{"aloft": "raw" | "manage", ...}`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from aloft.errors import UsageError


def parse_headers(items: Sequence[str]) -> dict[str, str]:
    """`-H 'Name: value'` options as a dict with lower-case names (as API Gateway sends them)."""
    headers: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise UsageError(
                f"header {item!r} is not `Name: value`", fix="write e.g. -H 'Accept: text/html'"
            )
        key = name.strip().lower()
        headers[key] = f"{headers[key]},{value.strip()}" if key in headers else value.strip()
    return headers


def http_event(
    path: str,
    method: str = "GET",
    *,
    headers: dict[str, str] | None = None,
    body: str | bytes | None = None,
    stage: str = "$default",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event for `method path?query`, built as the local
    cloud's gateway builds one (aloft.local.instances.worker.event_builders)."""
    from aloft.local.instances.worker.event_builders import ForwardedRequest, build_http_event

    if not path.startswith("/"):
        path = "/" + path
    parts = urlsplit(path)
    all_headers = {"host": "localhost", "user-agent": "aloft-cli", **(headers or {})}
    data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    request = ForwardedRequest(method.upper(), parts.path or "/", parts.query,
                               list(all_headers.items()), data, "127.0.0.1")
    return build_http_event(request, route_key="$default", path_parameters=None, stage=stage,
                            request_id=str(uuid.uuid4()), api_id="local")


def raw_event(source: str) -> dict[str, Any]:
    """Run Python source inside the function (`aloft invoke --raw`)."""
    return {"aloft": "raw", "source": source}


def manage_event(args: Sequence[str]) -> dict[str, Any]:
    """Run a Django management command inside the app (`aloft manage`)."""
    return {"aloft": "manage", "args": list(args)}
