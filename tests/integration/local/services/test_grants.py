"""A deployed function's calls to the local AWS endpoint are checked against its grants for
every service: what the stage declares and its `permissions` allow, anything else fails with
AWS's AccessDenied error; a queue-triggered function may read its queue, and the platform's
own pollers deliver from it whatever the function's grants."""

from __future__ import annotations

from pathlib import Path

from tests.integration.local.cloud_helpers import (
    Cloud,
    cloud_fixture,
    service,
    write_project,
)
from tests.integration.local.cloud_helpers import endpoint_client as aws
from tests.waiting import wait_until

CODE = """
    import os

    import boto3
    from botocore.exceptions import ClientError


    def attempt(call):
        try:
            call()
        except ClientError as exc:
            return exc.response["Error"]["Code"]
        return "ok"


    def probe(event, context):
        s3, sqs, sns = boto3.client("s3"), boto3.client("sqs"), boto3.client("sns")
        ddb, kinesis = boto3.client("dynamodb"), boto3.client("kinesis")
        bucket, table = os.environ["ALOFT_BUCKET_FILES"], os.environ["ALOFT_TABLE_ITEMS"]
        queue, topic = os.environ["ALOFT_QUEUE_JOBS_URL"], os.environ["ALOFT_TOPIC_ALERTS_ARN"]
        out = event["outside"]
        return {
            "s3 put own": attempt(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x")),
            "s3 get own": attempt(lambda: s3.get_object(Bucket=bucket, Key="k")),
            "s3 list own": attempt(lambda: s3.list_objects_v2(Bucket=bucket)),
            "s3 get outside": attempt(lambda: s3.get_object(Bucket=out["bucket"], Key="a")),
            "s3 put outside": attempt(
                lambda: s3.put_object(Bucket=out["bucket"], Key="b", Body=b"x")),
            "s3 get granted": attempt(
                lambda: s3.get_object(Bucket=out["bucket"], Key="public/a")),
            "s3 get denied": attempt(
                lambda: s3.get_object(Bucket=out["bucket"], Key="public/private/a")),
            "sqs send own": attempt(lambda: sqs.send_message(QueueUrl=queue, MessageBody="m")),
            "sqs receive own": attempt(lambda: sqs.receive_message(QueueUrl=queue)),
            "sqs send outside": attempt(
                lambda: sqs.send_message(QueueUrl=out["queue"], MessageBody="m")),
            "sns publish own": attempt(lambda: sns.publish(TopicArn=topic, Message="m")),
            "sns publish outside": attempt(
                lambda: sns.publish(TopicArn=out["topic"], Message="m")),
            "dynamodb put own": attempt(
                lambda: ddb.put_item(TableName=table, Item={"id": {"S": "1"}})),
            "dynamodb delete table own": attempt(lambda: ddb.delete_table(TableName=table)),
            "dynamodb put outside": attempt(
                lambda: ddb.put_item(TableName=out["table"], Item={"id": {"S": "1"}})),
            "kinesis put granted": attempt(
                lambda: kinesis.put_record(StreamName=out["stream"], Data=b"x",
                                           PartitionKey="p")),
            "kinesis put outside": attempt(
                lambda: kinesis.put_record(StreamName=out["other_stream"], Data=b"x",
                                           PartitionKey="p")),
        }


    def consume(event, context):
        sqs = boto3.client("sqs")
        if "Records" not in event:  # invoked directly: may it use the queue it is fed by?
            return {"receive": attempt(lambda: sqs.receive_message(QueueUrl=event["feed"])),
                    "send": attempt(
                        lambda: sqs.send_message(QueueUrl=event["feed"], MessageBody="m"))}
        for record in event["Records"]:
            boto3.client("s3").put_object(Bucket=os.environ["ALOFT_BUCKET_FILES"],
                                          Key="consumed/" + record["body"], Body=b"")
"""

CONFIG = """
    service: grants
    functions:
      probe:
        handler: probe.probe
        permissions:
          - action: s3:GetObject
            resource: arn:aws:s3:::grants-outside/public/*
          - effect: Deny
            action: "s3:*"
            resource: arn:aws:s3:::grants-outside/public/private/*
          - action: [kinesis:PutRecord]
            resource: arn:aws:kinesis:us-east-1:000000000000:stream/grants-events
      consumer:
        handler: probe.consume
        events:
          - queue: {name: grants-feed, batch_size: 1}
    resources:
      buckets: {files: {}}
      queues: {jobs: {}}
      topics: {alerts: {}}
      tables: {items: {}}
    stages:
      dev: {}
"""

cloud = cloud_fixture()


def test_every_service_enforces_the_functions_grants(cloud: Cloud, tmp_path: Path) -> None:
    # Resources the stage does not declare, made with the platform's key.
    s3, sqs, sns = aws(cloud, "s3"), aws(cloud, "sqs"), aws(cloud, "sns")
    s3.create_bucket(Bucket="grants-outside")
    for key in ("a", "public/a", "public/private/a"):
        s3.put_object(Bucket="grants-outside", Key=key, Body=b"outside")
    outside_queue = sqs.create_queue(QueueName="grants-outside")["QueueUrl"]
    feed = sqs.create_queue(QueueName="grants-feed")["QueueUrl"]
    outside_topic = sns.create_topic(Name="grants-outside")["TopicArn"]
    aws(cloud, "dynamodb").create_table(
        TableName="grants-outside", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    for stream in ("grants-events", "grants-other"):
        aws(cloud, "kinesis").create_stream(StreamName=stream, ShardCount=1)

    root = write_project(tmp_path / "grants", CONFIG, {"probe.py": CODE,
                                                       "requirements.txt": "boto3\n"})
    svc = service(root)
    cloud.provider.deploy(svc)

    out = cloud.provider.invoke(svc, "probe", {"outside": {
        "bucket": "grants-outside", "queue": outside_queue, "topic": outside_topic,
        "table": "grants-outside", "stream": "grants-events", "other_stream": "grants-other"}})
    assert out.error is None, out.logs
    assert out.payload == {
        "s3 put own": "ok", "s3 get own": "ok", "s3 list own": "ok",
        "s3 get outside": "AccessDenied", "s3 put outside": "AccessDenied",
        "s3 get granted": "ok", "s3 get denied": "AccessDenied",
        "sqs send own": "ok", "sqs receive own": "ok", "sqs send outside": "AccessDenied",
        "sns publish own": "ok", "sns publish outside": "AuthorizationError",
        "dynamodb put own": "ok", "dynamodb delete table own": "AccessDeniedException",
        "dynamodb put outside": "AccessDeniedException",
        "kinesis put granted": "ok", "kinesis put outside": "AccessDeniedException",
    }
    # Denied calls changed nothing.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="grants-outside")["Contents"]]
    assert "b" not in keys
    assert "Table" in aws(cloud, "dynamodb").describe_table(TableName="grants-dev-items")

    # The consumer may read the queue that feeds it, not write to it ...
    direct = cloud.provider.invoke(svc, "consumer", {"feed": feed})
    assert direct.error is None, direct.logs
    assert direct.payload == {"receive": "ok", "send": "AccessDenied"}
    # ... and the platform's poller delivers from it whatever the function's grants.
    sqs.send_message(QueueUrl=feed, MessageBody="job-1")

    def consumed() -> bool:
        listed = s3.list_objects_v2(Bucket="grants-dev-files", Prefix="consumed/")
        return [o["Key"] for o in listed.get("Contents", [])] == ["consumed/job-1"]

    wait_until(consumed, timeout=30, message="the poller's delivery of job-1")
