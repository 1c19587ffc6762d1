"""The API's authorization read back from AWS in `specs` shapes: authorizers (HTTP APIs' through
their routes, REST APIs' listed), and the REST API's usage plan with its API keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aloft.aws import specs as s
from aloft.aws.client import AwsClient


@dataclass(frozen=True)
class ActualUsagePlan:
    id: str
    spec: s.UsagePlanSpec  # its limits and the keys it holds (with their values)
    stages: tuple[tuple[str, str], ...]  # (REST API id, stage) it applies to
    key_ids: tuple[tuple[str, str], ...]  # (key name, key id)


def function_of(uri: str, by_alias: Mapping[str, str]) -> str:
    """The logical function a Lambda integration's or authorizer's URI invokes ('?' if none
    of the stage's)."""
    alias = uri.split("/functions/")[-1].removesuffix("/invocations")
    return by_alias.get(alias, "?")


def lambda_uri(partition: str, region: str, alias_arn: str) -> str:
    return (f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/"
            f"{alias_arn}/invocations")


def http_authorizer(got: Mapping[str, Any], by_alias: Mapping[str, str]) -> s.AuthorizerSpec:
    """An HTTP API's authorizer (GetAuthorizer) as a spec."""
    identity = tuple(got.get("IdentitySource") or ())
    name = str(got.get("Name", ""))
    if got.get("AuthorizerType") == "JWT":
        jwt = got.get("JwtConfiguration") or {}
        return s.AuthorizerSpec(name, "jwt", identity, 0, issuer=jwt.get("Issuer"),
                                audience=tuple(jwt.get("Audience") or ()))
    return s.AuthorizerSpec(
        name, "request", identity, int(got.get("AuthorizerResultTtlInSeconds") or 0),
        function=function_of(str(got.get("AuthorizerUri", "")), by_alias),
        payload=got.get("AuthorizerPayloadFormatVersion") or "1.0",
        simple_responses=bool(got.get("EnableSimpleResponses") or False))


def http_authorizers(aws: AwsClient, api_id: str, ids: set[str],
                     by_alias: Mapping[str, str]) -> dict[str, s.AuthorizerSpec]:
    """The HTTP API's authorizers that its routes name, by id."""
    out = {}
    for i in sorted(ids):
        got = aws.find("apigatewayv2", "get_authorizer", ApiId=api_id, AuthorizerId=i)
        if got is not None:
            out[i] = http_authorizer(got, by_alias)
    return out


def http_route_auth(route: Mapping[str, Any],
                    authorizers: Mapping[str, s.AuthorizerSpec]) -> dict[str, Any]:
    """The RouteSpec fields of an HTTP API route's authorization."""
    found = authorizers.get(str(route.get("AuthorizerId") or ""))
    if route.get("AuthorizationType", "NONE") == "NONE" or found is None:
        return {}
    return {"authorizer": found.name, "scopes": tuple(route.get("AuthorizationScopes") or ())}


def rest_authorizers(aws: AwsClient, api_id: str,
                     by_alias: Mapping[str, str]) -> dict[str, s.AuthorizerSpec]:
    """The REST API's authorizers, by id."""
    out = {}
    for a in aws.call("apigateway", "get_authorizers", restApiId=api_id).get("items", []):
        kind: s.AuthorizerKind = "token" if a.get("type") == "TOKEN" else "request"
        ttl = a.get("authorizerResultTtlInSeconds")
        out[str(a["id"])] = s.AuthorizerSpec(
            str(a.get("name", "")), kind,
            tuple(x.strip() for x in str(a.get("identitySource") or "").split(",") if x.strip()),
            300 if ttl is None else int(ttl),
            function=function_of(str(a.get("authorizerUri", "")), by_alias),
            validation=a.get("identityValidationExpression") or None)
    return out


def rest_method_auth(method: Mapping[str, Any],
                     authorizers: Mapping[str, s.AuthorizerSpec]) -> dict[str, Any]:
    """The RouteSpec fields of a REST API method's authorization."""
    out: dict[str, Any] = {}
    found = authorizers.get(str(method.get("authorizerId") or ""))
    if method.get("authorizationType") == "CUSTOM" and found is not None:
        out["authorizer"] = found.name
    if method.get("apiKeyRequired"):
        out["api_key"] = True
    return out


def usage_plan(aws: AwsClient, name: str, key_names: set[str]) -> ActualUsagePlan | None:
    """The usage plan named `name` with its keys (and the declared keys that exist but are
    not in it, e.g. after a run that stopped half-way)."""
    plan = next((p for p in aws.pages("apigateway", "get_usage_plans", "items")
                 if p.get("name") == name), None)
    if plan is None:
        return None
    keys: dict[str, tuple[str, s.ApiKeySpec]] = {}
    linked = {str(k["id"]) for k in aws.pages("apigateway", "get_usage_plan_keys", "items",
                                               usagePlanId=plan["id"])}
    for k in aws.pages("apigateway", "get_api_keys", "items", nameQuery=name,
                       includeValues=True):
        if str(k["id"]) in linked or k.get("name") in key_names:
            keys[str(k["name"])] = (str(k["id"]), s.ApiKeySpec(
                str(k["name"]), k.get("value"), str(k.get("description") or "")))
    quota, throttle = plan.get("quota") or {}, plan.get("throttle") or {}
    spec = s.UsagePlanSpec(
        name, tuple(v for _, v in sorted(keys.values(), key=lambda x: x[1].name)),
        int(quota["limit"]) if "limit" in quota else None, str(quota.get("period", "DAY")),
        int(quota.get("offset", 0)),
        float(throttle["rateLimit"]) if "rateLimit" in throttle else None,
        int(throttle["burstLimit"]) if "burstLimit" in throttle else None,
        str(plan.get("description") or ""))
    stages = tuple((str(x["apiId"]), str(x["stage"])) for x in plan.get("apiStages") or ())
    return ActualUsagePlan(str(plan["id"]), spec, stages,
                           tuple((n, i) for n, (i, _) in sorted(keys.items())))


def auth_status(authorizers: tuple[s.AuthorizerSpec, ...],
                plan: ActualUsagePlan | None) -> dict[str, Any]:
    """What `aloft status` says of the API's authorization: its authorizers, and the usage
    plan's keys by name with their ids (never their values: `aws apigateway get-api-key
    --api-key ID --include-value` reads one)."""
    out: dict[str, Any] = {}
    if authorizers:
        out["authorizers"] = {a.name: a.kind for a in authorizers}
    if plan is not None:
        out["api_keys"] = dict(plan.key_ids)
    return out
