"""Route matching: API Gateway's most-specific-wins rules."""

from __future__ import annotations

import pytest

from aloft.local.http.routing import RouteTable, match_route, route_key
from aloft.local.types import Route

ROUTES = (
    Route("ANY", "/", "app"),
    Route("ANY", "/{proxy+}", "app"),
    Route("GET", "/items", "list"),
    Route("GET", "/items/{id}", "get"),
    Route("ANY", "/items/{id}", "any-item"),
    Route("GET", "/items/special", "special"),
    Route("GET", "/files/{path+}", "files"),
    Route("POST", "/{kind}/new", "create"),
)


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        ("GET", "/", "app", {}),
        ("GET", "/items", "list", {}),
        ("GET", "/items/", "list", {}),
        ("GET", "/items/special", "special", {}),  # static beats {id}
        ("GET", "/items/42", "get", {"id": "42"}),  # method beats ANY
        ("DELETE", "/items/42", "any-item", {"id": "42"}),
        ("GET", "/items/a%20b", "get", {"id": "a b"}),
        ("GET", "/files/a/b/c.txt", "files", {"path": "a/b/c.txt"}),
        ("POST", "/items/new", "any-item", {"id": "new"}),  # static first segment wins
        ("POST", "/users/new", "create", {"kind": "users"}),
        ("GET", "/users/new", "app", {"proxy": "users/new"}),  # greedy is the last resort
        ("PUT", "/a/b/c", "app", {"proxy": "a/b/c"}),
        ("HEAD", "/items", "app", {"proxy": "items"}),  # ANY includes HEAD
    ],
)
def test_most_specific_route_wins(method: str, path: str, function: str, params: dict[str, str],
                                  ) -> None:
    found = RouteTable(ROUTES).match(method, path)
    assert found is not None
    assert (found.route.function, found.params) == (function, params)


def test_no_match() -> None:
    routes = (Route("GET", "/items/{id}", "get"), Route("GET", "/files/{p+}", "files"))
    table = RouteTable(routes)
    assert table.match("GET", "/") is None
    assert table.match("POST", "/items/1") is None
    assert table.match("GET", "/items/1/extra") is None
    assert table.match("GET", "/files") is None  # greedy needs a segment
    assert table.match("GET", "/items//") is None


def test_catch_all_without_root_route_does_not_match_root() -> None:
    assert match_route((Route("ANY", "/{proxy+}", "app"),), "GET", "/") is None


def test_head_falls_back_to_get() -> None:
    found = match_route((Route("GET", "/items", "list"),), "HEAD", "/items")
    assert found is not None and found.route.function == "list"


def test_route_key() -> None:
    assert route_key(ROUTES[1]) == "ANY /{proxy+}"
    assert route_key(ROUTES[3]) == "GET /items/{id}"
