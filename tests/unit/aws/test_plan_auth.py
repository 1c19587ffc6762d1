"""Planning the API's authorization over in-memory states: the desired authorizers and route
authorization, the usage plan's steps and the change text `--plan` shows (no AWS, no moto)."""

from __future__ import annotations

import dataclasses
from typing import Any

from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.plan_auth import authorizer_changes, usage_plan_changes, usage_plan_steps
from aloft.aws.state import ActualApi, ActualState
from aloft.aws.state_auth import ActualUsagePlan
from tests.unit.aws.test_plan import svc, want

REST: dict[str, Any] = {
    "aws": {"region": "eu-west-1", "api": "rest"},
    "authorizers": {"bearer": {"type": "token", "function": "auth"},
                    "unused": {"type": "request", "function": "auth"}},
    "api_keys": ["partner"],
    "functions": {"auth": {"handler": "a.h"}, "r": {"handler": "r.h", "events": [
        {"http": {"method": "get", "path": "/me", "authorizer": "bearer", "private": True}}]}},
}


def test_the_desired_api_carries_the_routes_authorization() -> None:
    d = want(svc(**REST))
    assert d.api is not None
    [route] = d.api.routes
    assert (route.authorizer, route.api_key) == ("bearer", True)
    # only the authorizers some route names
    assert [a.name for a in d.api.authorizers] == ["bearer"]
    [bearer] = d.api.authorizers
    assert (bearer.kind, bearer.identity, bearer.ttl, bearer.payload) == (
        "token", ("method.request.header.Authorization",), 300, None)
    assert d.api.usage_plan is not None
    assert [k.name for k in d.api.usage_plan.keys] == ["shop-prod-partner"]
    [perm] = [p for p in d.permissions if p.sid == "aloft-authorizer"]
    assert (perm.function, perm.source_arn) == (
        "auth", "arn:aws:execute-api:eu-west-1:111122223333:${api}/authorizers/*")


def _actual(d: s.Desired, stages: tuple[tuple[str, str], ...] = (("abc", "prod"),),
            **plan: Any) -> ActualState:
    assert d.api is not None and d.api.usage_plan is not None
    spec = dataclasses.replace(d.api.usage_plan, **plan)
    keys = tuple((k.name, f"id-{k.name}") for k in spec.keys)
    return ActualState(api=ActualApi("rest", "abc", d.api.routes, None),
                       usage_plan=ActualUsagePlan("up1", spec, stages, keys))


def test_usage_plan_steps() -> None:
    d = want(svc(**REST))
    assert usage_plan_steps(d, _actual(d), new_api=False) == []
    assert d.api is not None and d.api.usage_plan is not None
    assert usage_plan_steps(d, ActualState(), new_api=True) == [
        st.PutUsagePlan(d.api.usage_plan, "prod")]
    # a new API id: the plan moves to it
    [put] = usage_plan_steps(d, _actual(d, stages=(("old", "prod"),)), new_api=False)
    assert isinstance(put, st.PutUsagePlan) and put.changes == ""
    [put] = usage_plan_steps(d, _actual(d, rate_limit=5.0, burst_limit=5), new_api=False)
    assert isinstance(put, st.PutUsagePlan) and put.changes == "throttle 5.0/5 → none"
    opened = svc(**{**REST, "api_keys": [], "functions": {
        "auth": {"handler": "a.h"}, "r": {"handler": "r.h", "events": [{"http": "GET /me"}]}}})
    assert usage_plan_steps(want(opened), _actual(d), new_api=False) == [
        st.DeleteUsagePlan("up1", (("shop-prod-partner", "id-shop-prod-partner"),))]


def test_change_texts() -> None:
    a = s.AuthorizerSpec("users", "jwt", ("$request.header.Authorization",), 0,
                         issuer="https://i", audience=("c1",))
    b = dataclasses.replace(a, audience=("c1", "c2"))
    c = s.AuthorizerSpec("custom", "request", (), 60, function="auth")
    assert authorizer_changes((a,), (b, c)) == \
        "authorizers +custom, ~users (audience c1 → c1, c2)"
    assert authorizer_changes((a, c), ()) == "authorizers -users, -custom"
    old = s.UsagePlanSpec("p", (s.ApiKeySpec("k1", "v" * 20), s.ApiKeySpec("k2", None)),
                          quota_limit=10)
    new = s.UsagePlanSpec("p", (s.ApiKeySpec("k1", "w" * 20), s.ApiKeySpec("k3", None)))
    assert usage_plan_changes(old, new) == \
        "quota 10/DAY/0 → none; keys +k3, ~k1 (new value), -k2"
