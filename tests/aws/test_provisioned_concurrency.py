"""`provisioned_concurrency: N` on AWS (moto): set on the stage alias once it points at the new
version, read back (a redeploy is no change, and a new version keeps it: it follows the
alias), changed and removed. moto has no provisioned-concurrency API: `taught` gives it
Lambda's three operations, keeping the setting per function and qualifier."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import botocore.exceptions
import pytest
from moto.awslambda import responses, urls
from moto.core.exceptions import JsonRESTError

from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from tests.aws.conftest import boto

ROUTES = {"h": {"handler": "h.h", "events": [{"http": "GET /h"}]}}
PATH = (r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)"
        r"/provisioned-concurrency/?$")


@pytest.fixture
def taught(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[tuple[str, str], int]]:
    configs: dict[tuple[str, str], int] = {}

    def target(self: Any) -> tuple[str, str]:
        name = self.path.split("/functions/")[1].split("/")[0]
        qualifier = self.querystring.get("Qualifier", [""])[0]
        self.backend.get_function(name, qualifier)  # ResourceNotFound, as Lambda answers
        if qualifier in ("", "$LATEST"):
            raise JsonRESTError("InvalidParameterValueException",
                                "Provisioned Concurrency Configs cannot be applied to $LATEST")
        return name, qualifier

    def not_found() -> JsonRESTError:
        error = JsonRESTError("ProvisionedConcurrencyConfigNotFoundException",
                              "No Provisioned Concurrency Config found for this function")
        error.code = 404
        return error

    def put(self: Any) -> tuple[int, dict[str, str], str]:
        n = int(json.loads(self.body)["ProvisionedConcurrentExecutions"])
        configs[target(self)] = n
        return 202, {}, json.dumps({"RequestedProvisionedConcurrentExecutions": n,
                                    "Status": "IN_PROGRESS"})

    def get(self: Any) -> tuple[int, dict[str, str], str]:
        n = configs.get(target(self))
        if n is None:
            raise not_found()
        return 200, {}, json.dumps({"RequestedProvisionedConcurrentExecutions": n,
                                    "AvailableProvisionedConcurrentExecutions": n,
                                    "AllocatedProvisionedConcurrentExecutions": n,
                                    "Status": "READY"})

    def delete(self: Any) -> tuple[int, dict[str, str], str]:
        if configs.pop(target(self), None) is None:
            raise not_found()
        return 204, {}, ""

    monkeypatch.setitem(urls.url_paths, PATH, responses.LambdaResponse.dispatch)
    for name, method in (("put", put), ("get", get), ("delete", delete)):
        monkeypatch.setattr(responses.LambdaResponse, f"{name}_provisioned_concurrency_config",
                            method, raising=False)
    yield configs


def _with(n: int | None, **more: Any) -> dict[str, Any]:
    return {"h": {**ROUTES["h"], **more,
                  **({"provisioned_concurrency": n} if n is not None else {})}}


def test_provisioned_concurrency_on_the_stage_alias(
        taught: dict[tuple[str, str], int], provider: AwsProvider, clients: list[AwsClient],
        make_service: Callable[..., Service]) -> None:
    deployed = provider.deploy(make_service(functions=_with(2)))
    assert taught == {("shop-prod-h", "prod"): 2}
    assert not any("provisioned" in w for w in deployed.warnings)
    assert provider.deploy(make_service(functions=_with(2))).plan == []  # read back

    # a new version: the alias moves, the setting follows it (nothing to put again)
    bigger = provider.deploy(make_service(functions=_with(2, memory=1024)), plan_only=True)
    assert "PutProvisionedConcurrency" not in [p.action for p in bigger.plan]
    provider.deploy(make_service(functions=_with(2, memory=1024)))
    conf = boto("lambda").get_provisioned_concurrency_config(FunctionName="shop-prod-h",
                                                             Qualifier="prod")
    assert conf["RequestedProvisionedConcurrentExecutions"] == 2

    more = provider.deploy(make_service(functions=_with(3, memory=1024)), plan_only=True)
    assert [p.action for p in more.plan] == ["PutProvisionedConcurrency", "WriteState"]
    provider.deploy(make_service(functions=_with(3, memory=1024)))
    assert taught == {("shop-prod-h", "prod"): 3}

    provider.deploy(make_service(functions=_with(None, memory=1024)))  # removed
    assert taught == {}
    with pytest.raises(botocore.exceptions.ClientError, match="NotFound"):
        boto("lambda").get_provisioned_concurrency_config(FunctionName="shop-prod-h",
                                                          Qualifier="prod")
    assert provider.deploy(make_service(functions=_with(None, memory=1024))).plan == []


def test_set_after_the_alias_points_at_the_new_version(
        taught: dict[tuple[str, str], int], provider: AwsProvider,
        make_service: Callable[..., Service]) -> None:
    """Put last (after the health check and the alias's move), so that a failed deploy
    leaves it as it was, and Lambda allocates it once, for the version that serves."""
    provider.deploy(make_service(functions=ROUTES))
    plan = provider.deploy(make_service(functions=_with(2, memory=1024)), plan_only=True).plan
    actions = [p.action for p in plan]
    assert actions[-3:-1] == ["UpdateAlias", "PutProvisionedConcurrency"], actions
