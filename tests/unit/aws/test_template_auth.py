"""The template's API authorization and tracing: authorizers, a route's authorizer and API key,
the usage plan, X-Ray on the REST API's stage; each template passes cfn-lint."""

from __future__ import annotations

from typing import Any

from aloft.aws.template import template, template_json
from tests.aws_stage import cfn_errors
from tests.unit.aws.test_template import _service

REST = {"region": "eu-west-1", "api": "rest"}
HELLO = {"h": {"handler": "h.h", "events": [{"http": "GET /h"}]}}


def _resources(**fields: Any) -> dict[str, Any]:
    return template(_service(**fields))["Resources"]  # type: ignore[no-any-return]


def test_tracing_sets_the_rest_stage_and_the_functions() -> None:
    fields: dict[str, Any] = {"functions": HELLO, "aws": {**REST, "tracing": True}}
    res = _resources(**fields)
    assert res["ApiStage"]["Properties"]["TracingEnabled"] is True
    assert res["HFunction"]["Properties"]["TracingConfig"] == {"Mode": "Active"}
    statements = res["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert any("xray:PutTraceSegments" in st["Action"] for st in statements)
    assert cfn_errors(template_json(_service(**fields))) == []
    off = _resources(functions=HELLO, aws=REST)
    assert "TracingEnabled" not in off["ApiStage"]["Properties"]


def test_an_http_api_stage_has_no_tracing_property() -> None:
    res = _resources(functions=HELLO, aws={"region": "eu-west-1", "tracing": True})
    assert "TracingEnabled" not in res["ApiStage"]["Properties"]
    assert res["HFunction"]["Properties"]["TracingConfig"] == {"Mode": "Active"}


ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC"
HTTP_AUTH: dict[str, Any] = {
    "app": "app:app",
    "authorizers": {"users": {"issuer": ISSUER, "audience": ["client1"]},
                    "custom": {"type": "request", "function": "auth", "ttl": 60,
                               "simple_responses": True}},
    "authorizer": "users",
    "functions": {
        "auth": {"handler": "auth.handle"},
        "notes": {"handler": "n.h", "events": [
            {"http": {"method": "post", "path": "/notes",
                      "authorizer": {"name": "users", "scopes": ["notes:write"]}}},
            {"http": {"method": "get", "path": "/notes", "authorizer": "custom"}}]}},
}
REST_AUTH: dict[str, Any] = {
    "aws": REST,
    "authorizers": {"bearer": {"type": "token", "function": "auth",
                               "validation": "^Bearer .+$"}},
    "api_keys": ["partner", {"name": "mobile", "value": "m" * 24}],
    "usage_plan": {"quota": {"limit": 5000, "period": "month"},
                   "throttle": {"rate_limit": 10, "burst_limit": 20}},
    "functions": {
        "auth": {"handler": "auth.handle"},
        "r": {"handler": "r.h", "events": [
            {"http": {"method": "get", "path": "/reports", "private": True}},
            {"http": {"method": "get", "path": "/me", "authorizer": "bearer"}}]}},
}


def test_http_api_authorizers_and_route_authorization() -> None:
    res = _resources(**HTTP_AUTH)
    users, custom = res["UsersAuthorizer"]["Properties"], res["CustomAuthorizer"]["Properties"]
    assert users["AuthorizerType"] == "JWT"
    assert users["JwtConfiguration"] == {"Issuer": ISSUER, "Audience": ["client1"]}
    assert custom["AuthorizerType"] == "REQUEST" and custom["EnableSimpleResponses"] is True
    assert "${AuthAlias}" in custom["AuthorizerUri"]["Fn::Sub"]
    assert custom["AuthorizerResultTtlInSeconds"] == 60
    post = res["RoutePOSTNotes"]["Properties"]
    assert (post["AuthorizationType"], post["AuthorizerId"], post["AuthorizationScopes"]) == (
        "JWT", {"Ref": "UsersAuthorizer"}, ["notes:write"])
    assert res["RouteGETNotes"]["Properties"]["AuthorizationType"] == "CUSTOM"
    assert res["RouteDefault"]["Properties"]["AuthorizerId"] == {"Ref": "UsersAuthorizer"}
    perm = res["AuthAloftAuthorizerPermission"]["Properties"]
    assert perm["Principal"] == "apigateway.amazonaws.com"
    assert perm["SourceArn"]["Fn::Sub"].endswith(":${Api}/authorizers/*")
    assert cfn_errors(template_json(_service(**HTTP_AUTH))) == []


def test_rest_api_authorizers_private_methods_and_usage_plan() -> None:
    res = _resources(**REST_AUTH)
    bearer = res["BearerAuthorizer"]["Properties"]
    assert (bearer["Type"], bearer["IdentitySource"], bearer["IdentityValidationExpression"]) \
        == ("TOKEN", "method.request.header.Authorization", "^Bearer .+$")
    me = res["MethodGETMe"]["Properties"]
    assert (me["AuthorizationType"], me["AuthorizerId"]) == (
        "CUSTOM", {"Ref": "BearerAuthorizer"})
    reports = res["MethodGETReports"]["Properties"]
    assert (reports["AuthorizationType"], reports["ApiKeyRequired"]) == ("NONE", True)
    plan = res["UsagePlan"]["Properties"]
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "Api"}, "Stage": {"Ref": "ApiStage"}}]
    assert plan["Quota"] == {"Limit": 5000, "Period": "MONTH", "Offset": 0}
    assert plan["Throttle"] == {"RateLimit": 10.0, "BurstLimit": 20}
    keys = {r["Properties"]["Name"]: r["Properties"] for r in res.values()
            if r["Type"] == "AWS::ApiGateway::ApiKey"}
    assert keys["shop-prod-mobile"]["Value"] == "m" * 24
    assert "Value" not in keys["shop-prod-partner"]  # API Gateway makes it
    links = [r["Properties"] for r in res.values()
             if r["Type"] == "AWS::ApiGateway::UsagePlanKey"]
    assert len(links) == 2 and all(x["UsagePlanId"] == {"Ref": "UsagePlan"} for x in links)
    assert cfn_errors(template_json(_service(**REST_AUTH))) == []
