"""The API's authorization in the CloudFormation template: authorizers, each route's (method's)
authorization, the REST API's usage plan and API keys. Built from the same specs as a deploy."""

from __future__ import annotations

from typing import Any, Protocol

from aloft.aws import specs as s
from aloft.aws.logical_ids import logical_id as _lid


class Template(Protocol):
    """What these pieces need of the template being built."""

    alias: dict[str, str]  # logical function -> its alias's logical id

    def add(self, lid: str, kind: str, props: dict[str, Any], **extra: Any) -> str: ...


def _uri(t: Template, function: str) -> dict[str, str]:
    return {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/"
                       f"2015-03-31/functions/${{{t.alias[function]}}}/invocations"}


def authorizers(t: Template, api: s.ApiSpec) -> dict[str, str]:
    """The API's authorizers: name -> logical id."""
    out = {}
    for a in api.authorizers:
        if api.kind == "http":
            props: dict[str, Any] = {"ApiId": {"Ref": "Api"}, "Name": a.name,
                                     "IdentitySource": list(a.identity)}
            if a.kind == "jwt":
                props.update(AuthorizerType="JWT", JwtConfiguration={
                    "Issuer": a.issuer, "Audience": list(a.audience)})
            else:
                assert a.function is not None
                props.update(AuthorizerType="REQUEST", AuthorizerUri=_uri(t, a.function),
                             AuthorizerPayloadFormatVersion=a.payload or "2.0",
                             AuthorizerResultTtlInSeconds=a.ttl)
                if (a.payload or "2.0") == "2.0":
                    props["EnableSimpleResponses"] = a.simple_responses
            out[a.name] = t.add(_lid(a.name, "Authorizer"), "AWS::ApiGatewayV2::Authorizer",
                                props)
            continue
        assert a.function is not None  # REST APIs: Lambda authorizers only
        props = {"RestApiId": {"Ref": "Api"}, "Name": a.name,
                 "Type": "TOKEN" if a.kind == "token" else "REQUEST",
                 "AuthorizerUri": _uri(t, a.function), "IdentitySource": ",".join(a.identity),
                 "AuthorizerResultTtlInSeconds": a.ttl}
        if a.validation:
            props["IdentityValidationExpression"] = a.validation
        out[a.name] = t.add(_lid(a.name, "Authorizer"), "AWS::ApiGateway::Authorizer", props)
    return out


def http_route(api: s.ApiSpec, route: s.RouteSpec, ids: dict[str, str]) -> dict[str, Any]:
    """An AWS::ApiGatewayV2::Route's authorization properties."""
    if route.authorizer is None:
        return {}
    found = next(a for a in api.authorizers if a.name == route.authorizer)
    props: dict[str, Any] = {"AuthorizationType": "JWT" if found.kind == "jwt" else "CUSTOM",
                             "AuthorizerId": {"Ref": ids[route.authorizer]}}
    if route.scopes:
        props["AuthorizationScopes"] = list(route.scopes)
    return props


def rest_method(route: s.RouteSpec, ids: dict[str, str]) -> dict[str, Any]:
    """An AWS::ApiGateway::Method's authorization properties."""
    props: dict[str, Any] = {"AuthorizationType": "NONE"}
    if route.authorizer is not None:
        props = {"AuthorizationType": "CUSTOM", "AuthorizerId": {"Ref": ids[route.authorizer]}}
    if route.api_key:
        props["ApiKeyRequired"] = True
    return props


def usage_plan(t: Template, api: s.ApiSpec) -> None:
    """The REST API's usage plan on its stage, and its API keys."""
    up = api.usage_plan
    if up is None:
        return
    props: dict[str, Any] = {"UsagePlanName": up.name,
                             "ApiStages": [{"ApiId": {"Ref": "Api"}, "Stage": {"Ref": "ApiStage"}}]}
    if up.description:
        props["Description"] = up.description
    if up.quota_limit is not None:
        props["Quota"] = {"Limit": up.quota_limit, "Period": up.quota_period,
                          "Offset": up.quota_offset}
    if up.rate_limit is not None and up.burst_limit is not None:
        props["Throttle"] = {"RateLimit": up.rate_limit, "BurstLimit": up.burst_limit}
    plan = t.add("UsagePlan", "AWS::ApiGateway::UsagePlan", props)
    for k in up.keys:
        key: dict[str, Any] = {"Name": k.name, "Enabled": True}
        if k.value is not None:
            key["Value"] = k.value
        if k.description:
            key["Description"] = k.description
        kid = t.add(_lid(k.name, "ApiKey"), "AWS::ApiGateway::ApiKey", key)
        t.add(_lid(k.name, "UsagePlanKey"), "AWS::ApiGateway::UsagePlanKey", {
            "KeyId": {"Ref": kid}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": plan}})
