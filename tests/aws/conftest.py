"""moto-backed fixtures: every test runs in its own mocked account with dummy credentials."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.package.manifest import ArtifactFile, Manifest
from aloft.plugins.builtin.keep_warm import with_keep_warm
from tests.moto_lambda import Invocations, answered_invokes

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


@pytest.fixture
def invocations() -> Invocations:
    return Invocations()


@pytest.fixture
def moto(invocations: Invocations, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with answered_invokes(invocations, monkeypatch), \
            mock_aws(config={"lambda": {"use_docker": False}}):
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
        self.static: tuple[str, str] | None = None  # Django's static files found at build

    def __call__(self, service: Service) -> Manifest:
        self.count += 1
        d = self.root / f"build{self.count}"
        d.mkdir()
        code = artifact(d / "code.zip", {"app.py": self.code, "aloft_settings.json": "{}"})
        layer = artifact(d / "layer.zip", {"python/deps.txt": self.deps}) if self.deps else None
        return Manifest(code=code, layer=layer, python_version=service.runtime,
                        platform="manylinux2014_x86_64", provider="aws", static=self.static)


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
