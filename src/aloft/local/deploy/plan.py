"""Deploy planning for the local cloud: desired service + current stage → instructions (data).

Pure: no database, no files, no processes. `deployer.py` reads the current stage from the state,
calls `plan_deploy`, and applies the instructions; `--plan` prints them and stops.

Instruction actions, in the order they are applied:
  publish        a function gets a new immutable version (new, code or configuration changed)
  keep           a function is unchanged and keeps its version
  health_check   a published version must initialise (and, for the app, answer its health path)
  remove         a function that is no longer in the config leaves the stage
  routes         the stage's HTTP routes (only when they change)
  schedule_add / schedule_update / schedule_remove
  switch_alias   the stage alias points at the new versions (one transaction)
  resource_add / resource_update   a declared resource is created / brought to its spec on the
                 local AWS endpoint (before the health checks: the new code may use it)
  resource_remove  a resource no longer declared is deleted (after the alias switch)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from aloft.config.models import APP_FUNCTION, Function, Service

KEEP_WARM_INPUT = {"aloft": "keep_warm"}
"""The event a keep-warm ping carries (the runtime answers it without calling user code)."""

Instruction = dict[str, Any]


@dataclass(frozen=True)
class CurrentFunction:
    version: int
    config_hash: str
    code_sha256: str = ""
    layer_sha256: str | None = None


@dataclass(frozen=True)
class CurrentSchedule:
    function: str
    expression: str
    input: str | None
    kind: str


@dataclass(frozen=True)
class CurrentStage:
    """What the state holds for one stage (empty for a first deploy)."""

    functions: dict[str, CurrentFunction] = field(default_factory=dict)  # logical name
    latest: dict[str, int] = field(default_factory=dict)  # physical -> highest version published
    routes: list[dict[str, Any]] = field(default_factory=list)
    schedules: dict[str, CurrentSchedule] = field(default_factory=dict)
    deployed: bool = False
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # "kind:physical" -> res


@dataclass(frozen=True)
class DesiredSchedule:
    name: str
    function: str  # logical
    physical: str
    expression: str
    input: str | None  # JSON text, or None for EventBridge's Scheduled Event shape
    kind: str  # "schedule" | "keep_warm"
    enabled: bool


def config_hash(fn: Function, code_sha256: str, layer_sha256: str | None, service: Service,
                name: str, platform: dict[str, Any] | None = None) -> str:
    """What makes a version: code, layer and every setting an instance sees (`platform`: what
    the platform adds to its environment, e.g. the port of the local Lambda endpoint)."""
    data = {
        "platform": platform or {},
        "code": code_sha256, "layer": layer_sha256, "handler": fn.handler, "name": name,
        "memory": fn.memory, "timeout": fn.timeout, "concurrency": fn.concurrency,
        "keep_alive": fn.keep_alive, "environment": fn.environment, "snapshot": fn.snapshot,
        "payload": fn.payload, "retries": fn.retries, "max_event_age": fn.max_event_age,
        "runtime": service.runtime,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def desired_routes(service: Service) -> list[dict[str, Any]]:
    """`http` events first (most specific), then the app's catch-all. A route's own `cors:` is
    kept only when set (so that the routes of a stage without it compare as before)."""
    routes: list[dict[str, Any]] = []
    for name in service.all_function_names():
        fn = service.function(name)
        for event in fn.events:
            if event.http is not None:
                route: dict[str, Any] = {"method": event.http.method, "path": event.http.path,
                                         "function": service.physical_name(name)}
                if event.http.cors is not None:
                    route["cors"] = event.http.cors
                routes.append(route)
    if service.has_app:
        app = service.physical_name(APP_FUNCTION)
        routes.append({"method": "ANY", "path": "/", "function": app})
        routes.append({"method": "ANY", "path": "/{proxy+}", "function": app})
    return routes


def desired_schedules(service: Service) -> list[DesiredSchedule]:
    out: list[DesiredSchedule] = []
    for name in service.all_function_names():
        fn = service.function(name)
        physical = service.physical_name(name)
        count = 0
        for event in fn.events:
            sched = event.schedule
            if sched is None:
                continue
            count += 1
            rule = sched.name or (name if count == 1 else f"{name}-{count}")
            out.append(DesiredSchedule(
                name=f"{service.service}-{service.stage}-{rule}", function=name,
                physical=physical, expression=sched.expression,
                input=None if sched.input is None else json.dumps(sched.input, sort_keys=True),
                # the keep-warm plugin's schedule (aloft.plugins.builtin.keep_warm) pings
                kind="keep_warm" if sched.input == KEEP_WARM_INPUT else "schedule",
                enabled=sched.enabled,
            ))
    return out


def plan_deploy(
    service: Service, code_sha256: str, layer_sha256: str | None, current: CurrentStage,
    platform: dict[str, Any] | None = None, resources: list[dict[str, Any]] | None = None,
) -> list[Instruction]:
    """The instructions that take the stage from `current` to `service` (`resources`: the
    declared resources, from services.resources.desired_resources; None leaves them alone)."""
    plan: list[Instruction] = []
    if resources is not None:
        plan.extend(resource_changes(resources, current.resources))
    checks: list[Instruction] = []
    alias: dict[str, int] = {}
    for name, fn in service.resolved_functions().items():
        physical = service.physical_name(name)
        digest = config_hash(fn, code_sha256, layer_sha256, service, name, platform)
        now = current.functions.get(name)
        if now is not None and now.config_hash == digest:
            plan.append({"action": "keep", "name": name, "function": physical,
                         "version": now.version})
            alias[name] = now.version
            continue
        version = current.latest.get(physical, 0) + 1
        reason = "new function" if now is None else _change_reason(now, code_sha256, layer_sha256)
        plan.append({"action": "publish", "name": name, "function": physical,
                     "version": version, "reason": reason, "config_hash": digest})
        checks.append({"action": "health_check", "name": name, "function": physical,
                       "version": version,
                       "path": service.effective_health_path if name == APP_FUNCTION else None})
        alias[name] = version
    plan.extend(checks)
    for name in sorted(set(current.functions) - set(alias)):
        plan.append({"action": "remove", "name": name, "function": service.physical_name(name),
                     "version": current.functions[name].version})
    routes = desired_routes(service)
    if routes != current.routes:
        plan.append({"action": "routes", "name": f"/{service.service}/{service.stage}",
                     "routes": routes})
    plan.extend(_schedule_changes(desired_schedules(service), current.schedules))
    if not is_noop(plan) or not current.deployed:
        plan.append({"action": "switch_alias", "name": service.stage, "functions": alias})
    return plan


def _change_reason(now: CurrentFunction, code_sha256: str, layer_sha256: str | None) -> str:
    if now.code_sha256 != code_sha256:
        return "code changed"
    if now.layer_sha256 != layer_sha256:
        return "dependencies changed"
    return "configuration changed"  # the config's settings, or the platform's (its port)


def _schedule_changes(
    desired: list[DesiredSchedule], current: dict[str, CurrentSchedule]
) -> list[Instruction]:
    out: list[Instruction] = []
    wanted = {s.name: s for s in desired}
    for name, sched in wanted.items():
        entry = {"name": name, "function": sched.physical, "expression": sched.expression,
                 "kind": sched.kind}
        if sched.input is not None:
            entry["input"] = sched.input
        now = current.get(name)
        if now is None:
            out.append({"action": "schedule_add", **entry})
        elif (now.expression, now.input, now.function) != (
            sched.expression, sched.input, sched.physical
        ):
            out.append({"action": "schedule_update", **entry})
    for name in sorted(set(current) - set(wanted)):
        out.append({"action": "schedule_remove", "name": name,
                    "function": current[name].function})
    return out


def resource_changes(
    desired: list[dict[str, Any]], current: dict[str, dict[str, Any]]
) -> list[Instruction]:
    out: list[Instruction] = []
    wanted = {f"{r['kind']}:{r['physical']}": r for r in desired}
    for rid, res in wanted.items():
        now = current.get(rid)
        if now is None:
            out.append({"action": "resource_add", "name": rid, "resource": res})
        elif now.get("spec") != res["spec"]:
            out.append({"action": "resource_update", "name": rid, "resource": res})
    for rid in sorted(set(current) - set(wanted)):
        out.append({"action": "resource_remove", "name": rid, "resource": current[rid]})
    return out


def is_noop(plan: list[Instruction]) -> bool:
    return all(i["action"] == "keep" for i in plan)
