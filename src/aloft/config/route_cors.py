"""A route's own `cors:` against the service's, as AWS can express it. Pure.

Locally the gateway applies each route's override (aloft.local.http.cors). On AWS CORS is not per
route: an HTTP API has one CORS configuration, which answers every preflight itself and replaces
the CORS headers of every response; a function URL has one for all of its function's paths. So
an aws stage's per-route settings are honoured when they come down to one configuration per API
(per function for function URLs), and refused otherwise (`aws_conflict`), rather than ignored.
REST APIs leave CORS to the app, the service's `cors:` and the routes' alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from aloft.config.models import APP_FUNCTION, Cors, Service
from aloft.config.source import KeyPath


@dataclass(frozen=True)
class RouteCors:
    """One route of the service and its own `cors:` (None: the service's)."""

    function: str  # logical
    method: str
    path: str
    cors: bool | None
    where: KeyPath  # the `cors:` key as resolved; the app's catch-all: ()


@dataclass(frozen=True)
class Conflict:
    """Per-route CORS that AWS cannot express: what, at which key, and how to fix it."""

    message: str
    where: KeyPath
    function: str
    fix: str


def routes(service: Service) -> list[RouteCors]:
    out: list[RouteCors] = []
    for name in service.all_function_names():
        base = "app_events" if name == APP_FUNCTION else f"functions.{name}.events"
        for i, event in enumerate(service.function(name).events):
            if event.http is not None:
                where: KeyPath = (*base.split("."), i, "http", "cors")
                out.append(RouteCors(name, event.http.method, event.http.path, event.http.cors,
                                     where))
    if service.has_app:
        out.append(RouteCors(APP_FUNCTION, "ANY", "/{proxy+}", None, ()))
    return out


def default_cors(methods: list[str], *, options: bool = True) -> Cors:
    """`cors: true` on routes of a service without `cors:`: any origin and header (as the
    service's `cors: true`), the routes' methods and OPTIONS (function URLs answer preflights
    themselves and take no method name longer than 6 letters)."""
    allowed = ["*"] if "ANY" in methods else list(dict.fromkeys(
        [*methods, "OPTIONS"] if options else methods))
    return Cors(methods=allowed)


def _one(service: Service, group: list[RouteCors], scope: str) -> Cors | Conflict | None:
    """The one CORS configuration `group` (the routes of an API or a function URL) comes to."""
    if service.cors.enabled:
        off = next((r for r in group if r.cors is False), None)
        if off is None:
            return service.cors
        if all(r.cors is False for r in group):
            return None
        return Conflict(
            f"route `{off.method} {off.path}` sets `cors: false`, but on AWS the service's "
            f"CORS is one configuration for the whole {scope}: it would still answer this "
            "route's preflights and add its headers",
            off.where, off.function,
            "remove the route's `cors: false` (the route then has the service's CORS), or "
            "remove the service's `cors:` and set `cors: true` on the routes that need it"
            + ("" if scope == "API" else f" (every route of {off.function!r})"),
        )
    on = [r for r in group if r.cors]
    if not on:
        return None
    if len(on) == len(group):
        return default_cors([r.method for r in group], options=scope == "API")
    first, other = on[0], next(r for r in group if not r.cors)
    what = ("the app's catch-all route" if not other.where
            else f"`{other.method} {other.path}`")
    return Conflict(
        f"route `{first.method} {first.path}` sets `cors: true` but {what} has no CORS, and "
        f"on AWS CORS is one configuration for the whole {scope}: it cannot have CORS on some "
        "routes only",
        first.where, first.function,
        "set `cors: true` on every route of the " + scope
        + " (for a service with an app: set the service's `cors:` instead), or remove it here",
    )


def aws_api_cors(service: Service) -> Cors | Conflict | None:
    """The HTTP API's CORS configuration for the service's routes (kind `http`)."""
    return _one(service, routes(service), "API")


def aws_url_cors(service: Service, function: str) -> Cors | Conflict | None:
    """The CORS configuration of `function`'s URL (kind `url`)."""
    group = [r for r in routes(service) if r.function == function]
    return _one(service, group, "function URL") if group else None


def aws_conflict(service: Service) -> Conflict | None:
    """The first per-route `cors:` that the stage's AWS API kind cannot express."""
    kind = service.aws.api
    if kind == "http":
        found = aws_api_cors(service)
        return found if isinstance(found, Conflict) else None
    if kind == "url":
        for name in service.all_function_names():
            found = aws_url_cors(service, name)
            if isinstance(found, Conflict):
                return found
    return None
