"""Grants enforced by the local AWS endpoint on real boto3 calls from functions: `secrets` for
SSM parameters and Secrets Manager, `permissions` statements, AccessDenied otherwise; the
secrets themselves set, listed and deleted through `LocalProvider.secrets`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3

from aloft.local.services.supervisor import client_kwargs, wait_for_endpoint
from tests.integration.local.cloud_helpers import Cloud, cloud_fixture, service, write_project

READ = """
    import boto3
    from botocore.exceptions import ClientError


    def handle(event, context):
        try:
            if event["kind"] == "ssm":
                return boto3.client("ssm").get_parameter(
                    Name=event["name"], WithDecryption=True)["Parameter"]["Value"]
            return boto3.client("secretsmanager").get_secret_value(
                SecretId=event["name"])["SecretString"]
        except ClientError as exc:
            return {"code": exc.response["Error"]["Code"]}
"""

CONFIG = """
    service: sec
    functions:
      granted:
        handler: read.handle
        secrets: [API_TOKEN]
      shared:
        handler: read.handle
        permissions:
          - Action: ssm:GetParameter
            Resource: arn:aws:ssm:*:*:parameter/shared/*
          - Effect: Deny
            Action: ssm:*
            Resource: arn:aws:ssm:*:*:parameter/shared/private
      bare:
        handler: read.handle
    stages:
      dev: {}
"""


cloud = cloud_fixture()


def aws(cloud: Cloud, name: str) -> Any:
    return boto3.client(name, **client_kwargs(wait_for_endpoint(cloud.client), cloud.home / "aws"))


def test_grants(cloud: Cloud, tmp_path: Path) -> None:
    root = write_project(tmp_path / "sec", CONFIG, {"read.py": READ,
                                                    "requirements.txt": "boto3\n"})
    svc = service(root)
    cloud.provider.deploy(svc)
    ssm, kms = aws(cloud, "ssm"), aws(cloud, "kms")
    secrets = cloud.provider.secrets(svc)  # what `aloft secret` uses on a local stage
    assert secrets.set("API_TOKEN", "tok-1") == "/sec/dev/API_TOKEN"
    assert secrets.names() == ["API_TOKEN"]
    assert kms.describe_key(KeyId="alias/aloft/sec-dev")["KeyMetadata"]["Enabled"]
    param = ssm.get_parameter(Name="/sec/dev/API_TOKEN", WithDecryption=True)["Parameter"]
    assert (param["Type"], param["Value"]) == ("SecureString", "tok-1")
    ssm.put_parameter(Name="/shared/config", Value="cfg", Type="String")
    ssm.put_parameter(Name="/shared/private", Value="no", Type="SecureString")
    aws(cloud, "secretsmanager").create_secret(Name="sec/dev/API_TOKEN", SecretString="sm-1")

    def call(function: str, kind: str, name: str) -> Any:
        out = cloud.provider.invoke(svc, function, {"kind": kind, "name": name})
        assert out.error is None, out.logs
        return out.payload

    denied = {"code": "AccessDeniedException"}
    assert call("granted", "ssm", "/sec/dev/API_TOKEN") == "tok-1"
    assert call("granted", "secretsmanager", "sec/dev/API_TOKEN") == "sm-1"
    assert call("granted", "ssm", "/shared/config") == denied
    assert call("bare", "ssm", "/sec/dev/API_TOKEN") == denied
    assert call("bare", "secretsmanager", "sec/dev/API_TOKEN") == denied
    assert call("shared", "ssm", "/shared/config") == "cfg"
    assert call("shared", "ssm", "/shared/private") == denied
    assert call("shared", "ssm", "/sec/dev/API_TOKEN") == denied
    # Granting it is a redeploy away (a new deployment's grants, same version: no new code).
    config = (root / "aloft.yml").read_text()
    grant = "  bare:\n    handler: read.handle\n"
    assert grant in config
    (root / "aloft.yml").write_text(config.replace(grant, grant + "    secrets: [API_TOKEN]\n"))
    svc = service(root)
    again = cloud.provider.deploy(svc)
    plan = [step.fields for step in again.plan]
    assert {"action": "grants", "name": "dev", "functions": ["sec-dev-bare"]} in plan, plan
    assert call("bare", "ssm", "/sec/dev/API_TOKEN") == "tok-1"
    # The value is in no log.
    logs = "".join(line.text for line in cloud.provider.logs(svc, since=0))
    assert "tok-1" not in logs
    daemon_log = (Path(cloud.home) / "daemon.log").read_text()
    assert "tok-1" not in daemon_log
    # Deleting it: once; a second delete says there was none.
    assert secrets.delete("API_TOKEN") is True
    assert secrets.delete("API_TOKEN") is False
    assert secrets.names() == []


STEAL = """
    import os

    import boto3
    from botocore.exceptions import ClientError


    def handle(event, context):
        out = {"key": os.environ["AWS_ACCESS_KEY_ID"],
               "secret_key": os.environ["AWS_SECRET_ACCESS_KEY"], "stolen": []}
        for key, secret in event.get("as", []):
            ssm = boto3.client("ssm", aws_access_key_id=key, aws_secret_access_key=secret)
            try:
                value = ssm.get_parameter(Name=event["name"], WithDecryption=True)
                out["stolen"].append(value["Parameter"]["Value"])
            except ClientError as exc:
                out["stolen"].append(exc.response["Error"]["Code"])
        return out
"""


def test_no_secret_at_rest_and_none_to_steal(tmp_path: Path) -> None:
    """After a deploy with a secret and calls that use it, no file of the home holds the
    secret's value or a function's secret access key; a function without the grant gets
    neither with its own key, a made-up one, nor the platform's key id."""
    bare = "      bare:\n        handler: read.handle\n"
    assert bare in CONFIG
    config = CONFIG.replace("service: sec", "service: rest").replace(
        bare, bare.replace("read.handle", "steal.handle"))
    root = write_project(tmp_path / "rest", config, {"read.py": READ, "steal.py": STEAL,
                                                     "requirements.txt": "boto3\n"})
    svc = service(root)
    cloud = Cloud(tmp_path / "home")
    cloud.start()
    try:
        cloud.provider.deploy(svc)
        value = "tok-at-rest-" + os.urandom(8).hex()
        cloud.provider.secrets(svc).set("API_TOKEN", value)
        granted = cloud.provider.invoke(svc, "granted", {"kind": "ssm",
                                                         "name": "/rest/dev/API_TOKEN"})
        assert granted.payload == value, granted.logs
        attempts = [["AKIAMADEUP0000000001", "made-up"], ["aloft-admin", "aloft-admin"],
                    ["aloft-local", "aloft-local"]]
        stealer = cloud.provider.invoke(svc, "bare", {"name": "/rest/dev/API_TOKEN",
                                                      "as": attempts})
        assert stealer.error is None, stealer.logs
        assert value not in stealer.payload["stolen"]
        assert stealer.payload["stolen"] == [
            "UnrecognizedClientException", "InvalidSignatureException",
            "UnrecognizedClientException"]
        own = cloud.provider.invoke(svc, "bare", {"name": "/rest/dev/API_TOKEN",
                                                  "as": [[stealer.payload["key"],
                                                          stealer.payload["secret_key"]]]})
        assert own.payload["stolen"] == ["AccessDeniedException"]
    finally:
        cloud.stop()  # the endpoint saves its snapshot, the databases are closed
    needles = {value.encode(): "the secret's value",
               stealer.payload["secret_key"].encode(): "a function's secret access key"}
    for path in (tmp_path / "home").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle, what in needles.items():
                assert needle not in data, f"{path} holds {what}"
