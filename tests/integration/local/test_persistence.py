"""The endpoint's data survives the platform: a clean stop and a `kill -9` of the daemon (the
orphaned endpoint saves as it stops, and the next daemon reuses its port)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from aloft.local.endpoint import client_kwargs, wait_for_endpoint
from tests.integration.local.cloud_helpers import Cloud, service, write_project

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


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    c = Cloud(tmp_path_factory.mktemp("home"))
    c.start()
    yield c
    if c.client.running() is not None:
        c.stop()


def aws(cloud: Cloud, name: str) -> Any:
    return boto3.client(name, **client_kwargs(wait_for_endpoint(cloud.client)))


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
