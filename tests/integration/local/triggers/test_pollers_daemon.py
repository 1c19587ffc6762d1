"""Event sources on a real daemon with its AWS endpoint: `deploy` binds a queue, a bucket, a
topic and a table stream to functions; messages, uploads, publishes and inserts reach them;
`status` reports the bindings; a restart resumes from the stream's checkpoint; undeploy
removes the bindings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aloft.config.models import Service
from tests.integration.local.cloud_helpers import Cloud, endpoint_client, service, write_project
from tests.waiting import wait_until

HANDLERS = """
    import json
    import os

    OUT = os.environ["OUT_DIR"]

    def _log(name, data):
        with open(os.path.join(OUT, name + ".log"), "a") as fh:
            fh.write(json.dumps(data) + "\\n")

    def worker(record, context):
        _log("worker", record["body"])
        if record["body"].startswith("fail"):
            raise ValueError("cannot do " + record["body"])

    def upload(event, context):
        _log("upload", [r["s3"]["object"]["key"] for r in event["Records"]])

    def change(event, context):
        _log("change", [r["dynamodb"]["Keys"]["id"]["S"] for r in event["Records"]])

    def alert(event, context):
        _log("alert", [r["Sns"]["Message"] for r in event["Records"]])
"""

CONFIG = """
    service: evs
    environment:
      OUT_DIR: {out}
    functions:
      worker:
        handler: handlers.worker
        records: each
        events:
          - queue: {{name: jobs, window: 1}}
      uploads:
        handler: handlers.upload
        events:
          - bucket: {{name: files, prefix: in/}}
      changes:
        handler: handlers.change
        events:
          - stream: {{table: items, starting_position: TRIM_HORIZON}}
      alerts:
        handler: handlers.alert
        events:
          - topic: {{name: alerts, filter_policy: {{level: [high]}}}}
    resources:
      queues:
        jobs: {{visibility_timeout: 3, max_receives: 2, dead_letter: true}}
      buckets:
        files: {{}}
      tables:
        items: {{stream: true}}
      topics:
        alerts: {{}}
    stages:
      dev: {{}}
"""


def read(out: Path, name: str) -> list[Any]:
    path = out / f"{name}.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cloud, Service, Path]]:
    cloud = Cloud(tmp_path_factory.mktemp("home"))
    cloud.start()
    root = tmp_path_factory.mktemp("project")
    out = tmp_path_factory.mktemp("out")  # not in the project, which functions cannot see
    write_project(root, CONFIG.format(out=out), {"handlers.py": HANDLERS})
    svc = service(root)
    cloud.provider.deploy(svc)
    yield cloud, svc, out
    if cloud.client.running() is not None:
        cloud.stop()


def polling(cloud: Cloud, svc: Service) -> list[dict[str, Any]]:
    def ready() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = cloud.provider.status(svc).report["event_sources"]
        return rows if len(rows) == 4 and all(r["state"] == "polling" for r in rows) else None
    found: list[dict[str, Any]] = wait_until(
        ready, timeout=30, interval=0.1,
        message=lambda: "four polling sources: "
        f"{cloud.provider.status(svc).report['event_sources']}")
    return found


def test_deployed_sources_deliver_and_report(deployed: tuple[Cloud, Service, Path]) -> None:
    cloud, svc, out = deployed
    rows = polling(cloud, svc)
    assert {(r["kind"], r["source"], r["function"]) for r in rows} == {
        ("queue", "evs-dev-jobs", "evs-dev-worker"),
        ("bucket", "evs-dev-files", "evs-dev-uploads"),
        ("stream", "evs-dev-items", "evs-dev-changes"),
        ("topic", "evs-dev-alerts", "evs-dev-alerts"),
    }
    sqs = endpoint_client(cloud, "sqs")
    url = sqs.get_queue_url(QueueName="evs-dev-jobs")["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName="evs-dev-jobs-dlq")["QueueUrl"]
    for body in ("ok-1", "fail-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    s3 = endpoint_client(cloud, "s3")
    s3.put_object(Bucket="evs-dev-files", Key="in/report.csv", Body=b"x")
    s3.put_object(Bucket="evs-dev-files", Key="other/skip.csv", Body=b"x")
    dynamodb = endpoint_client(cloud, "dynamodb")
    dynamodb.put_item(TableName="evs-dev-items", Item={"id": {"S": "i1"}})
    sns = endpoint_client(cloud, "sns")
    topic = "arn:aws:sns:us-east-1:000000000000:evs-dev-alerts"
    for level in ("low", "high"):
        sns.publish(TopicArn=topic, Message=f"{level} alert", MessageAttributes={
            "level": {"DataType": "String", "StringValue": level}})

    def dead() -> list[str]:
        got = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1)
        return [m["Body"] for m in got.get("Messages", [])]

    # retried once, then redriven by maxReceiveCount 2
    assert wait_until(dead, timeout=30) == ["fail-2"]
    assert sorted(read(out, "worker")) == ["fail-2", "fail-2", "ok-1"]
    assert wait_until(lambda: read(out, "upload"), timeout=30) == [["in/report.csv"]]
    assert wait_until(lambda: read(out, "change"), timeout=30) == [["i1"]]
    assert wait_until(lambda: read(out, "alert"), timeout=30) == [["high alert"]]
    rows = {r["kind"]: r for r in cloud.provider.status(svc).report["event_sources"]}
    assert rows["queue"]["succeeded"] == 1 and rows["queue"]["failed"] == 2
    assert rows["stream"]["succeeded"] == 1 and rows["queue"]["last_poll"]
    assert read(out, "upload") == [["in/report.csv"]]  # exactly once

    # A restart resumes the stream after its checkpoint: i1 is not delivered again.
    cloud.stop()
    cloud.start()
    polling(cloud, svc)
    dynamodb = endpoint_client(cloud, "dynamodb")
    dynamodb.put_item(TableName="evs-dev-items", Item={"id": {"S": "i2"}})
    # A shard is delivered in order: an i1 delivered again would come before (or with) i2.
    wait_until(lambda: any("i2" in ids for ids in read(out, "change")), timeout=30,
               message=lambda: f"i2 in change.log: {read(out, 'change')}")
    assert read(out, "change") == [["i1"], ["i2"]]

    # Undeploy tears the bindings down: the relays' internal queues go.
    sqs = endpoint_client(cloud, "sqs")
    relays = sqs.list_queues(QueueNamePrefix="aloft-").get("QueueUrls", [])
    assert len(relays) == 2  # the topic's and the bucket's
    cloud.provider.undeploy(svc)
    wait_until(lambda: not sqs.list_queues(QueueNamePrefix="aloft-").get("QueueUrls"),
               timeout=30, message="the relays' internal queues to go")
