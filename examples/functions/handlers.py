"""functions: plain handlers, each called as func(event, context) by an event source."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

log = logging.getLogger("functions")
log.setLevel(logging.INFO)


def hello(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """`GET /hello?name=Ada` (HTTP API v2 event) -> JSON greeting."""
    params = event.get("queryStringParameters") or {}
    name = params.get("name", "world")
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": f"Hello, {name}!", "function": context.function_name}),
    }


def tick(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Every minute; `event` is the schedule's constant `input` from aloft.yml."""
    print(f"tick for {event.get('job')} at {time.strftime('%H:%M:%S')}")
    return {"job": event.get("job"), "ran_at": int(time.time())}


class JobFailed(Exception):
    pass


def process_job(record: dict[str, Any], context: Any) -> None:
    """One SQS message of the `jobs` queue (`records: each`).

    Raising marks only this message as failed: it returns to the queue, and after the queue's
    `max_receives` attempts it moves to the dead-letter queue.
    """
    job = json.loads(record["body"])
    if job.get("fail"):
        raise JobFailed(f"job {job.get('id')} asked to fail")
    print(f"processed job {job.get('id')}: {job.get('task')}")
