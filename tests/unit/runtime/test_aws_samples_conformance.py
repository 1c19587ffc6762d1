"""Conformance with real AWS event samples, where there are some (`shared/aws-events` beside
the repository, or ALOFT_AWS_EVENTS): every sample, whatever its name, is recognised by exactly
one source and goes through the entry point (HTTP ones reach a Flask app as the request the
event describes, the others reach a function untouched), and the events aloft's local cloud
builds carry the keys AWS's own carry.

Without samples this module is not collected (tests/conftest.py) and the run says so; run
alone, it is skipped with the same reason. The project's own fixtures cover the same ground
in test_runtime_events.py."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import sentinel
from urllib.parse import unquote

import pytest

from aloft.runtime import handler as runtime
from aloft.runtime.errors import UnsupportedEvent
from aloft.runtime.sources import ENVELOPES, SOURCES, infer
from tests.aws_events import AWS_EVENTS, conformance_status
from tests.unit.runtime.runtime_helpers import ECHO_APP, RECORDER, user_module

if AWS_EVENTS is None:
    pytest.skip(conformance_status(), allow_module_level=True)

SAMPLES: dict[str, Any] = {
    p.name: json.loads(p.read_text()) for p in sorted(AWS_EVENTS.glob("*.json"))  # type: ignore[union-attr]
}
HTTP_SOURCES = {"apigateway-v1", "apigateway-v2", "function-url", "alb"}


def _source(event: Any) -> str:
    source = infer(event)
    assert source is not None, "no source recognises this sample"
    return source.name


def _kind(kind: str) -> list[str]:
    return [n for n, e in SAMPLES.items() if _source(e) == kind]


HTTP_SAMPLES = [n for n, e in SAMPLES.items() if _source(e) in HTTP_SOURCES]
OTHER_SAMPLES = [n for n in SAMPLES if n not in HTTP_SAMPLES]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_exactly_one_source_owns_each_sample(name: str) -> None:
    event = SAMPLES[name]
    owners = [s.name for s in (*SOURCES, *ENVELOPES) if s.infer(event)]
    assert len(owners) == 1, owners


def _request_line(event: dict[str, Any], source: str) -> tuple[str, str]:
    """The method and full path the event says the client asked for."""
    if source in ("apigateway-v2", "function-url"):
        return event["requestContext"]["http"]["method"], event["rawPath"]
    context = event.get("requestContext") or {}
    full = context.get("path") if source == "apigateway-v1" else None
    return event["httpMethod"], full if full and len(full) > len(event["path"]) else event["path"]


def _body_variants(event: dict[str, Any]) -> set[str]:
    body = event.get("body") or ""
    variants = {body}
    if event.get("isBase64Encoded"):
        # Some samples flag plain text as base64: it is served as sent.
        with contextlib.suppress(binascii.Error, ValueError):
            variants.add(base64.b64decode(body, validate=True).decode("utf-8", "replace"))
    return variants


@pytest.mark.parametrize("name", HTTP_SAMPLES)
def test_http_sample_reaches_the_app_as_the_request_it_describes(
    name: str, deploy: Any
) -> None:
    deploy({"echo": ECHO_APP}, app="echo:app")
    event = json.loads(json.dumps(SAMPLES[name]))
    source = _source(event)

    result = runtime.handler(event, sentinel.context)

    assert result["statusCode"] == 200
    seen = json.loads(result["body"])
    method, path = _request_line(event, source)
    assert seen["method"] == method
    assert seen["script_name"] + seen["path_info"] == unquote(path)
    assert seen["body"] in _body_variants(event)
    environ = user_module("echo").LAST["environ"]
    assert environ["aloft.event"] is event and environ["aloft.context"] is sentinel.context


@pytest.mark.parametrize("name", OTHER_SAMPLES)
def test_other_sample_reaches_the_function_untouched(name: str, deploy: Any) -> None:
    deploy({"recorder": RECORDER}, handlers={"worker": "recorder.handle"})
    event = SAMPLES[name]
    assert runtime.handler(event, sentinel.context) == {"handled": 1}
    [(got_event, got_context)] = user_module("recorder").CALLS
    assert got_event is event and got_context is sentinel.context


@pytest.mark.parametrize("name", OTHER_SAMPLES)
def test_other_sample_sent_to_the_app_is_refused_clearly(name: str, deploy: Any) -> None:
    deploy({"echo": ECHO_APP}, app="echo:app")
    with pytest.raises(UnsupportedEvent, match="serves the app over HTTP"):
        runtime.handler(SAMPLES[name], None)


@pytest.mark.parametrize(
    "name", [n for n in OTHER_SAMPLES if _source(SAMPLES[n]) in ("sqs", "kinesis", "dynamodb")]
)
def test_batch_sample_each_record(name: str, deploy: Any) -> None:
    deploy({"recorder": RECORDER}, handlers={"worker": "recorder.each"}, records="each")
    event = SAMPLES[name]
    assert runtime.handler(event, None) == {"batchItemFailures": []}
    assert [record for record, _ in user_module("recorder").CALLS] == event["Records"]


# --------------------------------------------------------------------------- local shapes


def _keys_agree(
    ours: dict[str, Any],
    theirs: list[dict[str, Any]],
    what: str,
    optional: frozenset[str] = frozenset(),
) -> None:
    """Every key aloft sends is one AWS sends, and every key the samples always carry, aloft
    does too, but for those AWS documents as optional (sent only when there is a value)."""
    if not theirs:
        pytest.skip(f"no {what} among the samples at {AWS_EVENTS}")
    every = set.union(*(set(t) for t in theirs))
    always = set.intersection(*(set(t) for t in theirs)) - optional
    assert set(ours) <= every, (what, set(ours) - every)
    assert always <= set(ours), (what, always - set(ours))


def _records(kind: str) -> list[dict[str, Any]]:
    return [r for n in _kind(kind) for r in SAMPLES[n]["Records"]]


def test_local_http_events_have_aws_keys() -> None:
    from aloft.local.instances.worker.event_builders import build_http_event, build_rest_event
    from aloft.local.types import HttpRequest

    request = HttpRequest("POST", "/svc/dev/a", "x=1", [("host", "h"), ("cookie", "c=1")],
                          b"{}", "10.0.0.1")
    v2 = build_http_event(request, route_key="POST /a", path_parameters={"p": "1"},
                          stage="dev", request_id="r", api_id="local", now=0)
    v2_samples = [SAMPLES[n] for n in _kind("apigateway-v2")]
    _keys_agree(v2, v2_samples, "HTTP API event", frozenset({"stageVariables"}))
    _keys_agree(v2["requestContext"], [s["requestContext"] for s in v2_samples],
                "HTTP API requestContext", frozenset({"authorizer", "authentication"}))
    v1 = build_rest_event(request, resource="/a", path="/a", path_parameters=None, stage="dev",
                          request_id="r", api_id="local", now=0)
    # Only the samples of full proxy requests (some samples are trimmed to a few keys).
    v1_samples = [SAMPLES[n] for n in _kind("apigateway-v1") if "headers" in SAMPLES[n]]
    _keys_agree(v1, v1_samples, "REST API event")
    _keys_agree(v1["requestContext"], [s["requestContext"] for s in v1_samples],
                "REST API requestContext", frozenset({"authorizer", "resourceId"}))


def test_local_record_events_have_aws_keys() -> None:
    from aloft.local.triggers.pollers.lambda_events import (
        dynamodb_event,
        kinesis_event,
        s3_records,
        sns_event,
        sqs_event,
    )

    sqs = sqs_event([{"MessageId": "m", "ReceiptHandle": "r", "Body": "b", "MD5OfBody": "x"}],
                    "arn:aws:sqs:eu-west-1:1:q")["Records"][0]
    _keys_agree(sqs, _records("sqs"), "SQS record")

    note = json.dumps({"Type": "Notification", "MessageId": "m", "TopicArn": "t",
                       "Subject": "s", "Message": "m", "Timestamp": "t", "SignatureVersion": "1",
                       "Signature": "s", "SigningCertURL": "u", "UnsubscribeURL": "u",
                       "MessageAttributes": {}})
    sns = sns_event(note, "arn:aws:sns:eu-west-1:1:t:s")
    assert sns is not None
    _keys_agree(sns["Records"][0], _records("sns"), "SNS record")
    _keys_agree(sns["Records"][0]["Sns"], [r["Sns"] for r in _records("sns")], "SNS message")

    s3 = s3_records(json.dumps({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-1",
        "eventTime": "t", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
               "bucket": {"name": "b", "arn": "arn:aws:s3:::b"},
               "object": {"key": "k", "size": 1, "eTag": "e"}}}]}))
    assert s3 is not None
    _keys_agree(s3[0], _records("s3"), "S3 record")

    when = datetime(2024, 1, 2, tzinfo=UTC)
    ddb = dynamodb_event([{"eventID": "e", "eventName": "INSERT", "eventVersion": "1.1",
                           "eventSource": "aws:dynamodb", "awsRegion": "eu-west-1",
                           "dynamodb": {"ApproximateCreationDateTime": when, "Keys": {},
                                        "SequenceNumber": "1", "SizeBytes": 1,
                                        "StreamViewType": "NEW_IMAGE"}}],
                         "arn:aws:dynamodb:eu-west-1:1:table/t/stream/x")["Records"][0]
    _keys_agree(ddb, _records("dynamodb"), "DynamoDB stream record")

    kinesis = kinesis_event([{"SequenceNumber": "1", "Data": b"x", "PartitionKey": "p",
                              "ApproximateArrivalTimestamp": when}],
                            "arn:aws:kinesis:eu-west-1:1:stream/s", "shardId-0")["Records"][0]
    _keys_agree(kinesis, _records("kinesis"), "Kinesis record")
    _keys_agree(kinesis["kinesis"], [r["kinesis"] for r in _records("kinesis")],
                "Kinesis data")


def test_the_samples_directory_is_what_the_run_reports(tmp_path: Path) -> None:
    assert AWS_EVENTS is not None and len(SAMPLES) == len(list(AWS_EVENTS.glob("*.json")))
    assert str(AWS_EVENTS) in conformance_status()
