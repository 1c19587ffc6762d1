"""The gateway's request line: one access log entry per HTTP request to a function.

The local gateway writes it to the function's log stream when it answers (after the function's
END and REPORT lines), as API Gateway writes access logs; `aloft tail` and `aloft dev` show a
request's output under it. One format, written and read here:

    REQUEST GET /shop/dev/orders 500 12.34 ms RequestId: 8a1b2c3d-…

The path is the request's, without its query string (a query may carry a secret); the latency
runs from the gateway's receiving the request to its answer (a cold start included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "REQUEST "
MAX_PATH = 1024  # characters of the path kept in the line
_LINE = re.compile(r"REQUEST ([A-Z]+) (.+) (\d{3}) (\d+(?:\.\d+)?) ms RequestId: ([\w-]+)\Z")


@dataclass(frozen=True)
class RequestLine:
    method: str
    path: str
    status: int
    latency_ms: float
    request_id: str

    def as_dict(self) -> dict[str, object]:
        return {"method": self.method, "path": self.path, "status": self.status,
                "latency_ms": self.latency_ms, "request_id": self.request_id}


def request_line(method: str, path: str, status: int, latency_ms: float, request_id: str) -> str:
    if len(path) > MAX_PATH:
        path = path[:MAX_PATH] + "…"
    # ('%.2f' % x, not {x:.2f}: compiled, a format spec costs a str.format call, 3x slower)
    return f"REQUEST {method} {path} {status} {'%.2f' % latency_ms} ms RequestId: {request_id}"  # noqa: UP031


def parse(text: str) -> RequestLine | None:
    """The request line `text` is, or None for any other line."""
    if not text.startswith(PREFIX):
        return None
    match = _LINE.match(text.rstrip("\n"))
    if match is None:
        return None
    method, path, status, latency, rid = match.groups()
    return RequestLine(method, path, int(status), float(latency), rid)
