"""`rollback` on AWS (moto) puts the older release's HTTP API routes back: the routes it had
come back (integration + alias permission), the newer ones go with their integrations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.errors import DeployError, ProviderError
from tests.aws.conftest import REGION, Builds, boto
from tests.aws.test_rollback import alias, alias_sids, put_state_object, state_object, writes

V1: dict[str, Any] = {
    "app": "app:app",
    "functions": {"a": {"handler": "h.a", "events": [{"http": "GET /a"}]}},
}
# b (a new function) gets GET /b, a loses its route
V2: dict[str, Any] = {
    "app": "app:app",
    "functions": {"a": {"handler": "h.a"},
                  "b": {"handler": "h.b", "events": [{"http": "GET /b"}]}},
}


def routes() -> dict[str, str]:
    """Each route of the stage's HTTP API with the URI of its integration; and no integration
    left that no route uses."""
    gw = boto("apigatewayv2")
    [api] = gw.get_apis()["Items"]
    integrations = {i["IntegrationId"]: i["IntegrationUri"]
                    for i in gw.get_integrations(ApiId=api["ApiId"])["Items"]}
    out = {r["RouteKey"]: integrations[r["Target"].removeprefix("integrations/")]
           for r in gw.get_routes(ApiId=api["ApiId"])["Items"]}
    assert sorted(set(out.values())) == sorted(integrations.values())
    return out


@pytest.fixture
def deployed(provider: AwsProvider, make_service: Callable[..., Service],
             builds: Builds) -> Service:
    provider.deploy(make_service(**V1))
    builds.code = "v2"
    v2 = make_service(**V2)
    provider.deploy(v2)
    assert routes() == {"$default": alias("app"), "GET /b": alias("b")}
    return v2


def test_rollback_puts_the_older_routes_back(
    provider: AwsProvider, deployed: Service, clients: list[AwsClient]
) -> None:
    assert "aloft-api" not in alias_sids("a")
    back = provider.rollback(deployed, 1)
    assert back.version == 3 and back.functions == {"app": 1, "a": 1}
    assert not [s for s in back.plan if s.action == "Note"]
    assert routes() == {"$default": alias("app"), "GET /a": alias("a")}
    assert "aloft-api" in alias_sids("a") and "aloft-api" not in alias_sids("b")
    ops = [s.action for s in back.plan]
    # the route comes back before anything is deleted
    assert ops.index("UpdateHttpApi") < ops.index("RemovePermission")
    client = clients[-1]
    assert writes(client, "apigatewayv2") == {
        "apigatewayv2.CreateIntegration": 1, "apigatewayv2.CreateRoute": 1,
        "apigatewayv2.DeleteRoute": 1, "apigatewayv2.DeleteIntegration": 1}
    assert writes(client, "lambda") == {"lambda.UpdateAlias": 2, "lambda.AddPermission": 1,
                                        "lambda.RemovePermission": 1}
    state = state_object()
    assert state["releases"][-1]["routes"] == state["releases"][0]["routes"]

    forward = provider.rollback(deployed, 1)  # repeats release 2
    assert forward.version == 4 and forward.functions == {"app": 2, "a": 2, "b": 1}
    assert routes() == {"$default": alias("app"), "GET /b": alias("b")}
    assert "aloft-api" in alias_sids("b") and "aloft-api" not in alias_sids("a")

    # the config deployed again: nothing to do for the API
    again = provider.deploy(deployed)
    assert not [s for s in again.plan if s.action in ("UpdateHttpApi", "AddPermission")]


def test_a_route_is_re_pointed(
    provider: AwsProvider, make_service: Callable[..., Service], builds: Builds,
    clients: list[AwsClient]
) -> None:
    provider.deploy(make_service(**V1))
    moved = {"app": "app:app", "functions": {
        "a": {"handler": "h.a"}, "b": {"handler": "h.b", "events": [{"http": "GET /a"}]}}}
    builds.code = "v2"
    provider.deploy(make_service(**moved))
    assert routes()["GET /a"] == alias("b")
    back = provider.rollback(make_service(**moved), 1)
    assert routes() == {"$default": alias("app"), "GET /a": alias("a")}
    assert "aloft-api" in alias_sids("a") and "aloft-api" not in alias_sids("b")
    assert not [s for s in back.plan if s.action == "Note"]
    assert writes(clients[-1], "apigatewayv2") == {
        "apigatewayv2.CreateIntegration": 1, "apigatewayv2.CreateRoute": 1,
        "apigatewayv2.DeleteRoute": 1, "apigatewayv2.DeleteIntegration": 1}


def test_a_failure_before_the_deletions_leaves_the_routes_as_they_were(
    builds: Builds, deployed: Service
) -> None:
    class FailDelete(AwsClient):
        failed = False

        def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
            if operation == "delete_route" and not self.failed:  # the undo's own succeeds
                self.failed = True
                raise ProviderError("injected failure")
            return super().call(service, operation, **params)

    failing = AwsProvider(client=lambda s: FailDelete(region=REGION, poll_seconds=0),
                          builder=builds)
    with pytest.raises(DeployError, match="rollback failed at `UpdateHttpApi"):
        failing.rollback(deployed, 1)
    # GET /a was added, then removed by the undo with its integration and permission
    assert routes() == {"$default": alias("app"), "GET /b": alias("b")}
    assert "aloft-api" not in alias_sids("a") and "aloft-api" in alias_sids("b")
    assert boto("lambda").get_alias(FunctionName="shop-prod-b", Name="prod")["FunctionVersion"] \
        == "1"
    assert [r["number"] for r in state_object()["releases"]] == [1, 2]


def test_rollback_to_a_release_without_recorded_routes(
    provider: AwsProvider, deployed: Service, clients: list[AwsClient]
) -> None:
    data = state_object()
    for release in data["releases"]:  # what an older aloft wrote
        del release["routes"]
    put_state_object(data)
    back = provider.rollback(deployed, 1)
    assert back.version == 3 and back.functions["a"] == 1
    [note] = [s for s in back.plan if s.action == "Note"]
    assert "routes were left as they are" in note.note
    assert routes() == {"$default": alias("app"), "GET /b": alias("b")}
    assert writes(clients[-1], "apigatewayv2") == {}


def test_a_rollback_without_a_route_change_makes_no_route_calls(
    provider: AwsProvider, make_service: Callable[..., Service], builds: Builds,
    clients: list[AwsClient]
) -> None:
    provider.deploy(make_service(**V1))
    builds.code = "v2"
    provider.deploy(make_service(**V1))
    back = provider.rollback(make_service(**V1), 1)
    assert back.version == 3 and not [s for s in back.plan if s.action == "Note"]
    assert writes(clients[-1], "apigatewayv2") == {}
    assert writes(clients[-1], "lambda") == {"lambda.UpdateAlias": 2}
    assert routes() == {"$default": alias("app"), "GET /a": alias("a")}


def test_a_route_of_a_removed_function_is_noted(
    provider: AwsProvider, make_service: Callable[..., Service], builds: Builds
) -> None:
    provider.deploy(make_service(**V1))
    builds.code = "v2"
    v2 = make_service(app="app:app")  # function a is gone
    provider.deploy(v2)
    back = provider.rollback(v2, 1)
    [note] = [s for s in back.plan if s.action == "Note"]
    assert "route GET /a of release 1 was not put back: function a" in note.note
    assert routes() == {"$default": alias("app")}
