"""`aloft dlq` on an aws stage (moto): the stage's failure queue listed as dead letters without
consuming it, and re-driven (the function's stage alias invoked asynchronously with each
event, then the message deleted)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.provider import DeadLetters
from tests.aws.conftest import boto
from tests.moto_lambda import Invocations

QUEUE = "shop-prod-aloft-failed"


def record(n: int, *, condition: str = "RetriesExhausted") -> str:
    """What Lambda sends its on-failure destination."""
    return json.dumps({
        "version": "1.0", "timestamp": f"2026-12-05T10:00:0{n}.000Z",
        "requestContext": {"requestId": f"r{n}", "condition": condition,
                           "approximateInvokeCount": 3,
                           "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:"
                                          "shop-prod-worker:prod"},
        "requestPayload": {"n": n},
        "responseContext": {"statusCode": 200, "executedVersion": "1",
                            "functionError": "Unhandled"},
        "responsePayload": {"errorType": "ValueError", "errorMessage": f"bad {n}"}})


def fail(*bodies: str) -> list[str]:
    sqs = boto("sqs")
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    return [sqs.send_message(QueueUrl=url, MessageBody=b)["MessageId"] for b in bodies]


def left() -> int:
    sqs = boto("sqs")
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"])


def test_lists_and_redrives_the_failure_queue(
        provider: AwsProvider, make_service: Callable[..., Service],
        invocations: Invocations) -> None:
    service = make_service(functions={"worker": {"handler": "jobs.work"}})
    assert isinstance(provider, DeadLetters)
    provider.deploy(service)
    assert provider.dead_letters(service) == []
    ids = fail(*(record(n) for n in range(12)), record(12, condition="EventAgeExceeded"),
               "not a record")
    events = provider.dead_letters(service)
    assert len(events) == 14 and left() == 14  # listed, not consumed
    first = next(e for e in events if e.id == ids[0])
    assert (first.function, first.qualifier, first.attempts) == ("shop-prod-worker", "prod", 3)
    assert first.error == "ValueError: bad 0" and json.loads(first.payload) == {"n": 0}
    assert first.created == datetime(2026, 12, 5, 10, tzinfo=UTC).timestamp()  # the record's
    aged = next(e for e in events if e.id == ids[12])
    assert aged.error is not None and "max_event_age" in aged.error
    odd = next(e for e in events if e.id == ids[13])
    assert odd.function == "" and odd.payload == "not a record"

    invocations.seen.clear()
    assert provider.redrive(service, [ids[1]]) == [ids[1]]
    assert invocations.seen == [("shop-prod-worker", "prod", {"n": 1})]
    assert left() == 13
    done = provider.redrive(service)
    assert sorted(done) == sorted(ids[:1] + ids[2:13])  # not the message that is no record
    assert sorted(e[2]["n"] for e in invocations.seen[1:]) == [0, *range(2, 13)]
    assert [e.id for e in provider.dead_letters(service)] == [ids[13]]


def test_an_undeployed_stage_has_no_dead_letters(
        provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    service: Any = make_service(functions={"worker": {"handler": "jobs.work"}})
    assert provider.dead_letters(service) == [] and provider.redrive(service) == []
