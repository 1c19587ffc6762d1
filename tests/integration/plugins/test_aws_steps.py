"""The aws provider (against moto) as lifecycle steps: hooks run around its upload, apply and
verify phases, an abort before apply changes nothing, and the keep-warm plugin's schedule
becomes the same EventBridge rule the provider created itself before."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.errors import PluginError
from aloft.plugins import Abort, Context, Lifecycle, hookimpl, load_service
from tests.moto_lambda import Invocations, answered_invokes

REGION = "eu-west-1"


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": "/nonexistent",
                       "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}.items():
        monkeypatch.setenv(key, value)
    with answered_invokes(Invocations(), monkeypatch), \
            mock_aws(config={"lambda": {"use_docker": False}}):
        yield


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ALOFT_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "aloft.yml").write_text(textwrap.dedent(f"""
        service: shop
        app: app:app
        runtime: "3.12"
        keep_warm: true
        stages:
          prod:
            provider: aws
            aws: {{region: {REGION}}}
    """))
    (tmp_path / "app.py").write_text("def app(environ, start_response):\n    return [b'']\n")
    return tmp_path


def provider() -> AwsProvider:
    return AwsProvider(client=lambda s: AwsClient(region=s.aws.region, poll_seconds=0.0))


class Steps:
    def __init__(self, abort_at: str = "") -> None:
        self.seen: list[str] = []
        self.abort_at = abort_at

    def _at(self, when: str, step: str) -> None:
        self.seen.append(f"{when} {step}")
        if f"{when} {step}" == self.abort_at:
            raise Abort("not today")

    @hookimpl
    def aloft_before_step(self, step: str, context: Context) -> None:
        self._at("before", step)

    @hookimpl
    def aloft_after_step(self, step: str, context: Context) -> None:
        self._at("after", step)


def lifecycle(root: Path, steps: Steps) -> Lifecycle:
    service, plugins = load_service(root, "prod")
    plugins.register("steps", steps)
    return Lifecycle.started("deploy", service, plugins, first="validate")


def test_hooks_run_around_the_providers_phases_and_keep_warm_is_a_rule(root: Path) -> None:
    steps = Steps()
    run = lifecycle(root, steps)
    result = provider().deploy(run.service, steps=run)
    assert steps.seen == [f"{when} deploy:{step}" for step in
                          ("validate", "upload", "apply", "verify")
                          for when in ("before", "after")]
    assert result.schedules == ["shop-prod-keep-warm"]
    events = boto3.client("events", region_name=REGION)
    rule = events.describe_rule(Name="shop-prod-keep-warm")
    assert rule["ScheduleExpression"] == "rate(4 minutes)" and rule["State"] == "ENABLED"
    assert rule["Description"] == "aloft keep_warm"
    target = events.list_targets_by_rule(Rule="shop-prod-keep-warm")["Targets"][0]
    assert json.loads(target["Input"]) == {"aloft": "keep_warm"}
    assert target["Arn"].endswith(":function:shop-prod-app:prod")


def test_an_abort_before_apply_creates_no_function(root: Path) -> None:
    run = lifecycle(root, Steps(abort_at="before deploy:apply"))
    with pytest.raises(PluginError, match="'steps' stopped before deploy:apply: not today"):
        provider().deploy(run.service, steps=run)
    assert boto3.client("lambda", region_name=REGION).list_functions()["Functions"] == []


def test_without_the_plugin_there_is_no_keep_warm_rule(root: Path) -> None:
    service: Service = load_service(root, "prod")[0]  # hooks not applied: the raw model
    result = provider().deploy(service)
    assert result.schedules == []
