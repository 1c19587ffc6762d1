"""Authorizers and API keys on AWS (moto): an HTTP API's JWT and Lambda (request) authorizers
with each route's authorizer and scopes, a REST API's token and request authorizers, private
routes, API keys in a usage plan (throttle, quota), the permission that lets API Gateway invoke
an authorizer function; read back (a second deploy changes nothing), updated, removed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.errors import DeployError, ProviderError
from tests.aws.conftest import REGION, Builds, boto

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC"
HTTP: dict[str, Any] = {
    "app": "app:app",
    "authorizers": {
        "users": {"issuer": ISSUER, "audience": ["client1"]},
        "custom": {"type": "request", "function": "auth", "ttl": 60, "simple_responses": True,
                   "identity_source": ["$request.header.X-Token"]},
    },
    "authorizer": "users",
    "functions": {
        "auth": {"handler": "auth.handle"},
        "notes": {"handler": "notes.handle", "events": [
            {"http": {"method": "post", "path": "/notes",
                      "authorizer": {"name": "users", "scopes": ["notes:write"]}}},
            {"http": {"method": "get", "path": "/notes", "authorizer": "custom"}},
            {"http": "GET /open"}]},
    },
}
REST: dict[str, Any] = {
    "aws": {"region": REGION, "api": "rest"},
    "authorizers": {
        "bearer": {"type": "token", "function": "auth", "validation": "^Bearer .+$"},
        "req": {"type": "request", "function": "auth", "ttl": 0,
                "identity_source": ["$request.querystring.key"]},
    },
    "api_keys": ["partner", {"name": "mobile", "value": "m" * 24, "description": "app"}],
    "usage_plan": {"quota": {"limit": 5000, "period": "month"},
                   "throttle": {"rate_limit": 10, "burst_limit": 20}},
    "functions": {
        "auth": {"handler": "auth.handle"},
        "reports": {"handler": "reports.handle", "events": [
            {"http": {"method": "get", "path": "/reports", "private": True}},
            {"http": {"method": "get", "path": "/me", "authorizer": "bearer"}},
            {"http": {"method": "post", "path": "/me", "authorizer": "req", "private": True}}]},
    },
}


def _http_routes() -> tuple[str, dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(API id, route key -> route, authorizer id -> authorizer)."""
    gw = boto("apigatewayv2")
    [api] = gw.get_apis()["Items"]
    routes = {r["RouteKey"]: r for r in gw.get_routes(ApiId=api["ApiId"])["Items"]}
    auths = {i: gw.get_authorizer(ApiId=api["ApiId"], AuthorizerId=i)
             for i in {r.get("AuthorizerId") for r in routes.values()} if i}
    return api["ApiId"], routes, auths


def _policy_sids(function: str) -> dict[str, Any]:
    doc = boto("lambda").get_policy(FunctionName=function, Qualifier="prod")["Policy"]
    return {st["Sid"]: st for st in json.loads(doc)["Statement"]}


