"""The local AWS endpoint: declared resources created at deploy (and removed by undeploy),
exposed to functions through ALOFT_* variables and AWS_ENDPOINT_URL, their data kept across a
restart of the platform."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.integration.local.cloud_helpers import Cloud, cloud_fixture, service, write_project
from tests.integration.local.cloud_helpers import endpoint_client as aws

PROBE = """
    import json
    import os

    import boto3


    def handle(event, context):
        s3 = boto3.client("s3")
        bucket = os.environ["ALOFT_BUCKET_FILES"]
        s3.put_object(Bucket=bucket, Key="from-function.txt", Body=b"written by a function")
        table = boto3.resource("dynamodb").Table(os.environ["ALOFT_TABLE_ITEMS"])
        table.put_item(Item={"id": "f1", "note": "from a function"})
        sqs = boto3.client("sqs")
        sqs.send_message(QueueUrl=os.environ["ALOFT_QUEUE_JOBS_URL"], MessageBody="job")
        greeting = boto3.client("ssm").get_parameter(
            Name=os.environ["ALOFT_PARAMETER_GREETING"])["Parameter"]["Value"]
        return {"endpoint": os.environ["AWS_ENDPOINT_URL"], "greeting": greeting,
                "key": os.environ["AWS_ACCESS_KEY_ID"],
                "env": sorted(k for k in os.environ if k.startswith("ALOFT_") and "_" in k[6:])}
"""

CONFIG = """
    service: res
    functions:
      probe:
        handler: probe.handle
    resources:
      buckets:
        files: {}
      queues:
        jobs:
          dead_letter: true
          max_receives: 2
          visibility_timeout: 7
      topics:
        alerts: {}
      tables:
        items:
          stream: true
      parameters:
        greeting: hello
    stages:
      dev: {}
"""


cloud = cloud_fixture()


def test_resources_env_and_persistence(cloud: Cloud, tmp_path: Path) -> None:
    root = write_project(tmp_path / "res", CONFIG, {"probe.py": PROBE,
                                                    "requirements.txt": "boto3\n"})
    svc = service(root)
    result = cloud.provider.deploy(svc)
    actions = {(i.action, i.resource) for i in result.plan}
    assert ("resource_add", "bucket:res-dev-files") in actions
    assert ("resource_add", "queue:res-dev-jobs-dlq") in actions

    status = cloud.client.call("GET", "cloud")["aws_endpoint"]
    assert status["ready"] and status["url"].startswith("http://127.0.0.1:")

    sqs = aws(cloud, "sqs")
    url = sqs.get_queue_url(QueueName="res-dev-jobs")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "7"
    assert json.loads(attrs["RedrivePolicy"]) == {
        "deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:res-dev-jobs-dlq",
        "maxReceiveCount": 2}
    table = aws(cloud, "dynamodb").describe_table(TableName="res-dev-items")["Table"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert "LatestStreamArn" in table
    topics = [t["TopicArn"] for t in aws(cloud, "sns").list_topics()["Topics"]]
    assert "arn:aws:sns:us-east-1:000000000000:res-dev-alerts" in topics

    out = cloud.provider.invoke(svc, "probe", {})
    assert out.error is None, out.logs
    assert out.payload["endpoint"] == status["url"]
    assert out.payload["greeting"] == "hello"
    assert out.payload["key"].startswith("ALOFTFN")
    assert "ALOFT_QUEUE_JOBS_ARN" in out.payload["env"]
    assert "ALOFT_TOPIC_ALERTS_ARN" in out.payload["env"]
    body = aws(cloud, "s3").get_object(Bucket="res-dev-files", Key="from-function.txt")["Body"]
    assert body.read() == b"written by a function"

    # A second deploy with nothing changed creates nothing.
    again = cloud.provider.deploy(svc)
    assert not [i for i in again.plan if i.action.startswith("resource_")]

    # Restart the platform: the object, the item and the queued message are still there.
    cloud.stop()
    cloud.start()
    started = time.monotonic()
    s3 = aws(cloud, "s3")
    ready_s = time.monotonic() - started
    body = s3.get_object(Bucket="res-dev-files", Key="from-function.txt")["Body"]
    assert body.read() == b"written by a function"
    item = aws(cloud, "dynamodb").get_item(TableName="res-dev-items", Key={"id": {"S": "f1"}})
    assert item["Item"]["note"] == {"S": "from a function"}
    msgs = aws(cloud, "sqs").receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert msgs[0]["Body"] == "job"
    info = cloud.client.call("GET", "cloud")["aws_endpoint"]
    print(f"endpoint ready {ready_s:.2f} s after the daemon; start {info['start_ms']} ms, "
          f"restore {info['restore_ms']} ms")
    # The functions still reach it (same port after the restart).
    assert cloud.provider.invoke(svc, "probe", {}).error is None

    # Undeploy removes the resources.
    cloud.provider.undeploy(svc)
    names = [b["Name"] for b in aws(cloud, "s3").list_buckets()["Buckets"]]
    assert "res-dev-files" not in names
    with pytest.raises(Exception, match=r"NonExistentQueue|QueueDoesNotExist"):
        aws(cloud, "sqs").get_queue_url(QueueName="res-dev-jobs")


def test_the_endpoint_answers_only_its_own_host_names(cloud: Cloud) -> None:
    """DNS rebinding: a page whose name now resolves to 127.0.0.1 gets 421, not the buckets."""
    import http.client

    from aloft.local.services.supervisor import wait_for_endpoint

    port = int(wait_for_endpoint(cloud.client).rsplit(":", 1)[1])

    def status(host: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/", headers={"Host": host})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    assert status(f"rebound.example:{port}") == 421
    assert status(f"127.0.0.1:{port + 1}") == 421
    for own in (f"127.0.0.1:{port}", f"localhost:{port}", f"files.localhost:{port}"):
        assert status(own) != 421, own
