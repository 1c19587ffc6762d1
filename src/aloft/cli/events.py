"""Events the CLI sends: a convenience HTTP API v2 request, the raw and manage commands.

Pure functions over plain data; the formats are AWS's (HTTP API payload 2.0) and the runtime's
command events (`{"aloft": "raw" | "manage", ...}`).
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

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
    """An API Gateway HTTP API (payload 2.0) event for `method path?query`."""
    if not path.startswith("/"):
        path = "/" + path
    parts = urlsplit(path)
    all_headers = {"host": "localhost", "user-agent": "aloft-cli", **(headers or {})}
    cookies = [c.strip() for c in all_headers.pop("cookie", "").split(";") if c.strip()]
    query: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": all_headers["host"],
            "domainPrefix": all_headers["host"].split(".")[0],
            "http": {
                "method": method.upper(),
                "path": parts.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": all_headers["user-agent"],
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": stage,
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        if isinstance(body, bytes):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True
        else:
            event["body"] = body
    return event


def raw_event(source: str) -> dict[str, Any]:
    """Run Python source inside the function (`aloft invoke --raw`)."""
    return {"aloft": "raw", "source": source}


def manage_event(args: Sequence[str]) -> dict[str, Any]:
    """Run a Django management command inside the app (`aloft manage`)."""
    return {"aloft": "manage", "args": list(args)}
