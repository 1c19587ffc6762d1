"""The control API's token, and Lambda's Invoke API driven by boto3's lambda client."""

from __future__ import annotations

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
    cloud = Cloud(tmp_path_factory.mktemp("home"))
    cloud.start()
    root = tmp_path_factory.mktemp("project")
    out = root / "out"
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
        aws_access_key_id="dummy", aws_secret_access_key="dummy",
        config=Config(retries={"max_attempts": 1}),
    )


def test_control_api_requires_the_token(deployed: tuple[Cloud, Path]) -> None:
    cloud, _ = deployed
    assert get(cloud.url("/_aloft/api/health"))[0] == 401
    assert get(cloud.url("/_aloft/api/status?service=ctl&stage=dev"),
               headers={"Authorization": "Bearer wrong"})[0] == 401
    token = (cloud.home / "token").read_text().strip()
    assert (cloud.home / "token").stat().st_mode & 0o777 == 0o600
    status, body = get(cloud.url("/_aloft/api/health"),
                       headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and json.loads(body)["ok"] is True
    # an artifact upload without the token is refused too
    status, _ = get(cloud.url("/_aloft/api/artifacts/" + "0" * 64), method="PUT", body=b"x")
    assert status == 401


def test_artifact_upload_is_verified(deployed: tuple[Cloud, Path]) -> None:
    cloud, _ = deployed
    token = (cloud.home / "token").read_text().strip()
    auth = {"Authorization": f"Bearer {token}"}
    status, body = get(cloud.url("/_aloft/api/artifacts/" + "0" * 64), method="PUT",
                       body=b"not those bytes", headers=auth)
    assert status == 409 and b"does not match" in body
    assert get(cloud.url("/_aloft/api/artifacts/" + "0" * 64), method="HEAD",
               headers=auth)[0] == 404


def test_boto3_invoke_request_response(deployed: tuple[Cloud, Path]) -> None:
    cloud, _ = deployed
    client = lambda_client(cloud)
    resp = client.invoke(FunctionName="ctl-dev-echo", Payload=json.dumps({"a": 1}).encode())
    assert resp["StatusCode"] == 200
    assert resp["ExecutedVersion"] == "1"
    assert "FunctionError" not in resp
    payload = json.loads(resp["Payload"].read())
    assert payload["event"] == {"a": 1} and payload["function"] == "ctl-dev-echo"
    # the stage alias and an explicit version as Qualifier, and an ARN as the name
    for kwargs in ({"Qualifier": "dev"}, {"Qualifier": "1"}):
        assert client.invoke(FunctionName="ctl-dev-echo", Payload=b"{}", **kwargs)[
            "StatusCode"] == 200
    arn = "arn:aws:lambda:us-east-1:123456789012:function:ctl-dev-echo:dev"
    assert client.invoke(FunctionName=arn, Payload=b"{}")["StatusCode"] == 200


def test_boto3_invoke_function_error_and_logs(deployed: tuple[Cloud, Path]) -> None:
    cloud, _ = deployed
    resp = lambda_client(cloud).invoke(FunctionName="ctl-dev-fail", Payload=b"{}",
                                       LogType="Tail")
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    error = json.loads(resp["Payload"].read())
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "fails on purpose"
    import base64

    assert "REPORT RequestId" in base64.b64decode(resp["LogResult"]).decode()


def test_boto3_unknown_function_and_qualifier(deployed: tuple[Cloud, Path]) -> None:
    cloud, _ = deployed
    client = lambda_client(cloud)
    with pytest.raises(ClientError) as missing:
        client.invoke(FunctionName="ctl-dev-nope", Payload=b"{}")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as wrong_alias:
        client.invoke(FunctionName="ctl-dev-echo", Qualifier="prod", Payload=b"{}")
    assert wrong_alias.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_boto3_invoke_event_and_dry_run(deployed: tuple[Cloud, Path]) -> None:
    cloud, out = deployed
    client = lambda_client(cloud)
    dry = client.invoke(FunctionName="ctl-dev-record", InvocationType="DryRun", Payload=b"{}")
    assert dry["StatusCode"] == 204
    for i in range(5):
        resp = client.invoke(FunctionName="ctl-dev-record", InvocationType="Event",
                             Payload=json.dumps({"n": i}).encode())
        assert resp["StatusCode"] == 202
    wait_until(lambda: len(read_lines(out / "record.log")) == 5,
               message=lambda: f"five events in record.log: {read_lines(out / 'record.log')}")
    assert sorted(json.loads(line)["n"] for line in read_lines(out / "record.log")) == [
        0, 1, 2, 3, 4]


def test_signed_requests_are_accepted(deployed: tuple[Cloud, Path]) -> None:
    """boto3 signs with SigV4 (it always does); a request without any signature works too."""
    cloud, _ = deployed
    status, body = get(cloud.url("/2015-03-31/functions/ctl-dev-echo/invocations"),
                       method="POST", body=b'{"plain": true}')
    assert status == 200 and json.loads(body)["event"] == {"plain": True}
    status, _ = get(cloud.url("/2015-03-31/functions/ctl-dev-echo/invocations"),
                    method="POST", body=b"{not json")
    assert status == 400


def test_logs_query_filter_and_follow(deployed: tuple[Cloud, Path], tmp_path: Path) -> None:
    import threading

    from aloft.config import load_project

    cloud, out = deployed
    svc = load_project(out.parent).service("dev")
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
