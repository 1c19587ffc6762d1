"""Matching a request to a stage's routes, like API Gateway: the most specific route wins.

Pure functions over data. Specificity is compared segment by segment from the left: a static
segment beats a `{param}`, which beats a greedy `{proxy+}`; for the same path a route with the
request's method beats `ANY`. `{proxy+}` matches one or more trailing segments, never the bare
`/` (an app's catch-all is the pair `ANY /` and `ANY /{proxy+}`). A HEAD request falls back to
the GET route of its path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from aloft.local.types import Route

STATIC, PARAM, GREEDY = 0, 1, 2
RECENT = 4096  # remembered (method, path) answers per table


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    params: dict[str, str]


@dataclass(frozen=True)
class _Pattern:
    route: Route
    kinds: tuple[int, ...]  # STATIC/PARAM/GREEDY per segment
    parts: tuple[str, ...]  # the static text, or the parameter's name

    @property
    def specificity(self) -> tuple[tuple[int, ...], int]:
        return self.kinds, 1 if self.route.method == "ANY" else 0


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


def compile_route(route: Route) -> _Pattern:
    kinds: list[int] = []
    parts: list[str] = []
    for segment in _segments(route.path):
        if segment.startswith("{") and segment.endswith("+}"):
            kinds.append(GREEDY)
            parts.append(segment[1:-2])
        elif segment.startswith("{") and segment.endswith("}"):
            kinds.append(PARAM)
            parts.append(segment[1:-1])
        else:
            kinds.append(STATIC)
            parts.append(segment)
    return _Pattern(route, tuple(kinds), tuple(parts))


class RouteTable:
    """A stage's routes, compiled once: exact static paths in a dict, the rest by specificity."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = tuple(routes)
        self._static: dict[tuple[str, str], Route] = {}
        patterns: list[_Pattern] = []
        for route in self.routes:
            pattern = compile_route(route)
            if all(kind == STATIC for kind in pattern.kinds):
                key = (route.method.upper(), "/" + "/".join(pattern.parts))
                self._static.setdefault(key, route)
            else:
                patterns.append(pattern)
        self._patterns = sorted(patterns, key=lambda p: p.specificity)
        self._recent: dict[tuple[str, str], RouteMatch | None] = {}

    def match(self, method: str, path: str) -> RouteMatch | None:
        """The best route for `method` and `path` (raw, within the stage), with its params.
        Recent answers are remembered: most traffic asks for the same few paths."""
        key = (method, path)
        try:
            return self._recent[key]
        except KeyError:
            pass
        found = self._match(method, path)
        if found is None and method == "HEAD":
            found = self._match("GET", path)
        if len(self._recent) >= RECENT:
            self._recent.clear()
        self._recent[key] = found
        return found

    def _match(self, method: str, path: str) -> RouteMatch | None:
        segments = _segments(path)
        key = "/" + "/".join(segments)
        static = self._static
        route = static.get((method, key)) or static.get(("ANY", key))
        if route is not None:
            return RouteMatch(route, {})
        for pattern in self._patterns:
            if pattern.route.method not in (method, "ANY"):
                continue
            params = _bind(pattern, segments)
            if params is not None:
                return RouteMatch(pattern.route, params)
        return None


def _bind(pattern: _Pattern, segments: Sequence[str]) -> dict[str, str] | None:
    kinds, parts = pattern.kinds, pattern.parts
    if len(segments) < len(kinds):
        return None
    if len(segments) > len(kinds) and (not kinds or kinds[-1] != GREEDY):
        return None
    params: dict[str, str] = {}
    for index, kind in enumerate(kinds):
        segment = segments[index]
        if kind == STATIC:
            if segment != parts[index]:
                return None
        elif kind == PARAM:
            if not segment:
                return None
            params[parts[index]] = unquote(segment)
        else:
            rest = "/".join(segments[index:])
            if not rest:
                return None
            params[parts[index]] = unquote(rest)
    return params


def match_route(routes: Iterable[Route], method: str, path: str) -> RouteMatch | None:
    """Convenience for one-off matching; the gateway keeps a RouteTable per stage."""
    return RouteTable(routes).match(method, path)


def route_key(route: Route) -> str:
    """HTTP API's `routeKey`: `GET /items/{id}`, `ANY /{proxy+}`."""
    return f"{route.method} {route.path}"
