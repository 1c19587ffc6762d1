"""`plan_rollback` over in-memory states: which schedule rules a rollback puts back."""

from __future__ import annotations

import dataclasses
from typing import Any

from aloft.aws import steps as st
from aloft.aws.plan_rollback import plan_rollback
from aloft.aws.record import Release, StateRecord
from tests.unit.aws.test_plan import deployed, svc, want

FUNCTIONS: dict[str, Any] = {"worker": {"handler": "w.w", "events": [
    {"schedule": {"rate": "5 minutes", "enabled": True}}]}}


def stage(*, worker_enabled: bool, live_enabled: bool) -> tuple[Any, Any, Release]:
    """A stage whose current release declares worker's rule `worker_enabled`, whose live rule
    is `live_enabled`, and whose previous release declared it enabled."""
    old = want(svc(functions=FUNCTIONS))
    new = want(svc(functions={"worker": {"handler": "w.w", "events": [
        {"schedule": {"rate": "5 minutes", "enabled": worker_enabled}}]}}))
    actual = deployed(new)
    rules = {n: dataclasses.replace(r, enabled=live_enabled) if n.endswith("worker-schedule")
             else r for n, r in actual.rules.items()}
    target = Release(1, {"worker": "1"}, "c0de", 1.0, old.rules)
    record = StateRecord(functions=("worker",), rules=tuple(rules), releases=(
        target, Release(2, {"worker": "1"}, "c0de", 2.0, new.rules)))
    return new, dataclasses.replace(actual, rules=rules, record=record), target


def puts(steps: list[st.Step]) -> dict[str, bool]:
    return {x.spec.name: x.spec.enabled for x in steps if isinstance(x, st.PutRule)}


def test_an_unschedule_is_kept() -> None:
    d, a, target = stage(worker_enabled=True, live_enabled=False)
    steps, notes = plan_rollback(d, a, target, 10.0)
    assert puts(steps) == {} and notes == []
    assert [x.op for x in steps] == ["WriteState"]


def test_a_rule_the_newer_config_disabled_is_enabled_again() -> None:
    d, a, target = stage(worker_enabled=False, live_enabled=False)
    steps, _ = plan_rollback(d, a, target, 10.0)
    assert puts(steps) == {"shop-prod-worker-schedule": True}


def test_a_rule_of_a_removed_function_is_noted() -> None:
    d, a, target = stage(worker_enabled=True, live_enabled=True)
    a = dataclasses.replace(a, functions={})
    steps, notes = plan_rollback(d, a, target, 10.0)
    assert [x.name for x in steps if isinstance(x, st.DeleteRule)] == [
        "shop-prod-worker-schedule"]
    [note] = notes
    assert "worker is no longer deployed" in note


def test_routes_come_back_before_anything_is_deleted() -> None:
    """v1: worker scheduled, a on GET /a; v2: b on GET /b, no schedule. Back to v1: a's
    permission and route and worker's rule first; then the rule of v2, GET /b, b's permission."""
    v1 = want(svc(app="app:app", functions={
        "a": {"handler": "h.a", "events": [{"http": "GET /a"}]}, **FUNCTIONS}))
    v2 = want(svc(app="app:app", functions={
        "a": {"handler": "h.a"}, "worker": {"handler": "w.w"},
        "b": {"handler": "h.b", "events": [{"http": "GET /b"},
                                           {"schedule": "rate(1 hour)"}]}}))
    actual = deployed(v2)
    assert v1.api is not None and v2.api is not None
    target = Release(1, {"a": "1", "worker": "1", "app": "1"}, "c0de", 1.0, v1.rules,
                     v1.api.routes)
    record = StateRecord(functions=("a", "worker", "b", "app"), rules=tuple(actual.rules),
                         releases=(target, Release(2, {"b": "1"}, "c0de", 2.0, v2.rules,
                                                   v2.api.routes)))
    steps, notes = plan_rollback(v2, dataclasses.replace(actual, record=record), target, 10.0)
    assert notes == []
    assert [(x.op, x.subject) for x in steps] == [
        ("AddPermission", "aloft-api on shop-prod-a:prod"),
        ("UpdateHttpApi", "abc123"),
        ("AddPermission", next(f"{x.subject}" for x in steps if isinstance(x, st.AddPermission)
                                and "worker" in x.physical)),
        ("PutRule", "shop-prod-worker-schedule"),
        ("DeleteRule", "shop-prod-b-schedule"),
        ("RemovePermission", next(x.subject for x in steps if isinstance(x, st.RemovePermission)
                                   and x.sid.startswith("aloft-rule-"))),
        ("UpdateHttpApi", "abc123"),
        ("RemovePermission", "aloft-api"),
        ("WriteState", v2.bucket)]
    adds, deletes = [x for x in steps if isinstance(x, st.UpdateHttpApi)]
    assert [r.key for r in adds.add_routes] == ["GET /a"] and adds.remove_routes == ()
    assert deletes.remove_routes == ("GET /b",) and deletes.add_routes == ()
    assert adds.keep_cors and deletes.keep_cors


def test_no_route_change_plans_no_route_step() -> None:
    d, a, target = stage(worker_enabled=True, live_enabled=False)
    assert d.api is None
    target = dataclasses.replace(target, routes=())
    steps, notes = plan_rollback(d, a, target, 10.0)
    assert [x.op for x in steps] == ["WriteState"] and notes == []
