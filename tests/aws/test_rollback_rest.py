"""`rollback` on AWS (moto) puts the older release's REST API routes back: the API's resources
and methods are rebuilt as the release had them (with the `aloft-api` permission of a function
that gets a route back) and the stage is deployed again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from tests.aws.conftest import REGION, Builds, boto
from tests.aws.test_rollback import alias, alias_sids, put_state_object, state_object, writes

REST = {"region": REGION, "api": "rest"}
V1: dict[str, Any] = {
    "app": "app:app", "aws": REST,
    "functions": {"a": {"handler": "h.a", "events": [{"http": "GET /a"}]}},
}
# b (a new function) gets GET /b, a loses its route
V2: dict[str, Any] = {
    "app": "app:app", "aws": REST,
    "functions": {"a": {"handler": "h.a"},
                  "b": {"handler": "h.b", "events": [{"http": "GET /b"}]}},
}


def routes() -> dict[str, str]:
    """Each method of the stage's REST API ("GET /a") with the alias its integration calls."""
    gw = boto("apigateway")
    [api] = gw.get_rest_apis()["items"]
    out = {}
    for res in gw.get_resources(restApiId=api["id"])["items"]:
        for method in res.get("resourceMethods") or {}:
            uri = gw.get_integration(restApiId=api["id"], resourceId=res["id"],
                                     httpMethod=method)["uri"]
            out[f"{method} {res['path']}"] = \
                uri.split("/functions/")[-1].removesuffix("/invocations")
    return out


def app_routes() -> dict[str, str]:
    return {"ANY /": alias("app"), "ANY /{proxy+}": alias("app")}


def deployments() -> int:
    [api] = boto("apigateway").get_rest_apis()["items"]
    return len(boto("apigateway").get_deployments(restApiId=api["id"])["items"])


@pytest.fixture
def deployed(provider: AwsProvider, make_service: Callable[..., Service],
             builds: Builds) -> Service:
    provider.deploy(make_service(**V1))
    builds.code = "v2"
    v2 = make_service(**V2)
    provider.deploy(v2)
    assert routes() == {**app_routes(), "GET /b": alias("b")}
    return v2


def test_rollback_puts_the_older_rest_routes_back(
    provider: AwsProvider, deployed: Service, clients: list[AwsClient]
) -> None:
    assert "aloft-api" not in alias_sids("a")
    before = deployments()
    back = provider.rollback(deployed, 1)
    assert back.version == 3 and back.functions == {"app": 1, "a": 1}
    assert not [s for s in back.plan if s.action == "Note"]
    assert routes() == {**app_routes(), "GET /a": alias("a")}
    assert deployments() == before + 1  # the stage serves the rebuilt routes
    assert "aloft-api" in alias_sids("a") and "aloft-api" not in alias_sids("b")
    ops = [s.action for s in back.plan]
    # the permission comes before the routes that need it, the removal after them
    assert ops.index("AddPermission") < ops.index("PutRestRoutes") \
        < ops.index("RemovePermission")
    client = clients[-1]
    rest = writes(client, "apigateway")
    assert rest["apigateway.CreateDeployment"] == 1
    assert rest["apigateway.PutMethod"] == rest["apigateway.PutIntegration"] == 3
    assert not writes(client, "apigatewayv2")
    assert writes(client, "lambda") == {"lambda.UpdateAlias": 2, "lambda.AddPermission": 1,
                                        "lambda.RemovePermission": 1}
    state = state_object()
    assert state["releases"][0]["routes"] is not None
    assert state["releases"][-1]["routes"] == state["releases"][0]["routes"]

    forward = provider.rollback(deployed, 1)  # repeats release 2
    assert forward.version == 4 and forward.functions == {"app": 2, "a": 2, "b": 1}
    assert routes() == {**app_routes(), "GET /b": alias("b")}
    assert "aloft-api" in alias_sids("b") and "aloft-api" not in alias_sids("a")

    # the config deployed again: nothing to do for the API
    again = provider.deploy(deployed)
    assert not [s for s in again.plan if s.action in ("PutRestRoutes", "AddPermission")]


def test_a_rollback_without_a_route_change_makes_no_rest_calls(
    provider: AwsProvider, make_service: Callable[..., Service], builds: Builds,
    clients: list[AwsClient]
) -> None:
    provider.deploy(make_service(**V1))
    builds.code = "v2"
    provider.deploy(make_service(**V1))
    back = provider.rollback(make_service(**V1), 1)
    assert back.version == 3 and not [s for s in back.plan if s.action == "Note"]
    assert writes(clients[-1], "apigateway") == {}
    assert writes(clients[-1], "lambda") == {"lambda.UpdateAlias": 2}
    assert routes() == {**app_routes(), "GET /a": alias("a")}


def test_rollback_to_a_rest_release_without_recorded_routes(
    provider: AwsProvider, deployed: Service, clients: list[AwsClient]
) -> None:
    data = state_object()
    for release in data["releases"]:  # what an older aloft wrote for a REST API
        release["routes"] = None
    put_state_object(data)
    back = provider.rollback(deployed, 1)
    assert back.version == 3 and back.functions["a"] == 1
    [note] = [s for s in back.plan if s.action == "Note"]
    assert "release 1 has no recorded routes" in note.note
    assert "REST API's routes were left as they are" in note.note
    assert routes() == {**app_routes(), "GET /b": alias("b")}
    assert writes(clients[-1], "apigateway") == {}


def test_a_rest_route_of_a_removed_function_is_noted(
    provider: AwsProvider, make_service: Callable[..., Service], builds: Builds
) -> None:
    provider.deploy(make_service(**V1))
    builds.code = "v2"
    v2 = make_service(app="app:app", aws=REST)  # function a is gone
    provider.deploy(v2)
    assert routes() == app_routes()
    back = provider.rollback(v2, 1)
    [note] = [s for s in back.plan if s.action == "Note"]
    assert "route GET /a of release 1 was not put back: function a" in note.note
    assert not [s for s in back.plan if s.action == "PutRestRoutes"]
    assert routes() == app_routes()


def test_the_routes_of_an_http_release_stay_off_a_rest_api(
    provider: AwsProvider, make_service: Callable[..., Service], builds: Builds,
    clients: list[AwsClient]
) -> None:
    provider.deploy(make_service(**{**V1, "aws": {"region": REGION}}))  # an HTTP API
    builds.code = "v2"
    provider.deploy(make_service(**V2))
    back = provider.rollback(make_service(**V2), 1)
    assert back.functions["a"] == 1
    [note] = [s for s in back.plan if s.action == "Note"]
    assert "has a REST API now, not an HTTP API" in note.note
    assert routes() == {**app_routes(), "GET /b": alias("b")}
    assert writes(clients[-1], "apigateway") == {}
