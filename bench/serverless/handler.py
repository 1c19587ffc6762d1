"""A plain Lambda handler answering an HTTP API event."""

from __future__ import annotations

from typing import Any


def hello(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": '{"hello": "world"}'}
