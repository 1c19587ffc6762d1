"""Lambda's destinations on a real daemon: an asynchronous invocation's record goes, once it has
run (`Success`) or failed for good (`RetriesExhausted`), to the function's `on_success` or
`on_failure` target: another function, a queue, or an event bus whose rules route it; a failed
event itself to its `dead_letter` queue. Lambda's API says where records go
(GetFunctionEventInvokeConfig)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from aloft.config.models import Service
from aloft.local.services.supervisor import client_kwargs, wait_for_endpoint
from aloft.local.types import ACCOUNT_ID
from tests.integration.local.cloud_helpers import (
    Cloud,
    deployed_project,
    lambda_client,
    read_lines,
)
from tests.waiting import wait_until

HANDLERS = """
    import json
    import os

    def work(event, context):
        if event.get("fail"):
            raise ValueError("boom %d" % event["n"])
        return {"done": event["n"]}

    def audit(event, context):
        with open(os.path.join(os.environ["OUT_DIR"], "audit.log"), "a") as fh:
            fh.write(json.dumps(event) + "\\n")
"""

BUS = f"arn:aws:events:us-east-1:{ACCOUNT_ID}:event-bus/default"


CONFIG = """
    service: dst
    environment:
      OUT_DIR: {out}
    functions:
      work:
        handler: handlers.work
        retries: 0
        destinations:
          on_success: audit
          on_failure: failures
      bussed:
        handler: handlers.work
        retries: 1
        destinations:
          on_failure: {bus}
      dropped:
        handler: handlers.work
        retries: 0
        dead_letter: dlq
      audit:
        handler: handlers.audit
        events:
          - eventbridge: {{pattern: {{source: [lambda]}}}}
    resources:
      queues:
        failures: {{}}
        dlq: {{}}
    stages:
      dev: {{}}
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cloud, Service, Path]]:
    yield from deployed_project(tmp_path_factory, lambda out: CONFIG.format(out=out, bus=BUS),
                                {"handlers.py": HANDLERS}, env={"ALOFT_ASYNC_BACKOFF": "0.05"})


def _audited(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in read_lines(out / "audit.log")]


def test_a_success_goes_to_the_function(env: tuple[Cloud, Service, Path]) -> None:
    cloud, svc, out = env
    assert cloud.provider.invoke(svc, "work", {"n": 1}, asynchronous=True).error is None
    wait_until(lambda: [r for r in _audited(out) if r.get("requestPayload") == {"n": 1}],
               message=lambda: f"the success record in audit.log: {_audited(out)}")
    [record] = [r for r in _audited(out) if r.get("requestPayload") == {"n": 1}]
    assert record["version"] == "1.0"
    context = record["requestContext"]
    assert context["condition"] == "Success" and context["approximateInvokeCount"] == 1
    assert ":function:dst-dev-work:" in context["functionArn"]
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "1"}
    assert record["responsePayload"] == {"done": 1}


def _received(cloud: Cloud, queue: str) -> list[dict[str, Any]]:
    """The messages of the endpoint's `queue`, once one has come."""
    sqs = boto3.client("sqs", **client_kwargs(wait_for_endpoint(cloud.client),
                                              cloud.home / "aws"))
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    got: list[dict[str, Any]] = []

    def received() -> bool:
        got.extend(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1,
                                       MessageAttributeNames=["All"]).get("Messages", []))
        return bool(got)

    wait_until(received, message=f"a message in {queue}")
    return got


def test_a_failure_goes_to_the_queue(env: tuple[Cloud, Service, Path]) -> None:
    cloud, svc, _ = env
    assert cloud.provider.invoke(svc, "work", {"n": 2, "fail": True},
                                 asynchronous=True).error is None
    [message] = _received(cloud, "dst-dev-failures")
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1  # retries: 0
    assert record["requestPayload"] == {"n": 2, "fail": True}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "boom 2"
    assert record["responsePayload"]["errorType"] == "ValueError"
    # and, as before, in the stage's dead-letter list (once the record is out: a crash in
    # between runs the event again rather than losing the record)
    wait_until(lambda: any(json.loads(d.payload) == {"n": 2, "fail": True}
                           for d in cloud.provider.dead_letters(svc)),
               message="the event in the stage's dead-letter list")


def test_a_failed_event_goes_to_the_dead_letter_queue(env: tuple[Cloud, Service, Path]) -> None:
    cloud, svc, _ = env
    assert cloud.provider.invoke(svc, "dropped", {"n": 4, "fail": True},
                                 asynchronous=True).error is None
    [message] = _received(cloud, "dst-dev-dlq")
    assert json.loads(message["Body"]) == {"n": 4, "fail": True}  # the event as it was sent
    attributes = message["MessageAttributes"]
    assert attributes["ErrorMessage"]["StringValue"] == "boom 4"
    assert attributes["ErrorCode"]["StringValue"] == "200"
    [dead] = wait_until(lambda: [d for d in cloud.provider.dead_letters(svc)
                                 if d.function.endswith("dropped")],
                        message="the event in the stage's dead-letter list")
    assert attributes["RequestID"]["StringValue"] == dead.id


def test_a_failure_goes_to_the_event_bus(env: tuple[Cloud, Service, Path]) -> None:
    cloud, svc, out = env
    assert cloud.provider.invoke(svc, "bussed", {"n": 3, "fail": True},
                                 asynchronous=True).error is None

    def routed() -> list[dict[str, Any]]:
        return [e for e in _audited(out) if e.get("source") == "lambda"]

    wait_until(routed, message=lambda: f"the record routed to audit: {_audited(out)}")
    [event] = routed()
    assert event["detail-type"] == "Lambda Function Invocation Result - Failure"
    record = event["detail"]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2  # retries: 1
    assert record["responsePayload"]["errorMessage"] == "boom 3"


def test_the_api_says_where_records_go(env: tuple[Cloud, Service, Path]) -> None:
    cloud, _, _ = env
    config = lambda_client(cloud).get_function_event_invoke_config(FunctionName="dst-dev-work")
    targets = config["DestinationConfig"]
    assert targets["OnSuccess"]["Destination"].endswith(":function:dst-dev-audit")
    assert targets["OnFailure"]["Destination"].endswith(":dst-dev-failures")
    assert lambda_client(cloud).get_function_event_invoke_config(
        FunctionName="dst-dev-audit")["DestinationConfig"] == {}
