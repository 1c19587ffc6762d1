"""The control plane through a real daemon: the control API's token, Lambda's Invoke API driven by
boto3's lambda client, logs that follow, artifacts copied from their path. Routes, errors and
JSON shapes are tested in process: tests/unit/local/control."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from aloft.provider import LogLine
from tests.integration.local.cloud_helpers import (
    JOBS,
    USER,
    WSGI_APP,
    Cloud,
    get,
    read_lines,
    service,
    write_project,
)
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cloud, Path]]:
    cloud = Cloud(tmp_path_factory.mktemp("home"), env=USER)
    cloud.start()
    base = tmp_path_factory.mktemp("ctl")
    root = base / "app"  # the project; what its functions write goes beside it, to out/ (they
    out = base / "out"   # cannot see the project)
    out.mkdir()
    write_project(root, f"""
        service: ctl
        app: app:app
        functions:
          echo:
            handler: jobs.echo
          fail:
            handler: jobs.fail
            retries: 0
          record:
            handler: jobs.record
        environment:
          OUT_DIR: {out}
        stages:
          dev: {{}}
    """, {"app.py": WSGI_APP, "jobs.py": JOBS})
    cloud.provider.deploy(service(root))
    yield cloud, out
    cloud.stop()


def lambda_client(cloud: Cloud) -> Any:
    return boto3.client(
        "lambda", endpoint_url=cloud.url(""), region_name="us-east-1",
        aws_access_key_id=USER["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=USER["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"total_max_attempts": 1}),
    )


def test_control_api_requires_the_token(deployed: tuple[Cloud, Path]) -> None:
    """The wiring: the server hands /_aloft/api/ to the control API, which checks the token the
    daemon wrote (each route, its errors and its JSON: tests/unit/local/control)."""
    cloud, _ = deployed
    assert get(cloud.url("/_aloft/api/health"))[0] == 401
    token = (cloud.home / "token").read_text().strip()
    status, body = get(cloud.url("/_aloft/api/health"),
                       headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and json.loads(body)["ok"] is True


def test_boto3_drives_the_invoke_api(deployed: tuple[Cloud, Path]) -> None:
    """The wiring of Lambda's Invoke API with botocore reading its answers: a synchronous call
    (by name and by ARN with the stage alias), a function error with its log tail, a missing
    function, and events that the async queue runs (each case's shape:
    tests/unit/local/control/test_invoke_api.py)."""
    cloud, out = deployed
    client = lambda_client(cloud)
    resp = client.invoke(FunctionName="ctl-dev-echo", Payload=json.dumps({"a": 1}).encode())
    assert resp["StatusCode"] == 200
    assert resp["ExecutedVersion"] == "1"
    assert "FunctionError" not in resp
    payload = json.loads(resp["Payload"].read())
    assert payload["event"] == {"a": 1} and payload["function"] == "ctl-dev-echo"
    arn = "arn:aws:lambda:us-east-1:000000000000:function:ctl-dev-echo:dev"
    assert client.invoke(FunctionName=arn, Payload=b"{}")["StatusCode"] == 200

    resp = client.invoke(FunctionName="ctl-dev-fail", Payload=b"{}", LogType="Tail")
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    error = json.loads(resp["Payload"].read())
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "fails on purpose"
    assert "REPORT RequestId" in base64.b64decode(resp["LogResult"]).decode()

    with pytest.raises(ClientError) as missing:
        client.invoke(FunctionName="ctl-dev-nope", Payload=b"{}")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    for i in range(5):
        resp = client.invoke(FunctionName="ctl-dev-record", InvocationType="Event",
                             Payload=json.dumps({"n": i}).encode())
        assert resp["StatusCode"] == 202
    wait_until(lambda: len(read_lines(out / "record.log")) == 5,
               message=lambda: f"five events in record.log: {read_lines(out / 'record.log')}")
    assert sorted(json.loads(line)["n"] for line in read_lines(out / "record.log")) == [
        0, 1, 2, 3, 4]


def test_logs_query_filter_and_follow(deployed: tuple[Cloud, Path], tmp_path: Path) -> None:
    import threading

    from aloft.config import load_project

    cloud, out = deployed
    svc = load_project(out.parent / "app").service("dev")
    cloud.provider.invoke(svc, "echo", {"marker": "first-call"})
    lines = list(cloud.provider.logs(svc, function="echo", filter_text="report requestid"))
    assert lines and all(line.function == "echo" for line in lines)
    assert all("REPORT RequestId" in line.text for line in lines)
    everything = list(cloud.provider.logs(svc))
    assert {line.function for line in everything} >= {"echo", "fail"}
    # following: a line printed after the follow started arrives without polling delay
    import time

    started = time.time()
    follow = cloud.provider.logs(svc, function="fail", since=started, follow=True)
    seen: list[LogLine] = []
    got_it = threading.Event()

    def reader() -> None:
        for line in follow:
            seen.append(line)
            if "fails on purpose" in line.text:
                got_it.set()
                return

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    cloud.provider.invoke(svc, "fail", {})
    assert got_it.wait(15), seen
    # only the new invocation's lines: none of the earlier ones (the test before made some)
    assert all(line.timestamp >= started for line in seen), seen


def test_large_artifacts_are_copied_from_their_path(
    deployed: tuple[Cloud, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    from aloft.errors import ProviderError
    from aloft.local.control import client as client_module

    cloud, _ = deployed
    monkeypatch.setattr(client_module, "INLINE_UPLOAD_LIMIT", 10)
    artifact = tmp_path / "big.zip"
    artifact.write_bytes(b"pretend this is a large zip" * 100)
    sha = hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert not cloud.client.has_artifact(sha)
    cloud.client.put_artifact(sha, artifact)
    assert cloud.client.has_artifact(sha)
    stored = cloud.home / "artifacts" / f"{sha}.zip"
    assert stored.read_bytes() == artifact.read_bytes()
    with pytest.raises(ProviderError, match="does not match"):
        cloud.client.put_artifact("1" * 64, artifact)
