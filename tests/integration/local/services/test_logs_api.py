"""CloudWatch Logs on the local AWS endpoint, from the local cloud's log store: groups, streams
(one per instance, named as Lambda names them and as the instance was told), events with their
tokens, filter patterns, retention; driven by boto3 and by the AWS CLI (in process)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from aloft.config.models import Service
from aloft.local.services.supervisor import wait_for_endpoint
from aloft.local.store.logs import LogStore
from tests.integration.local.cloud_helpers import (
    USER,
    Cloud,
    aws_cli_json,
    lambda_client,
    service,
    write_project,
)
from tests.waiting import wait_until

HANDLERS = """
    import json
    import logging
    import os
    import time

    def talk(event, context):
        print("plain line", event.get("n"))
        print(json.dumps({"level": event.get("level", "INFO"), "n": event.get("n"),
                          "stream": context.log_stream_name}))
        if event.get("fail"):
            print("took too long")
        if event.get("hold"):  # keeps its instance busy: a request meanwhile needs another
            time.sleep(event["hold"])
            return {"context": context.log_stream_name,
                    "environ": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
                    "request": context.aws_request_id}
        return "ok"
"""

CONFIG = """
    service: logsapi
    functions:
      talker:
        handler: handlers.talk
    stages:
      dev: {}
