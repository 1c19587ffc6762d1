"""Lambda's invocation record of an asynchronous invocation, and where Destinations sends it:
a function (an async invocation of it), an event bus (PutEvents), a queue or topic (the local
endpoint's client); a failed event itself to the dead-letter target; a target that cannot take
it is logged, not raised."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from aloft.local.triggers.async_queue import AsyncEvent
from aloft.local.triggers.destinations import Destinations, invocation_record
from aloft.local.types import InvokeResult

EVENT = AsyncEvent("ev-1", "svc-dev-fn", None, b'{"n": 1}', 2, 3600, created=1.0, attempts=2)
FAILED = InvokeResult("rid", "error", b'{"errorMessage": "boom", "errorType": "ValueError"}',
                      1.0, version=4)


def test_the_record_is_lambdas() -> None:
    record = invocation_record(EVENT, FAILED, "RetriesExhausted",
                               datetime(2026, 12, 6, 10, 0, 0, 123000, tzinfo=UTC))
    assert record == {
        "version": "1.0",
        "timestamp": "2026-12-06T10:00:00.123Z",
        "requestContext": {
            "requestId": "ev-1",
            "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:svc-dev-fn:$LATEST",
            "condition": "RetriesExhausted", "approximateInvokeCount": 2},
        "requestPayload": {"n": 1},
        "responseContext": {"statusCode": 200, "executedVersion": "4",
                            "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "boom", "errorType": "ValueError"},
    }
    never_ran = invocation_record(EVENT, None, "EventAgeExceeded", datetime.now(UTC))
    assert "responseContext" not in never_ran and "responsePayload" not in never_ran


class _Client:
    def __init__(self, sent: list[tuple[str, dict[str, Any]]]) -> None:
        self.sent = sent

    def get_queue_url(self, QueueName: str) -> dict[str, str]:
        return {"QueueUrl": f"http://local/{QueueName}"}

    def send_message(self, **params: Any) -> None:
        self.sent.append(("sqs", params))

    def publish(self, **params: Any) -> None:
        self.sent.append(("sns", params))


def _deliver(target: str | None, condition: str = "RetriesExhausted",
             dead_letter: str | None = None) -> tuple[list[tuple[str, Any]], Destinations]:
    sent: list[tuple[str, Any]] = []

    async def enqueue(function: str, payload: bytes) -> None:
        sent.append(("lambda", (function, json.loads(payload))))

    async def put_events(body: dict[str, Any]) -> None:
        sent.append(("events", body))

    d = Destinations(lambda fn: (target, target, dead_letter), enqueue, put_events,
                     lambda service: _Client(sent))
    asyncio.run(d.deliver(EVENT, FAILED, condition))  # type: ignore[arg-type]
    return sent, d


@pytest.mark.parametrize(("target", "kind"), [
    ("arn:aws:lambda:us-east-1:000000000000:function:svc-dev-audit", "lambda"),
    ("arn:aws:sqs:us-east-1:000000000000:svc-dev-failed", "sqs"),
    ("arn:aws:sns:us-east-1:000000000000:svc-dev-alerts", "sns"),
    ("arn:aws:events:us-east-1:000000000000:event-bus/orders", "events"),
])
def test_each_kind_of_target(target: str, kind: str) -> None:
    sent, d = _deliver(target)
    [(got, params)] = sent
    assert got == kind and d.delivered == 1
    if kind == "lambda":
        assert params[0] == "svc-dev-audit"
        assert params[1]["requestContext"]["condition"] == "RetriesExhausted"
    elif kind == "sqs":
        assert params["QueueUrl"] == "http://local/svc-dev-failed"
        assert json.loads(params["MessageBody"])["requestPayload"] == {"n": 1}
    elif kind == "sns":
        assert params["TopicArn"] == target
    else:
        [entry] = params["Entries"]
        assert entry["Source"] == "lambda" and entry["EventBusName"] == target
        assert entry["DetailType"] == "Lambda Function Invocation Result - Failure"


def test_no_target_nothing_sent_and_a_bad_one_is_logged(caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    assert _deliver(None)[0] == []
    sent, d = _deliver("arn:aws:s3:::a-bucket")
    assert sent == [] and d.delivered == 0
    assert "could not reach arn:aws:s3:::a-bucket" in caplog.text


@pytest.mark.parametrize("kind", ["sqs", "sns"])
def test_a_failed_event_itself_goes_to_the_dead_letter_target(kind: str) -> None:
    arn = f"arn:aws:{kind}:us-east-1:000000000000:svc-dev-dlq"
    sent, _ = _deliver(None, dead_letter=arn)
    [(got, params)] = sent
    assert got == kind
    body = params["MessageBody"] if kind == "sqs" else params["Message"]
    assert body == '{"n": 1}'  # the event as it was sent, not the record
    attributes = params["MessageAttributes"]
    assert attributes["RequestID"]["StringValue"] == "ev-1"
    assert attributes["ErrorMessage"]["StringValue"] == "boom"
    assert attributes["ErrorCode"] == {"DataType": "Number", "StringValue": "200"}
    assert _deliver(None, "Success", dead_letter=arn)[0] == []  # a success is not dead
