"""The stage's API authorization as AWS specs (pure): the authorizers the routes name, each
route's authorizer, scopes and API key, the REST API's usage plan and keys, and the permission
that lets API Gateway invoke a Lambda authorizer. The stage model (aloft.stage.api_auth) says
what they are; this module only spells them as API Gateway does."""

from __future__ import annotations

from aloft.aws import specs as s
from aloft.aws.names import Names
from aloft.stage import records as r

AUTHORIZER_SID = "aloft-authorizer"
"""The statement on an authorizer function's stage alias that lets the API invoke it."""


def route_auth(auth: r.RouteAuth | None) -> dict[str, object]:
    """A route's RouteSpec fields for `auth` (none for an open route)."""
    if auth is None:
        return {}
    return {"authorizer": auth.authorizer, "scopes": auth.scopes, "api_key": auth.api_key}


def authorizer_spec(a: r.Authorizer, kind: s.ApiKind) -> s.AuthorizerSpec:
    """One authorizer as the API of `kind` holds it (and reads it back)."""
    http = kind == "http"
    identity = tuple(x.http_api if http else x.rest_api for x in a.identity)
    if a.kind == "jwt":
        return s.AuthorizerSpec(a.name, "jwt", identity, 0, issuer=a.issuer,
                                audience=a.audience)
    return s.AuthorizerSpec(
        a.name, a.kind, identity, a.ttl, function=a.function,
        payload=a.payload if http else None,
        simple_responses=a.simple_responses if http else False,
        validation=a.validation if a.kind == "token" else None)


def authorizers(auth: r.ApiAuth, routes: list[s.RouteSpec],
                kind: s.ApiKind) -> tuple[s.AuthorizerSpec, ...]:
    """The authorizers some route names (API Gateway needs no other; one that no route
    names is not created)."""
    used = {x.authorizer for x in routes if x.authorizer}
    return tuple(authorizer_spec(a, kind) for a in auth.authorizers if a.name in used)


def usage_plan(auth: r.ApiAuth, routes: list[s.RouteSpec], names: Names,
               kind: s.ApiKind) -> s.UsagePlanSpec | None:
    """The REST API's usage plan: there when the stage has API keys or a private route (a
    key is accepted only through a usage plan of the stage)."""
    if kind != "rest" or not (auth.api_keys or any(x.api_key for x in routes)):
        return None
    up = auth.usage_plan or r.UsagePlan()
    keys = tuple(s.ApiKeySpec(names.physical(k.name), k.value, k.description)
                 for k in auth.api_keys)
    return s.UsagePlanSpec(names.api_name, keys, up.quota_limit, up.quota_period,
                           up.quota_offset, up.rate_limit, up.burst_limit, up.description)


def authorizer_permissions(api: s.ApiSpec | None, names: Names) -> list[s.Permission]:
    """lambda:InvokeFunction for API Gateway on each Lambda authorizer's stage alias, from
    this API's authorizers only."""
    if api is None:
        return []
    source = names.account.arn("execute-api", f"{s.ref('api')}/authorizers/*")
    fns = sorted({a.function for a in api.authorizers if a.function})
    return [s.Permission(fn, AUTHORIZER_SID, "apigateway.amazonaws.com", source) for fn in fns]


def key_matches(want: s.ApiKeySpec, have: s.ApiKeySpec) -> bool:
    """Whether the key read back is the declared one (a value API Gateway made matches a
    key declared without one)."""
    return (want.name, want.description) == (have.name, have.description) \
        and want.value in (None, have.value)


def plan_matches(want: s.UsagePlanSpec, have: s.UsagePlanSpec) -> bool:
    """Whether the usage plan read back is the declared one (limits and keys)."""
    limits = ("quota_limit", "quota_period", "quota_offset", "rate_limit", "burst_limit",
              "description")
    if any(getattr(want, f) != getattr(have, f) for f in limits):
        return False
    got = {k.name: k for k in have.keys}
    return len(got) == len(want.keys) and all(
        k.name in got and key_matches(k, got[k.name]) for k in want.keys)
