"""`rollback` on AWS (moto) with authorizers: a route comes back with its authorizer and scopes
(HTTP API) or its method's authorization and API key (REST API); the authorizers stay as the
last deploy made them, and a route whose authorizer the API no longer has is left as it is,
with a note."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from tests.aws.conftest import REGION, Builds, boto

ISSUER = "https://issuer.example.com"
USERS = {"users": {"issuer": ISSUER, "audience": ["c1"]}}


def _notes(*events: dict[str, Any]) -> dict[str, Any]:
    return {"authorizers": USERS, "functions": {
        "notes": {"handler": "n.h", "events": list(events)}}}


V1 = _notes({"http": {"method": "get", "path": "/notes",
                      "authorizer": {"name": "users", "scopes": ["notes:read"]}}})
V2 = _notes({"http": "GET /notes"},
            {"http": {"method": "post", "path": "/notes", "authorizer": "users"}})


def _routes() -> dict[str, tuple[str | None, list[str]]]:
    """Route key -> (authorizer name, scopes)."""
    gw = boto("apigatewayv2")
    [api] = gw.get_apis()["Items"]
    out = {}
    for r in gw.get_routes(ApiId=api["ApiId"])["Items"]:
        name = None
        if r.get("AuthorizerId"):
            name = gw.get_authorizer(ApiId=api["ApiId"], AuthorizerId=r["AuthorizerId"])["Name"]
        out[r["RouteKey"]] = (name, list(r.get("AuthorizationScopes") or ()))
    return out


def test_a_route_comes_back_with_its_authorizer_and_scopes(
        provider: AwsProvider, make_service: Callable[..., Service], builds: Builds) -> None:
    provider.deploy(make_service(**V1))
    builds.code = "v2"
    v2 = make_service(**V2)
    provider.deploy(v2)
    assert _routes() == {"GET /notes": (None, []), "POST /notes": ("users", [])}
    back = provider.rollback(v2, 1)
    assert not [s for s in back.plan if s.action == "Note"]
    assert _routes() == {"GET /notes": ("users", ["notes:read"])}


def test_a_route_whose_authorizer_is_gone_is_left_with_a_note(
        provider: AwsProvider, make_service: Callable[..., Service], builds: Builds) -> None:
    provider.deploy(make_service(**V1))
    builds.code = "v2"
    v2 = make_service(functions={"notes": {"handler": "n.h", "events": [
        {"http": "GET /notes"}]}})
    provider.deploy(v2)  # no route names `users`: the authorizer is gone
    back = provider.rollback(v2, 1)
    [note] = [s for s in back.plan if s.action == "Note"]
    assert "route GET /notes of release 1 was left as it is" in note.note
    assert _routes() == {"GET /notes": (None, [])}


REST: dict[str, Any] = {
    "aws": {"region": REGION, "api": "rest"},
    "authorizers": {"bearer": {"type": "token", "function": "auth"}},
    "api_keys": ["partner"],
    "functions": {"auth": {"handler": "a.h"}, "r": {"handler": "r.h", "events": [
        {"http": {"method": "get", "path": "/me", "authorizer": "bearer", "private": True}},
        {"http": "GET /open"}]}},
}


def _methods() -> dict[str, tuple[str, bool]]:
    gw = boto("apigateway")
    [api] = gw.get_rest_apis()["items"]
    out = {}
    for res in gw.get_resources(restApiId=api["id"])["items"]:
        for m in res.get("resourceMethods") or {}:
            got = gw.get_method(restApiId=api["id"], resourceId=res["id"], httpMethod=m)
            out[f"{m} {res['path']}"] = (got["authorizationType"], bool(got["apiKeyRequired"]))
    return out


def test_rest_methods_come_back_with_their_authorization(
        provider: AwsProvider, make_service: Callable[..., Service], builds: Builds) -> None:
    provider.deploy(make_service(**REST))
    builds.code = "v2"
    v2 = json.loads(json.dumps(REST))
    v2["functions"]["r"]["events"][0] = {"http": {"method": "get", "path": "/me",
                                                  "authorizer": "bearer"}}
    provider.deploy(make_service(**v2))
    assert _methods()["GET /me"] == ("CUSTOM", False)
    provider.rollback(make_service(**v2), 1)
    assert _methods() == {"GET /me": ("CUSTOM", True), "GET /open": ("NONE", False)}
