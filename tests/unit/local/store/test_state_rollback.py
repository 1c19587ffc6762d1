"""`State.roll_back`: the alias and the target's schedules change in one transaction; fire times
of unchanged rules are kept, restored ones count from now, the user's unschedule is kept."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from aloft.local.store.state import DeployedSchedule, Deployment, ScheduleRecord, State


def rule(name: str, expression: str, *, enabled: bool = True, anchor: float = 0.0,
         next_fire: float | None = 100.0) -> ScheduleRecord:
    return ScheduleRecord(name=f"svc-dev-{name}", service="svc", stage="dev",
                          function="svc-dev-app", expression=expression, input=None,
                          kind="schedule", enabled=enabled, anchor=anchor,
                          next_fire=next_fire if enabled else None)


def deployment(rules: list[ScheduleRecord]) -> Deployment:
    return Deployment(id=0, service="svc", stage="dev", number=0, functions={}, physical={},
                      routes=[], schedules=tuple(
                          DeployedSchedule(r.name, r.function, r.expression, r.input, r.kind,
                                           r.enabled) for r in rules))


def test_roll_back_merges_the_live_rules(tmp_path: Path) -> None:
    state = State(tmp_path / "state.db")
    old_rules = [rule("same", "rate(5 minutes)"), rule("paused", "rate(1 hour)"),
                 rule("off", "rate(1 day)"), rule("gone", "rate(2 hours)")]
    first = state.record_deployment(deployment(old_rules), [], old_rules)
    new_rules = [rule("same", "rate(5 minutes)", next_fire=250.0),
                 rule("paused", "rate(1 hour)"),
                 rule("off", "rate(1 day)", enabled=False),  # the newer config disabled it
                 rule("added", "rate(3 hours)")]
    second = state.record_deployment(deployment(new_rules), [], new_rules)
    state.set_schedule_enabled("svc-dev-paused", False, None)  # `aloft unschedule`
    state.set_next_fire("svc-dev-same", 300.0)  # it fired in between
    assert first.schedules is not None and second.schedules is not None

    now = 1000.0  # the target's rules as the deployer makes them: fire times from now
    target = [replace(r, anchor=now, next_fire=now + 60 if r.enabled else None)
              for r in old_rules]
    after = {r.name: r for r in state.roll_back("svc", "dev", first.id, target, second)}

    assert sorted(after) == ["svc-dev-gone", "svc-dev-off", "svc-dev-paused", "svc-dev-same"]
    current = state.current_deployment("svc", "dev")
    assert current is not None and current.id == first.id
    same = after["svc-dev-same"]  # unchanged: keeps its calendar
    assert (same.anchor, same.next_fire) == (0.0, 300.0)
    assert after["svc-dev-gone"].next_fire == now + 60 and after["svc-dev-gone"].anchor == now
    assert not after["svc-dev-paused"].enabled and after["svc-dev-paused"].next_fire is None
    # disabled by the newer config, not by the user: the older config's state comes back
    assert after["svc-dev-off"].enabled and after["svc-dev-off"].next_fire == now + 60


def test_roll_back_without_schedules_leaves_them(tmp_path: Path) -> None:
    state = State(tmp_path / "state.db")
    first = state.record_deployment(deployment([]), [], [rule("a", "rate(5 minutes)")])
    second = state.record_deployment(deployment([]), [], [rule("b", "rate(1 hour)")])
    after = state.roll_back("svc", "dev", first.id, None, second)
    assert [r.name for r in after] == ["svc-dev-b"]
    current = state.current_deployment("svc", "dev")
    assert current is not None and current.id == first.id