def test_http_api_jwt_and_lambda_authorizers(
        provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    provider.deploy(make_service(**HTTP))
    api_id, routes, auths = _http_routes()
    by_name = {a["Name"]: a for a in auths.values()}
    users, custom = by_name["users"], by_name["custom"]
    assert users["AuthorizerType"] == "JWT"
    assert users["JwtConfiguration"] == {"Issuer": ISSUER, "Audience": ["client1"]}
    assert users["IdentitySource"] == ["$request.header.Authorization"]
    assert custom["AuthorizerType"] == "REQUEST"
    assert custom["AuthorizerUri"].endswith(
        ":function:shop-prod-auth:prod/invocations")
    assert (custom["AuthorizerPayloadFormatVersion"], custom["EnableSimpleResponses"],
            custom["AuthorizerResultTtlInSeconds"]) == ("2.0", True, 60)
    assert custom["IdentitySource"] == ["$request.header.X-Token"]
    post, get = routes["POST /notes"], routes["GET /notes"]
    assert (post["AuthorizationType"], post["AuthorizerId"], post["AuthorizationScopes"]) == (
        "JWT", users["AuthorizerId"], ["notes:write"])
    assert (get["AuthorizationType"], get["AuthorizerId"]) == ("CUSTOM", custom["AuthorizerId"])
    assert routes["$default"]["AuthorizerId"] == users["AuthorizerId"]  # the app's routes
    assert routes["GET /open"].get("AuthorizationType", "NONE") == "NONE"
    # API Gateway may invoke the authorizer function, from this API's authorizers only
    perm = _policy_sids("shop-prod-auth")["aloft-authorizer"]
    assert perm["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert json.dumps(perm["Condition"]).endswith(f':{api_id}/authorizers/*"}}}}')
    assert provider.deploy(make_service(**HTTP)).plan == []  # read back as deployed

    changed = {**HTTP, "authorizers": {**HTTP["authorizers"], "users": {
        "issuer": ISSUER, "audience": ["client1", "client2"]}}}
    plan = provider.deploy(make_service(**changed), plan_only=True).plan
    [update] = [p for p in plan if p.resource == api_id or "Api" in p.action]
    assert update.action == "UpdateHttpApi"
    assert update.details["changes"] == "authorizers ~users (audience client1 → client1, client2)"
    provider.deploy(make_service(**changed))
    _, _, auths = _http_routes()
    users = next(a for a in auths.values() if a["Name"] == "users")
    assert users["JwtConfiguration"]["Audience"] == ["client1", "client2"]
    assert provider.deploy(make_service(**changed)).plan == []

    # no route names `custom` any more: its authorizer and its permission go
    fewer = json.loads(json.dumps(changed))
    fewer["functions"]["notes"]["events"][1] = {"http": "GET /notes"}
    provider.deploy(make_service(**fewer))
    _, routes, auths = _http_routes()
    assert {a["Name"] for a in auths.values()} == {"users"}
    assert routes["GET /notes"].get("AuthorizationType", "NONE") == "NONE"
    assert "aloft-authorizer" not in _policy_sids("shop-prod-auth") \
        if _has_policy("shop-prod-auth") else True
    assert provider.deploy(make_service(**fewer)).plan == []


def _has_policy(function: str) -> bool:
    lam = boto("lambda")
    try:
        lam.get_policy(FunctionName=function, Qualifier="prod")
    except lam.exceptions.ResourceNotFoundException:
        return False
    return True


