"""CORS as API Gateway's HTTP APIs do it: the gateway answers preflights itself from the stage's
policy and adds the CORS headers to every response for an allowed origin. Pure functions.

A route's own `cors:` overrides the stage's policy for that route: `false` takes it out of CORS
(no headers; its preflight is routed like any OPTIONS request), `true` on a stage without CORS
gives it `default_policy`. A preflight belongs to the route its requested method and path match.
"""

from __future__ import annotations

from functools import lru_cache

from aloft.local.types import CorsPolicy, HttpResponse, Route


@lru_cache(maxsize=64)
def default_policy(method: str) -> CorsPolicy:
    """`cors: true` on a route of a stage without CORS: any origin and header (as the service's
    `cors: true`), the route's method and OPTIONS."""
    methods = ("*",) if method == "ANY" else tuple(dict.fromkeys((method, "OPTIONS")))
    return CorsPolicy(methods=methods)


def route_policy(stage: CorsPolicy | None, route: Route) -> CorsPolicy | None:
    """The CORS policy of `route` on a stage whose policy is `stage`."""
    if route.cors is None:
        return stage
    if not route.cors:
        return None
    return stage if stage is not None else default_policy(route.method)


def allowed_origin(policy: CorsPolicy, origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for `origin`, None when it is not allowed."""
    if origin is None:
        return None
    if "*" in policy.origins:
        # A credentialed response may not use the wildcard: echo the origin instead.
        return origin if policy.credentials else "*"
    return origin if origin in policy.origins else None


def cors_headers(policy: CorsPolicy, origin: str | None) -> list[tuple[str, str]]:
    allow = allowed_origin(policy, origin)
    if allow is None:
        return []
    headers = [("access-control-allow-origin", allow)]
    if allow != "*":
        headers.append(("vary", "Origin"))
    if policy.credentials:
        headers.append(("access-control-allow-credentials", "true"))
    if policy.expose_headers:
        headers.append(("access-control-expose-headers", ", ".join(policy.expose_headers)))
    return headers


def preflight(
    policy: CorsPolicy, origin: str | None, method: str, request_headers: str | None
) -> HttpResponse:
    """The answer to `OPTIONS` with Access-Control-Request-Method: 204, with the CORS headers
    when the origin and method are allowed, without them (so the browser refuses) otherwise."""
    allow = allowed_origin(policy, origin)
    method = method.upper()
    methods = [m.upper() for m in policy.methods]
    if allow is None or not ("*" in methods or method in methods):
        return HttpResponse(204, [("content-length", "0")])
    headers = [("access-control-allow-origin", allow)]
    if allow != "*":
        headers.append(("vary", "Origin"))
    headers.append(
        ("access-control-allow-methods", method if "*" in methods else ", ".join(methods))
    )
    if "*" in policy.headers:
        if request_headers:
            headers.append(("access-control-allow-headers", request_headers))
    elif policy.headers:
        headers.append(("access-control-allow-headers", ", ".join(policy.headers)))
    if policy.credentials:
        headers.append(("access-control-allow-credentials", "true"))
    headers.append(("access-control-max-age", str(policy.max_age)))
    return HttpResponse(204, headers)
