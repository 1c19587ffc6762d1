"""The local cloud's plan instructions: plain frozen data, printed by `--plan` and applied by
the deployer, each by one handler (deploy/apply.py), as the aws provider's steps are.

In the order a deploy applies them:
  ResourceAdd / ResourceUpdate   a declared resource is created / brought to its spec on the
                 local AWS endpoint (before the health checks: the new code may use it)
  Publish        a function gets a new immutable version (new, code or configuration changed)
  Keep           a function is unchanged and keeps its version
  HealthCheck    a published version must initialise (and, for the app, answer its health path)
  Release        a `release:` command runs in the app's new version (after it initialised,
                 before its health path is asked: `manage migrate` first)
  Remove         a function that is no longer in the config leaves the stage
  Routes         the stage's HTTP routes (only when they change)
  ScheduleAdd / ScheduleUpdate / ScheduleRename / ScheduleRemove
  Grants         the functions' grants on the local AWS endpoint changed
  Sources        the stage's event sources changed
  SwitchAlias    the stage alias points at the new versions (one transaction)
  ResourceRemove a resource no longer declared is deleted (after the alias switch)
`to_dict()` is an instruction's plain form (`DeployResult.plan`, `aloft deploy --plan`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Instruction:
    """Base of every instruction; `name` is what `--plan` prints after the action."""

    action: ClassVar[str] = ""
    name: str

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.metadata.get("optional"):
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


def _optional() -> Any:
    """A field left out of `to_dict()` when it is None."""
    return dataclasses.field(default=None, metadata={"optional": True})


@dataclass(frozen=True)
class Publish(Instruction):
    action = "publish"
    function: str  # physical
    version: int
    reason: str
    config_hash: str


@dataclass(frozen=True)
class Keep(Instruction):
    action = "keep"
    function: str
    version: int


@dataclass(frozen=True)
class HealthCheck(Instruction):
    action = "health_check"
    function: str
    version: int
    path: str | None  # the app's health path; None: initialising is the check


@dataclass(frozen=True)
class Release(Instruction):
    """A `release:` command (`name`), run in the app's version that is about to serve."""

    action = "release"
    function: str  # physical
    version: int


@dataclass(frozen=True)
class Remove(Instruction):
    action = "remove"
    function: str
    version: int


@dataclass(frozen=True)
class Routes(Instruction):
    action = "routes"
    routes: tuple[dict[str, Any], ...]
    changes: str = ""  # `+GET /a, -POST /b`: what `--plan` shows


@dataclass(frozen=True)
class ApiAuthChange(Instruction):
    """The stage's authorizers, API keys or usage plan changed (recorded at the switch)."""

    action = "api_auth"
    summary: str


@dataclass(frozen=True)
class ScheduleAdd(Instruction):
    action = "schedule_add"
    function: str  # physical
    expression: str
    kind: str  # "schedule" | "keep_warm"
    input: str | None = _optional()


@dataclass(frozen=True)
class ScheduleUpdate(ScheduleAdd):
    action = "schedule_update"


@dataclass(frozen=True)
class ScheduleRename(ScheduleAdd):
    """A rule that had another name (aloft's local rule names before the stage model): it
    keeps its fire times and `aloft unschedule`'s flag under the new name."""

    action = "schedule_rename"
    renamed_from: str | None = _optional()


@dataclass(frozen=True)
class ScheduleRemove(Instruction):
    action = "schedule_remove"
    function: str


@dataclass(frozen=True)
class ResourceAdd(Instruction):
    action = "resource_add"
    resource: dict[str, Any]


@dataclass(frozen=True)
class ResourceUpdate(ResourceAdd):
    action = "resource_update"


@dataclass(frozen=True)
class ResourceRemove(ResourceAdd):
    action = "resource_remove"


@dataclass(frozen=True)
class Grants(Instruction):
    action = "grants"
    functions: tuple[str, ...]


@dataclass(frozen=True)
class Sources(Instruction):
    action = "sources"
    add: tuple[str, ...]
    remove: tuple[str, ...]


@dataclass(frozen=True)
class SwitchAlias(Instruction):
    action = "switch_alias"
    functions: dict[str, int]  # logical name -> version


@dataclass(frozen=True)
class SchedulesKept(Instruction):
    """A rollback to a deployment that did not record its schedules (a note)."""

    action = "schedules_kept"
    note: str


def describe(plan: list[Instruction]) -> list[dict[str, Any]]:
    return [i.to_dict() for i in plan]


def with_switch(plan: list[Instruction], stage: str) -> list[Instruction]:
    """`plan` with an alias switch that records its changes (the kept versions), if it has
    none: a change of grants or event sources publishes no version but is a deployment."""
    if any(isinstance(i, SwitchAlias) for i in plan):
        return plan
    return [*plan, SwitchAlias(stage, {i.name: i.version for i in plan if isinstance(i, Keep)})]


def is_noop(plan: list[Instruction]) -> bool:
    return all(isinstance(i, Keep) for i in plan)