def _rest() -> tuple[str, dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(API id, "GET /reports" -> method, authorizer id -> authorizer)."""
    gw = boto("apigateway")
    [api] = gw.get_rest_apis()["items"]
    methods = {}
    for res in gw.get_resources(restApiId=api["id"])["items"]:
        for m in res.get("resourceMethods") or {}:
            methods[f"{m} {res['path']}"] = gw.get_method(restApiId=api["id"],
                                                          resourceId=res["id"], httpMethod=m)
    auths = {a["id"]: a for a in gw.get_authorizers(restApiId=api["id"])["items"]}
    return api["id"], methods, auths


def _plan_and_keys() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    gw = boto("apigateway")
    [plan] = gw.get_usage_plans()["items"]
    linked = {k["id"] for k in gw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]}
    keys = {k["name"]: k for k in gw.get_api_keys(includeValues=True)["items"]
            if k["id"] in linked}
    return plan, keys


def test_rest_api_lambda_authorizers_private_routes_and_a_usage_plan(
        provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    provider.deploy(make_service(**REST))
    api_id, methods, auths = _rest()
    by_name = {a["name"]: a for a in auths.values()}
    bearer, req = by_name["bearer"], by_name["req"]
    assert (bearer["type"], bearer["identitySource"], bearer["identityValidationExpression"],
            bearer["authorizerResultTtlInSeconds"]) == (
        "TOKEN", "method.request.header.Authorization", "^Bearer .+$", 300)
    assert (req["type"], req["identitySource"], req["authorizerResultTtlInSeconds"]) == (
        "REQUEST", "method.request.querystring.key", 0)
    assert bearer["authorizerUri"].endswith(":function:shop-prod-auth:prod/invocations")
    me, post_me, reports = methods["GET /me"], methods["POST /me"], methods["GET /reports"]
    assert (me["authorizationType"], me["authorizerId"], me.get("apiKeyRequired")) == (
        "CUSTOM", bearer["id"], False)
    assert (post_me["authorizerId"], post_me["apiKeyRequired"]) == (req["id"], True)
    assert (reports["authorizationType"], reports["apiKeyRequired"]) == ("NONE", True)
    plan, keys = _plan_and_keys()
    assert plan["name"] == "shop-prod"
    assert plan["apiStages"] == [{"apiId": api_id, "stage": "prod"}]
    assert plan["throttle"] == {"rateLimit": 10.0, "burstLimit": 20}
    assert plan["quota"] == {"limit": 5000, "period": "MONTH", "offset": 0}
    assert set(keys) == {"shop-prod-partner", "shop-prod-mobile"}
    assert keys["shop-prod-mobile"]["value"] == "m" * 24
    assert keys["shop-prod-mobile"]["description"] == "app"
    assert "aloft-authorizer" in _policy_sids("shop-prod-auth")
    assert provider.deploy(make_service(**REST)).plan == []  # read back as deployed
    report = provider.status(make_service(**REST)).report["api"]
    assert report["authorizers"] == {"bearer": "token", "req": "request"}
    assert report["api_keys"] == {name: k["id"] for name, k in keys.items()}

    partner = keys["shop-prod-partner"]["value"]
    slower = {**REST, "usage_plan": {"throttle": {"rate_limit": 5, "burst_limit": 5},
                                     "quota": {"limit": 5000, "period": "month"}},
              "api_keys": ["partner"]}
    plan_steps = provider.deploy(make_service(**slower), plan_only=True).plan
    [put] = [p for p in plan_steps if "Usage" in p.action]
    assert put.action == "PutUsagePlan"
    assert put.details["changes"] == "throttle 10.0/20 → 5.0/5; keys -shop-prod-mobile"
    provider.deploy(make_service(**slower))
    plan, keys = _plan_and_keys()
    assert plan["throttle"] == {"rateLimit": 5.0, "burstLimit": 5}
    assert set(keys) == {"shop-prod-partner"}
    assert keys["shop-prod-partner"]["value"] == partner  # a kept key keeps its value
    assert provider.deploy(make_service(**slower)).plan == []

    # no keys, no private route: the usage plan and its keys go; a changed authorizer is
    # made anew with the methods that name it
    open_api = json.loads(json.dumps(REST))
    for key in ("api_keys", "usage_plan"):
        del open_api[key]
    open_api["authorizers"]["bearer"]["ttl"] = 30
    open_api["functions"]["reports"]["events"] = [
        {"http": {"method": "get", "path": "/me", "authorizer": "bearer"}}]
    provider.deploy(make_service(**open_api))
    gw = boto("apigateway")
    assert gw.get_usage_plans()["items"] == []
    assert gw.get_api_keys()["items"] == []
    _, methods, auths = _rest()
    [bearer] = auths.values()
    assert (bearer["name"], bearer["authorizerResultTtlInSeconds"]) == ("bearer", 30)
    assert methods["GET /me"]["authorizerId"] == bearer["id"]
    assert provider.deploy(make_service(**open_api)).plan == []


def test_undeploy_removes_the_usage_plan_and_keys(
        provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    svc = make_service(**REST)
    provider.deploy(svc)
    provider.undeploy(svc)
    gw = boto("apigateway")
    assert gw.get_usage_plans()["items"] == [] and gw.get_api_keys()["items"] == []
    assert gw.get_rest_apis()["items"] == []


def test_a_failed_first_deploy_removes_the_usage_plan_and_keys_it_made(
        builds: Builds, moto: None, make_service: Callable[..., Service]) -> None:
    class FailLater(AwsClient):
        def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
            if operation == "add_permission" and params.get("StatementId") == "aloft-authorizer":
                raise ProviderError("injected failure")
            return super().call(service, operation, **params)

    failing = AwsProvider(client=lambda s: FailLater(region=REGION, poll_seconds=0),
                          builder=builds)
    with pytest.raises(DeployError, match="deploy failed at `AddPermission aloft-authorizer"):
        failing.deploy(make_service(**REST))
    gw = boto("apigateway")
    assert gw.get_usage_plans()["items"] == [] and gw.get_api_keys()["items"] == []
    assert gw.get_rest_apis()["items"] == []


def test_an_authorizer_that_changes_kind_changes_its_routes_authorization_type(
        provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    def stage(users: dict[str, Any]) -> Service:
        return make_service(authorizers={"users": users}, functions={
            "auth": {"handler": "a.h"},
            "notes": {"handler": "n.h", "events": [
                {"http": {"method": "get", "path": "/notes", "authorizer": "users"}}]}})

    provider.deploy(stage({"issuer": ISSUER, "audience": ["c1"]}))
    assert _http_routes()[1]["GET /notes"]["AuthorizationType"] == "JWT"
    lambda_users = {"type": "request", "function": "auth"}
    provider.deploy(stage(lambda_users))
    _, routes, auths = _http_routes()
    assert routes["GET /notes"]["AuthorizationType"] == "CUSTOM"
    assert [a["AuthorizerType"] for a in auths.values()] == ["REQUEST"]
    assert provider.deploy(stage(lambda_users)).plan == []
