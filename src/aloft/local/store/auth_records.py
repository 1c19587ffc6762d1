"""A stage's API authorization as a deployment stores it (JSON), and read back: the stage
model's records (aloft.stage.records: ApiAuth, RouteAuth) in the state's plain data."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from aloft.stage import records as r


def api_auth_json(auth: r.ApiAuth) -> dict[str, Any]:
    return asdict(auth)


def api_auth_from_json(data: dict[str, Any] | None) -> r.ApiAuth | None:
    if not data:
        return None
    authorizers = tuple(
        r.Authorizer(**{**a, "identity": tuple(r.IdentitySource(**s) for s in a["identity"]),
                        "audience": tuple(a.get("audience") or ())})
        for a in data.get("authorizers") or ())
    keys = tuple(r.ApiKey(**k) for k in data.get("api_keys") or ())
    plan = data.get("usage_plan")
    return r.ApiAuth(data.get("api", "http"), authorizers, keys,
                     r.UsagePlan(**plan) if plan else None)


def route_auth_json(auth: r.RouteAuth) -> dict[str, Any]:
    return {"authorizer": auth.authorizer, "scopes": list(auth.scopes),
            "api_key": auth.api_key}


def route_auth_from_json(data: dict[str, Any] | None) -> r.RouteAuth | None:
    if not data:
        return None
    return r.RouteAuth(data.get("authorizer"), tuple(data.get("scopes") or ()),
                       bool(data.get("api_key")))


def api_key_values(keys: tuple[r.ApiKey, ...], known: Mapping[str, str]) -> dict[str, str]:
    """Each key's value: the declared one, else the one the stage's last deployment had, else
    a new random one (as API Gateway makes one); the dashboard shows them."""
    return {k.name: k.value or known.get(k.name) or secrets.token_urlsafe(30) for k in keys}
