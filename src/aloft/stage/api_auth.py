"""The stage's API authorization: authorizers, each route's authorizer and API key, the usage
plan (pure). Both providers translate it: the local gateway enforces it, aws creates it."""

from __future__ import annotations

from pathlib import Path

from aloft.config.api_auth import RouteAuthorizer, identity_source
from aloft.config.models import Service
from aloft.stage import records as r
from aloft.stage.names import StageNames


def route_auth(found: RouteAuthorizer | None, private: bool = False) -> r.RouteAuth | None:
    """An `http` event's `authorizer:` and `private:` (None: an open route)."""
    if found is None and not private:
        return None
    return r.RouteAuth(found.name if found else None, tuple(found.scopes) if found else (),
                       private)


def api_auth(service: Service, names: StageNames) -> r.ApiAuth:
    kind = service.aws.api
    authorizers = []
    for name, a in sorted(service.authorizers.items()):
        assert a.type is not None  # the model settles it
        sources = tuple(r.IdentitySource(*identity_source(text))  # type: ignore[arg-type]
                        for text in a.identity_source)
        jwks = a.jwks
        if jwks is not None and "://" not in jwks:  # a file of the project
            jwks = str((service.root / Path(jwks)).resolve())
        payload = a.payload or ("1.0" if kind == "rest" or a.type == "token" else "2.0")
        authorizers.append(r.Authorizer(
            name=name, kind=a.type, identity=sources,
            ttl=0 if a.type == "jwt" else a.ttl,
            function=a.function, physical=names.function(a.function) if a.function else None,
            issuer=a.issuer, audience=tuple(a.audience), jwks=jwks,
            payload=payload, simple_responses=a.simple_responses, validation=a.validation,
        ))
    keys = tuple(r.ApiKey(k.name, k.value, k.description or "") for k in service.api_keys)
    plan = None
    up = service.usage_plan
    if up is not None:
        plan = r.UsagePlan(
            quota_limit=up.quota.limit if up.quota else None,
            quota_period=up.quota.period if up.quota else "DAY",
            quota_offset=up.quota.offset if up.quota else 0,
            rate_limit=up.throttle.rate_limit if up.throttle else None,
            burst_limit=up.throttle.burst_limit if up.throttle else None,
            description=up.description or "",
        )
    return r.ApiAuth(kind, tuple(authorizers), keys, plan)