"""

GROUP = "/aws/lambda/logsapi-dev-talker"
STREAM_NAME = re.compile(r"\d{4}/\d{2}/\d{2}/\[1\][0-9a-f]{32}")  # Lambda's, version 1


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[Cloud, Service, str, Path]]:
    cloud = Cloud(tmp_path_factory.mktemp("home"), USER)
    cloud.start()
    root = write_project(tmp_path_factory.mktemp("project"), CONFIG, {"handlers.py": HANDLERS})
    svc = service(root)
    cloud.provider.deploy(svc)
    lam = lambda_client(cloud)
    for n, level in enumerate(["INFO", "ERROR", "INFO", "WARN", "ERROR"]):
        event = {"n": n, "level": level, "fail": level == "WARN"}
        lam.invoke(FunctionName="logsapi-dev-talker", Payload=json.dumps(event).encode())
    yield cloud, svc, wait_for_endpoint(cloud.client), root
    if cloud.client.running() is not None:
        cloud.stop()


@pytest.fixture(scope="module")
def logs(deployed: tuple[Cloud, Service, str, Path]) -> Any:
    client = boto3.client("logs", endpoint_url=deployed[2], region_name="us-east-1",
                          aws_access_key_id=USER["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=USER["AWS_SECRET_ACCESS_KEY"],
                          config=Config(retries={"total_max_attempts": 1}))

    def all_five() -> bool:  # the daemon commits logs every 0.1 s
        found = client.filter_log_events(logGroupName=GROUP, filterPattern="plain")["events"]
        return len(found) == 5

    wait_until(all_five, message="the five invocations' lines in the log store")
    return client


def messages(events: list[dict[str, Any]]) -> list[str]:
    return [e["message"] for e in events]


def test_groups_and_streams(logs: Any) -> None:
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/logsapi")["logGroups"]
    assert [g["logGroupName"] for g in groups] == [GROUP]
    assert groups[0]["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{GROUP}:*"
    streams = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert len(streams) == 1
    name = streams[0]["logStreamName"]
    assert STREAM_NAME.fullmatch(name), name
    assert streams[0]["lastEventTimestamp"] >= streams[0]["firstEventTimestamp"]
    # the stream is the one the function's context names
    told = logs.filter_log_events(logGroupName=GROUP, filterPattern='{ $.n = 0 }')["events"]
    assert json.loads(told[0]["message"])["stream"] == name
    with pytest.raises(ClientError) as error:
        logs.describe_log_streams(logGroupName="/aws/lambda/no")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_filter_patterns(logs: Any) -> None:
    def levels(pattern: str) -> list[int]:
        events = logs.filter_log_events(logGroupName=GROUP, filterPattern=pattern)["events"]
        return [json.loads(e["message"])["n"] for e in events]

    assert levels('{ $.level = "ERROR" }') == [1, 4]
    assert levels('{ $.n >= 3 }') == [3, 4]
    assert levels('{ $.level = "ERROR" || $.level = "WARN" }') == [1, 3, 4]
    got = logs.filter_log_events(logGroupName=GROUP, filterPattern='"took too long"')["events"]
    assert messages(got) == ["took too long"]
    alternatives = logs.filter_log_events(logGroupName=GROUP, filterPattern="?WARN ?took")
    assert len(alternatives["events"]) == 2  # the WARN record and the line after it
    plain = logs.filter_log_events(logGroupName=GROUP, filterPattern="plain -3")["events"]
    assert messages(plain) == [f"plain line {n}" for n in (0, 1, 2, 4)]
    with pytest.raises(ClientError) as bad:
        logs.filter_log_events(logGroupName=GROUP, filterPattern="[ip, user]")
    assert bad.value.response["Error"]["Code"] == "InvalidParameterException"


def test_pages_and_tokens(logs: Any) -> None:
    pages = list(logs.get_paginator("filter_log_events").paginate(
        logGroupName=GROUP, filterPattern="plain", PaginationConfig={"PageSize": 2}))
    assert [len(p["events"]) for p in pages if p["events"]] == [2, 2, 1]
    stream = logs.describe_log_streams(logGroupName=GROUP)["logStreams"][0]["logStreamName"]
    first = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True,
                                limit=3)
    assert messages(first["events"])[0].startswith("START RequestId:")
    following = logs.get_log_events(logGroupName=GROUP, logStreamName=stream,
                                    nextToken=first["nextForwardToken"], startFromHead=True,
                                    limit=3)
    assert following["events"][0]["timestamp"] >= first["events"][-1]["timestamp"]
    assert messages(following["events"]) != messages(first["events"])
    unknown = logs.get_log_events(logGroupName=GROUP, logStreamName=stream[:-1] + "x")
    assert unknown["events"] == []
    later = logs.filter_log_events(logGroupName=GROUP, startTime=int(time.time() * 1000) + 60_000)
    assert later["events"] == []


def test_following_as_aws_logs_tail_does(deployed: tuple[Cloud, Service, str, Path],
                                        logs: Any) -> None:
    """AWS CLI v2's `aws logs tail GROUP --follow` (awscli/customizations/logs/tail.py): pages of
    FilterLogEvents by logGroupIdentifier from a start time, then polls again from the newest
    timestamp it saw, skipping the event ids it yielded."""
    seen: dict[int, set[str]] = {}
    kwargs: dict[str, Any] = {"logGroupIdentifier": GROUP, "interleaved": True,
                              "startTime": int((time.time() - 600) * 1000)}

    def poll() -> list[str]:
        got = []
        while True:
            response = logs.filter_log_events(**kwargs)
            for event in response["events"]:
                ids = seen.setdefault(event["timestamp"], set())
                if event["eventId"] not in ids:
                    ids.add(event["eventId"])
                    got.append(event["message"])
            if "nextToken" not in response:
                kwargs.pop("nextToken", None)
                kwargs["startTime"] = max(seen, default=kwargs["startTime"])
                return got
            kwargs["nextToken"] = response["nextToken"]

    first = poll()
    assert sum(m.startswith("plain line") for m in first) == 5
    assert poll() == []  # nothing new: nothing again
    lam = lambda_client(deployed[0])
    lam.invoke(FunctionName="logsapi-dev-talker", Payload=b'{"n": 99}')
    later = wait_until(lambda: poll() or None, message="the new invocation's lines")
    assert "plain line 99" in later and not any(m in first for m in later
                                                 if m.startswith("plain"))


def test_the_aws_cli_reads_the_logs(deployed: tuple[Cloud, Service, str, Path], logs: Any) -> None:
    def aws(*args: str) -> Any:
        return aws_cli_json(deployed[2], *args)

    assert aws("logs", "describe-log-groups")["logGroups"][0]["logGroupName"] == GROUP
    stream = aws("logs", "describe-log-streams", "--log-group-name", GROUP)["logStreams"][0]
    events = aws("logs", "get-log-events", "--log-group-name", GROUP, "--log-stream-name",
                 stream["logStreamName"], "--start-from-head")["events"]
    assert any(e["message"].startswith("REPORT RequestId:") for e in events)
    errors = aws("logs", "filter-log-events", "--log-group-name", GROUP, "--filter-pattern",
                 '{ $.level = "ERROR" }')["events"]
    assert [json.loads(e["message"])["n"] for e in errors] == [1, 4]
    aws("logs", "put-retention-policy", "--log-group-name", GROUP, "--retention-in-days", "14")
    assert aws("logs", "describe-log-groups")["logGroups"][0]["retentionInDays"] == 14
    aws("logs", "delete-retention-policy", "--log-group-name", GROUP)


def test_a_stream_per_instance(deployed: tuple[Cloud, Service, str, Path], logs: Any) -> None:
    """Two requests at once run on two instances: each has its own stream, named as Lambda
    names them, holding its own lines only, and each instance is told its own stream's name."""
    def invoke(n: int) -> dict[str, str]:
        lam = lambda_client(deployed[0])
        answer = lam.invoke(FunctionName="logsapi-dev-talker",
                            Payload=json.dumps({"n": n, "hold": 1.0}).encode())
        told: dict[str, str] = json.loads(answer["Payload"].read())
        return told

    with ThreadPoolExecutor(2) as running:
        told = list(running.map(invoke, [200, 201]))
    names = [t["context"] for t in told]
    assert names[0] != names[1], "two requests at once, two instances"
    for t in told:
        assert t["environ"] == t["context"] and STREAM_NAME.fullmatch(t["context"])

    def listed() -> set[str]:
        return {s["logStreamName"] for s in logs.describe_log_streams(
            logGroupName=GROUP, logStreamNamePrefix=names[0][:11])["logStreams"]}

    def reported() -> int:  # the daemon commits logs every 0.1 s
        return len(logs.filter_log_events(logGroupName=GROUP, filterPattern=" ".join(
            f"?{t['request']}" for t in told))["events"])

    wait_until(lambda: reported() == 6, message="both requests' START, END and REPORT")
    assert set(names) <= listed()
    for n, t in zip([200, 201], told, strict=True):
        got = messages(logs.get_log_events(logGroupName=GROUP, logStreamName=t["context"],
                                           startFromHead=True)["events"])
        assert f"plain line {n}" in got and f"plain line {401 - n}" not in got
        assert any(m.startswith(f"REPORT RequestId: {t['request']}") for m in got)
        other = next(o for o in told if o is not t)
        assert not any(other["request"] in m for m in got)  # the other request's START etc.
        # each record the function printed names the stream it is in
        records = [json.loads(m) for m in got if m.startswith("{")]
        assert records and all(r["stream"] == t["context"] for r in records)
        filtered = logs.filter_log_events(logGroupName=GROUP, logStreamNames=[t["context"]],
                                          filterPattern="plain")["events"]
        assert {e["logStreamName"] for e in filtered} == {t["context"]}
        assert f"plain line {n}" in messages(filtered)
    everywhere = logs.filter_log_events(logGroupName=GROUP, filterPattern="plain")
    assert {e["logStreamName"] for e in everywhere["events"]} >= set(names)
    by_prefix = logs.filter_log_events(logGroupName=GROUP, filterPattern="plain",
                                       logStreamNamePrefix=names[0])["events"]
    assert {e["logStreamName"] for e in by_prefix} == {names[0]}
    assert everywhere["searchedLogStreams"] == []


def test_retention_is_the_stores_pruning(deployed: tuple[Cloud, Service, str, Path],
                                         logs: Any) -> None:
    logs.put_retention_policy(logGroupName=GROUP, retentionInDays=1)
    group = logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]
    assert group["retentionInDays"] == 1
    store = LogStore(deployed[0].home / "logs.db")
    assert store.retentions() == {"logsapi-dev-talker": 1}
    assert store.trim(now=time.time() + 2 * 86400) > 0  # a day past: its lines go (last test)
    logs.delete_retention_policy(logGroupName=GROUP)
    assert "retentionInDays" not in logs.describe_log_groups(
        logGroupNamePrefix=GROUP)["logGroups"][0]
    with pytest.raises(ClientError) as bad:
        logs.put_retention_policy(logGroupName=GROUP, retentionInDays=2)
    assert bad.value.response["Error"]["Code"] == "InvalidParameterException"
