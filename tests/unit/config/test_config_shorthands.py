"""Every shorthand of aloft.yml loads as its long form."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aloft.config import load_service

CONFIG = """\
service: short
app: app:app
keep_warm: 5
cors: https://example.com
functions:
  f:
    handler: f.run
    events:
      - http: /anything
      - http: {path: items, method: "*"}
      - schedule: {expression: "rate(1 day)"}
      - queue: arn:aws:sqs:us-east-1:123456789012:q
      - stream: arn:aws:kinesis:us-east-1:123456789012:stream/s
      - stream: {kinesis: clicks, batch_size: 10}
      - stream: {arn: "arn:aws:dynamodb:us-east-1:1:table/t/stream/x"}
      - bucket: uploads
      - bucket: {name: uploads, events: [removed]}
    permissions:
      - Effect: Allow
        Action: s3:GetObject
        Resource: arn:aws:s3:::b/*
resources:
  parameters:
    greeting: hello
    limit: 10
  queues:
    jobs:
"""


def test_shorthands(write: Callable[..., Path]) -> None:
    svc = load_service(write(CONFIG), env={})
    assert svc.keep_warm.enabled and svc.keep_warm.rate == "5 minutes"
    assert svc.cors.enabled and svc.cors.origins == ["https://example.com"]
    events = svc.functions["f"].events
    assert [e.kind for e in events] == ["http", "http", "schedule", "queue", "stream", "stream",
                                        "stream", "bucket", "bucket"]
    assert events[0].http is not None and (events[0].http.method, events[0].http.path) == (
        "ANY", "/anything")
    assert events[1].http is not None and (events[1].http.method, events[1].http.path) == (
        "ANY", "/items")
    assert events[2].schedule is not None and events[2].schedule.rate == "1 day"
    assert events[3].queue is not None and events[3].queue.name.endswith(":q")
    kinds = [(e.stream.type, e.stream.name) for e in events[4:7] if e.stream]
    assert kinds == [("kinesis", "arn:aws:kinesis:us-east-1:123456789012:stream/s"),
                     ("kinesis", "clicks"),
                     ("dynamodb", "arn:aws:dynamodb:us-east-1:1:table/t/stream/x")]
    assert events[7].bucket is not None and events[7].bucket.events == ["s3:ObjectCreated:*"]
    assert events[8].bucket is not None and events[8].bucket.events == ["s3:ObjectRemoved:*"]
    statement = svc.functions["f"].permissions[0]
    assert (statement.effect, statement.action, statement.resource) == (
        "Allow", ["s3:GetObject"], ["arn:aws:s3:::b/*"])
    assert svc.resources.parameters["greeting"].value == "hello"
    assert svc.resources.parameters["limit"].value == "10"
    assert svc.resources.queues["jobs"].visibility_timeout == 30


def test_keep_warm_forms(write: Callable[..., Path]) -> None:
    for written, enabled, rate in (("false", False, "4 minutes"), ("2 hours", True, "2 hours"),
                                   ("{rate: 1 minute}", True, "1 minute")):
        svc = load_service(write(f"service: s\napp: a:app\nkeep_warm: {written}\n"), env={})
        assert (svc.keep_warm.enabled, svc.keep_warm.rate) == (enabled, rate)
