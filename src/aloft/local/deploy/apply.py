"""What a plan asks of the deployer, instruction by instruction (pure): each instruction type
has one handler, which adds it to the `Applying` record of one deploy; the deployer then does
the work in its order (resources, versions, grants, health checks, the switch, the clean-up).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aloft.local.deploy import instructions as i


@dataclass
class Applying:
    """A plan, sorted by what the deployer does with each instruction."""

    publish: list[i.Publish] = field(default_factory=list)
    checks: list[i.HealthCheck] = field(default_factory=list)
    release: list[i.Release] = field(default_factory=list)
    serving: dict[str, int] = field(default_factory=dict)  # physical -> version kept or new
    removed: list[i.Remove] = field(default_factory=list)
    routes: list[dict[str, Any]] | None = None  # None: the stage's routes do not change
    ensure: list[dict[str, Any]] = field(default_factory=list)  # resources to create or update
    drop: list[dict[str, Any]] = field(default_factory=list)  # resources to delete
    alias: dict[str, int] | None = None  # logical name -> version, at the switch
    recorded: list[str] = field(default_factory=list)  # schedules, grants, sources: recorded

    @property
    def changes_resources(self) -> bool:
        return bool(self.ensure or self.drop)


def _publish(a: Applying, x: i.Publish) -> None:
    a.publish.append(x)
    a.serving[x.function] = x.version


def _keep(a: Applying, x: i.Keep) -> None:
    a.serving[x.function] = x.version


def _check(a: Applying, x: i.HealthCheck) -> None:
    a.checks.append(x)


def _release(a: Applying, x: i.Release) -> None:
    a.release.append(x)


def _remove(a: Applying, x: i.Remove) -> None:
    a.removed.append(x)


def _routes(a: Applying, x: i.Routes) -> None:
    a.routes = list(x.routes)


def _ensure(a: Applying, x: i.ResourceAdd) -> None:
    a.ensure.append(x.resource)


def _drop(a: Applying, x: i.ResourceRemove) -> None:
    a.drop.append(x.resource)


def _switch(a: Applying, x: i.SwitchAlias) -> None:
    a.alias = dict(x.functions)


def _recorded(a: Applying, x: i.Instruction) -> None:
    """Schedules, grants and event sources are recorded with the deployment (the switch)."""
    a.recorded.append(x.name)


HANDLERS: dict[type[i.Instruction], Callable[[Applying, Any], None]] = {
    i.Publish: _publish, i.Keep: _keep, i.HealthCheck: _check, i.Release: _release,
    i.Remove: _remove,
    i.Routes: _routes, i.ResourceAdd: _ensure, i.ResourceUpdate: _ensure,
    i.ResourceRemove: _drop, i.SwitchAlias: _switch, i.ScheduleAdd: _recorded,
    i.ScheduleUpdate: _recorded, i.ScheduleRename: _recorded, i.ScheduleRemove: _recorded,
    i.Grants: _recorded, i.Sources: _recorded, i.SchedulesKept: _recorded,
    i.ApiAuthChange: _recorded,
}


def applying(plan: list[i.Instruction]) -> Applying:
    out = Applying()
    for x in plan:
        HANDLERS[type(x)](out, x)
    return out
