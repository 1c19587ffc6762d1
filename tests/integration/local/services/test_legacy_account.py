"""A home made when the local cloud lived in moto's default account (123456789012) keeps working
once the local cloud has its own (000000000000): its endpoint data, its versions' queue URLs and
grants, and its event source bindings move over at the next start."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aloft.local.services.snapshot import SnapshotFile
from aloft.local.types import ACCOUNT_ID, LEGACY_ACCOUNT_ID
from tests.integration.local.cloud_helpers import USER, Cloud, lambda_client, service, write_project
from tests.waiting import wait_until

HANDLERS = """
    import json
    import os

    import boto3

    def send(event, context):
        sqs = boto3.client("sqs")
        sqs.send_message(QueueUrl=os.environ["ALOFT_QUEUE_JOBS_URL"], MessageBody=event["body"])
        return os.environ["ALOFT_QUEUE_JOBS_URL"]

    def work(record, context):
        with open(os.path.join(os.environ["OUT_DIR"], "got.txt"), "a") as fh:
            fh.write(record["body"] + "\\n")
"""

CONFIG = """
    service: old
    environment:
      OUT_DIR: {out}
    functions:
      sender:
        handler: handlers.send
      worker:
        handler: handlers.work
        records: each
        events:
          - queue: jobs
    resources:
      queues:
        jobs: {{}}
    stages:
      dev: {{}}
"""


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    c = Cloud(tmp_path / "home", USER)
    c.start()
    yield c
    if c.client.running() is not None:
        c.stop()


def as_legacy(home: Path) -> None:
    """Rewrite a stopped home as an older aloft left it."""
    old, new = LEGACY_ACCOUNT_ID.encode(), ACCOUNT_ID.encode()
    snapshot = SnapshotFile(home / "aws")
    data = snapshot.load()
    assert data is not None and new in data
    snapshot.save(data.replace(new, old))  # same length: the pickle stays valid
    with sqlite3.connect(home / "state.db") as db:
        for table in ("versions", "deployments"):
            db.execute(f"UPDATE {table} SET spec = replace(replace(spec, ?, ?), ?, ?)",
                       (f":{ACCOUNT_ID}:", f":{LEGACY_ACCOUNT_ID}:", f"/{ACCOUNT_ID}/",
                        f"/{LEGACY_ACCOUNT_ID}/"))
        db.execute("PRAGMA user_version = 0")


def test_a_legacy_home_keeps_working(cloud: Cloud, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    root = write_project(tmp_path / "project", CONFIG.format(out=out),
                         {"handlers.py": HANDLERS})
    cloud.provider.deploy(service(root))

    def lam() -> Any:
        return lambda_client(cloud)

    def send(body: str) -> str:
        resp = lam().invoke(FunctionName="old-dev-sender",
                            Payload=json.dumps({"body": body}).encode())
        assert "FunctionError" not in resp, resp["Payload"].read()
        return str(json.loads(resp["Payload"].read()))

    def got() -> list[str]:
        path = out / "got.txt"
        return path.read_text().splitlines() if path.exists() else []

    assert f"/{ACCOUNT_ID}/" in send("before")
    wait_until(lambda: got() == ["before"], message=lambda: f"the first message: {got()}")
    cloud.stop()
    as_legacy(cloud.home)

    cloud.start()
    assert f"/{ACCOUNT_ID}/" in send("after")  # the version's queue URL moved with its grants
    wait_until(lambda: got() == ["before", "after"],
               message=lambda: f"the message sent after the move: {got()}")
    with sqlite3.connect(cloud.home / "state.db") as db:
        specs = [row[0] for row in db.execute("SELECT spec FROM versions")]
    assert not any(f"/{LEGACY_ACCOUNT_ID}/" in spec for spec in specs)
