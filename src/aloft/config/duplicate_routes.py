"""Two `http` events for one method and path: API Gateway refuses them (a route key is unique
in an HTTP API, a resource has one method of each kind in a REST API), so aloft refuses them
when the stage is loaded, at the line of the second, on every provider."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aloft.config.models import APP_FUNCTION, Service
from aloft.config.source import KeyPath

_PARAM = re.compile(r"\{[^}]*?(\+?)\}")


@dataclass(frozen=True)
class Duplicate:
    method: str
    path: str
    first: KeyPath
    second: KeyPath


def route_shape(method: str, path: str) -> tuple[str, str]:
    """What API Gateway compares: `GET /items/{id}` and `GET /items/{item_id}` are one route."""
    return method, _PARAM.sub(lambda m: "{" + m.group(1) + "}", path.rstrip("/") or "/")


def duplicate_route(service: Service) -> Duplicate | None:
    """The first route written twice (across functions or within one), or None."""
    seen: dict[tuple[str, str], KeyPath] = {}
    for name in service.all_function_names():
        base: KeyPath = ("app_events",) if name == APP_FUNCTION else ("functions", name, "events")
        for index, event in enumerate(service.function(name).events):
            if event.http is None:
                continue
            where: KeyPath = (*base, index, "http")
            shape = route_shape(event.http.method, event.http.path)
            if shape in seen:
                return Duplicate(event.http.method, event.http.path, seen[shape], where)
            seen[shape] = where
    return None
