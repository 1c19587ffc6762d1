"""moto-backed fixtures: every test runs in its own mocked account with dummy credentials."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.awslambda.responses import LambdaResponse
from moto.awslambda_simple.models import LambdaSimpleBackend

from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.package.manifest import ArtifactFile, Manifest
from aloft.plugins.builtin.keep_warm import with_keep_warm

REGION = "eu-west-1"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


Answer = Callable[[dict[str, Any], str | None], tuple[Any, ...]]
"""A stand-in function: (event, qualifier) -> (its result, whether it raised[, its log])."""


class Invocations:
    """What moto's Lambda answers an invoke (it runs no code without Docker): by default what
    a healthy aloft function answers, the keep-warm ping `{"warm": true}` and an HTTP event a
    200; a test sets `answers[physical name]` to make a function answer otherwise. Every
    invocation is recorded (function, qualifier, event)."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.seen: list[tuple[str, str | None, dict[str, Any]]] = []

    def answer(self, function: str, qualifier: str | None, body: Any,
               response_headers: dict[str, str]) -> bytes:
        name = function.split(":")[-1] if function.startswith("arn:") else function
        event = json.loads(body) if body else {}
        self.seen.append((name, qualifier, event))
        answer = self.answers.get(name, healthy)
        result, errored, *log = answer(event, qualifier)
        if errored:
            response_headers["x-amz-function-error"] = "Unhandled"
        logs = log[0] if log else "hello from the function\n"
        response_headers["x-amz-log-result"] = base64.b64encode(
            f"START RequestId: x\n{logs}END RequestId: x\n".encode()[-4096:]).decode()
        return json.dumps(result).encode()


def healthy(event: dict[str, Any], qualifier: str | None) -> tuple[Any, ...]:
    if event == {"aloft": "keep_warm"}:
        return {"warm": True}, False
    if "requestContext" in event:
        return {"statusCode": 200, "headers": {"content-type": "text/plain"},
                "body": "ok"}, False
    return event, False


@pytest.fixture
def invocations() -> Invocations:
    return Invocations()


@pytest.fixture
def moto(invocations: Invocations, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    asked: list[str | None] = [None]
    respond = LambdaResponse.invoke

    def invoke_request(self: Any) -> Any:
        # moto reads a `qualifier` parameter; the SDKs send `Qualifier`
        asked[0] = (self.querystring.get("Qualifier") or [None])[0]
        return respond(self)

    def invoke(self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
               response_headers: dict[str, str]) -> bytes:
        qualifier = qualifier or asked[0]
        self.get_function(function_name, qualifier)  # ResourceNotFound as Lambda says it
        return invocations.answer(function_name, qualifier, body, response_headers)

    monkeypatch.setattr(LambdaResponse, "invoke", invoke_request)
    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield


def artifact(path: Path, files: dict[str, str]) -> ArtifactFile:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in sorted(files.items()):
            zf.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), text)
    data = path.read_bytes()
    return ArtifactFile(path, len(data), hashlib.sha256(data).hexdigest())


class Builds:
    """Builds artifacts whose code changes when `code` changes (a fake pip is not needed:
    the provider only uploads and references the zips)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.code = "def handler(event, context):\n    return {'ok': True}\n"
        self.deps = "flask==3"
        self.count = 0

    def __call__(self, service: Service) -> Manifest:
        self.count += 1
        d = self.root / f"build{self.count}"
        d.mkdir()
        code = artifact(d / "code.zip", {"app.py": self.code, "aloft_settings.json": "{}"})
        layer = artifact(d / "layer.zip", {"python/deps.txt": self.deps}) if self.deps else None
        return Manifest(code=code, layer=layer, python_version=service.runtime,
                        platform="manylinux2014_x86_64", provider="aws")


@pytest.fixture
def builds(tmp_path: Path) -> Builds:
    return Builds(tmp_path)


@pytest.fixture
def clients() -> list[AwsClient]:
    return []


@pytest.fixture
def provider(moto: None, builds: Builds, clients: list[AwsClient]) -> AwsProvider:
    def client(service: Service) -> AwsClient:
        c = AwsClient(region=service.aws.region, poll_seconds=0.0)
        clients.append(c)
        return c

    return AwsProvider(client=client, builder=builds)


@pytest.fixture
def make_service(tmp_path: Path) -> Callable[..., Service]:
    def make(**fields: Any) -> Service:
        data: dict[str, Any] = {"service": "shop", "stage": "prod", "root": tmp_path,
                                "provider": "aws", "aws": {"region": REGION},
                                "runtime": "3.12"}
        data.update(fields)
        return with_keep_warm(Service.model_validate(data))  # the built-in keep-warm plugin

    return make


def boto(service: str) -> Any:
    return boto3.client(service, region_name=REGION)
