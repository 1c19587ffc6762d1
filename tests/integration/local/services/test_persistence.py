"""The endpoint's data (Kinesis records too) survives the platform: a clean stop and a `kill -9`
of the daemon (the orphaned endpoint saves as it stops, and the next daemon reuses its port)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.local.cloud_helpers import Cloud, cloud_fixture, service, write_project
from tests.integration.local.cloud_helpers import endpoint_client as aws

CONFIG = """
    service: keep
    functions:
      noop:
        handler: jobs.noop
    resources:
      buckets:
        files: {}
      tables:
        items: {}
    stages:
      dev: {}
"""


cloud = cloud_fixture()


def test_data_survives_kill9_of_the_daemon(cloud: Cloud, tmp_path: Path) -> None:
    root = write_project(tmp_path / "keep", CONFIG,
                         {"jobs.py": "def noop(event, context):\n    return 'ok'\n"})
    cloud.provider.deploy(service(root))
    before = cloud.client.call("GET", "cloud")["aws_endpoint"]
    aws(cloud, "s3").put_object(Bucket="keep-dev-files", Key="a.txt", Body=b"kept")
    aws(cloud, "dynamodb").put_item(TableName="keep-dev-items", Item={"id": {"S": "1"}})

    cloud.kill9()
    cloud.start()
    after = cloud.client.call("GET", "cloud")["aws_endpoint"]
    assert after["url"] == before["url"] and after["pid"] != before["pid"]
    body = aws(cloud, "s3").get_object(Bucket="keep-dev-files", Key="a.txt")["Body"].read()
    assert body == b"kept"
    item = aws(cloud, "dynamodb").get_item(TableName="keep-dev-items", Key={"id": {"S": "1"}})
    assert "Item" in item
    # The snapshot on disk is encrypted: no plain object data in it.
    snapshot = Path(cloud.home) / "aws" / "snapshot.bin"
    assert snapshot.exists() and b"kept" not in snapshot.read_bytes()
    assert json.loads((Path(cloud.home) / "aws" / "endpoint.json").read_text())["pid"] == \
        after["pid"]


def test_kinesis_records_survive_a_restart(cloud: Cloud) -> None:
    kinesis = aws(cloud, "kinesis")
    kinesis.create_stream(StreamName="keep-events", ShardCount=1)
    for i in range(3):
        kinesis.put_record(StreamName="keep-events", Data=f"event {i}".encode(),
                           PartitionKey="p")

    cloud.stop()
    cloud.start()
    kinesis = aws(cloud, "kinesis")
    shard = kinesis.describe_stream(StreamName="keep-events")["StreamDescription"]["Shards"][0]
    iterator = kinesis.get_shard_iterator(StreamName="keep-events", ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator)["Records"]
    assert [r["Data"] for r in records] == [b"event 0", b"event 1", b"event 2"]
