"""`snap_start: true` on AWS (moto): the function's SnapStart applies to published versions, the
deploy waits for the new version before its health check, the setting is read back (a redeploy
is no change, turning it off is one), and what Lambda refuses is said before anything is
deployed. moto takes SnapStart and forgets it: `remembered` teaches it to keep the setting, as
Lambda does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.awslambda import models as lambda_models

from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.errors import ConfigError, DeployError
from tests.aws.conftest import REGION, boto

ROUTES = {"h": {"handler": "h.h", "events": [{"http": "GET /h"}]}}


@pytest.fixture
def remembered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    fn = lambda_models.LambdaFunction
    create, update, read = fn.__init__, fn.update_configuration, fn.get_configuration

    def init(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kw: Any) -> None:
        create(self, account_id, spec, *args, **kw)
        self.aloft_snap_start = (spec.get("SnapStart") or {}).get("ApplyOn", "None")

    def configure(self: Any, updates: dict[str, Any]) -> dict[str, Any]:
        if "SnapStart" in updates:
            self.aloft_snap_start = updates["SnapStart"].get("ApplyOn", "None")
        return update(self, updates)  # type: ignore[no-any-return]

    def configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        config = read(self, on_create)
        apply_on = getattr(self, "aloft_snap_start", "None")
        config["SnapStart"] = {"ApplyOn": apply_on,
                               "OptimizationStatus": "On" if apply_on != "None" else "Off"}
        return config  # type: ignore[no-any-return]

    monkeypatch.setattr(fn, "__init__", init)
    monkeypatch.setattr(fn, "update_configuration", configure)
    monkeypatch.setattr(fn, "get_configuration", configuration)
    yield


def _apply_on(qualifier: str = "prod") -> str:
    conf = boto("lambda").get_function_configuration(FunctionName="shop-prod-h",
                                                     Qualifier=qualifier)
    return str(conf["SnapStart"]["ApplyOn"])


def test_snap_start_on_published_versions_read_back_and_turned_off(
        remembered: None, provider: AwsProvider, clients: list[AwsClient],
        make_service: Callable[..., Service]) -> None:
    on = make_service(functions=ROUTES, snap_start=True)
    provider.deploy(on)
    assert _apply_on() == "PublishedVersions"
    # the deploy waited for the published version (Pending while its snapshot is taken)
    calls = clients[-1].calls
    assert calls["lambda.PublishVersion"] == 1
    # one wait after CreateFunction (as without SnapStart), one for the published version
    assert calls["lambda.GetFunctionConfiguration"] == calls["lambda.CreateFunction"] + 1
    assert provider.deploy(make_service(functions=ROUTES, snap_start=True)).plan == []

    off = make_service(functions=ROUTES)
    [update] = [p for p in provider.deploy(off, plan_only=True).plan
                if p.action == "UpdateFunctionConfiguration"]
    assert "snap start True → False" in str(update.details)
    provider.deploy(off)
    assert _apply_on() == "None"


def test_a_function_of_its_own(remembered: None, provider: AwsProvider,
                               make_service: Callable[..., Service]) -> None:
    routes = {"h": {**ROUTES["h"], "snap_start": True},
              "g": {"handler": "h.g", "events": [{"http": "GET /g"}]}}
    provider.deploy(make_service(functions=routes))
    assert _apply_on() == "PublishedVersions"
    conf = boto("lambda").get_function_configuration(FunctionName="shop-prod-g")
    assert conf["SnapStart"]["ApplyOn"] == "None"


@pytest.mark.parametrize(("fields", "words", "key"), [
    ({"runtime": "3.11"}, "SnapStart needs Python 3.12 or later on Lambda", "snap_start"),
    ({"ephemeral_storage": 1024}, "SnapStart takes at most 512 MB of /tmp", "snap_start"),
])
def test_what_lambda_refuses_is_said_before_deploying(
        provider: AwsProvider, clients: list[AwsClient], make_service: Callable[..., Service],
        fields: dict[str, Any], words: str, key: str) -> None:
    with pytest.raises(ConfigError) as refused:
        provider.deploy(make_service(functions=ROUTES, snap_start=True, **fields))
    assert words in refused.value.message
    assert refused.value.where is not None and refused.value.where.key_path == \
        f"functions.h.{key}"
    assert refused.value.fix
    assert not boto("lambda").list_functions()["Functions"]  # nothing deployed


def test_a_snapshot_that_fails_stops_the_deploy(monkeypatch: pytest.MonkeyPatch) -> None:
    client = AwsClient(region=REGION, poll_seconds=0.0)
    states = iter([{"State": "Pending"},
                   {"State": "Failed", "StateReason": "Init error (before snapshot hook)"}])
    asked: list[dict[str, Any]] = []

    def call(service: str, op: str, **params: Any) -> dict[str, Any]:
        asked.append(params)
        return next(states)

    monkeypatch.setattr(client, "call", call)
    with pytest.raises(DeployError) as failed:
        client.wait_function_ready("shop-prod-h", qualifier="7")
    assert "version 7 of shop-prod-h failed to become ready: Init error" in failed.value.message
    assert failed.value.fix is not None and "before_snapshot" in failed.value.fix
    assert asked == [{"FunctionName": "shop-prod-h", "Qualifier": "7"}] * 2
