"""Deploy planning for the local cloud: the stage model + the current stage -> instructions.

Pure: no database, no files, no processes. `deployer.py` reads the current stage from the state,
calls `plan_deploy`, and applies the instructions (deploy/instructions.py lists them in order);
`--plan` prints them and stops.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aloft.changes import environment_changes, value_change
from aloft.config.models import APP_FUNCTION, Function, Service
from aloft.local.deploy import instructions as i
from aloft.local.services.account import ACCOUNT, local_stage
from aloft.local.store.auth_records import api_auth_json, route_auth_json
from aloft.stage import Stage, records
from aloft.stage.functions import LAMBDA_VARIABLES
from aloft.stage.names import StageNames


@dataclass(frozen=True)
class CurrentFunction:
    version: int
    config_hash: str
    code_sha256: str = ""
    layer_sha256: str | None = None
    # what the version was published with (memory, timeout, concurrency, environment), so
    # that `--plan` shows what changes; None: not known
    settings: Mapping[str, Any] | None = None


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
    api_auth: dict[str, Any] | None = None  # the stage's authorizers, keys and plan, as stored


@dataclass(frozen=True)
class DesiredSchedule:
    name: str
    function: str  # logical
    physical: str
    expression: str
    input: str | None  # JSON text, or None for EventBridge's Scheduled Event shape
    kind: str  # "schedule" | "keep_warm"
    enabled: bool
    previous: str | None = None  # its name before the stage model named rules (legacy_rules)


def config_hash(fn: Function, code_sha256: str, layer_sha256: str | None, service: Service,
                name: str, platform: dict[str, Any] | None = None) -> str:
    """What makes a version: code, layer and every setting an instance sees (`platform`: what
    the platform adds to its environment, e.g. the port of the local Lambda endpoint)."""
    data = {
        "platform": _own_platform(platform or {}, fn.runtime),
        "code": code_sha256, "layer": layer_sha256, "handler": fn.handler, "name": name,
        "memory": fn.memory, "timeout": fn.timeout, "concurrency": fn.concurrency,
        "keep_alive": fn.keep_alive, "environment": fn.environment, "snapshot": fn.snapshot,
        "payload": fn.payload, "retries": fn.retries, "max_event_age": fn.max_event_age,
        "runtime": service.runtime,
    }
    # only when set: versions published before keep their hash
    if fn.provisioned_concurrency:
        data["provisioned"] = fn.provisioned_concurrency
    if fn.runtime and fn.runtime != service.runtime:  # the function's own Python
        data["own_runtime"] = fn.runtime
    if fn.snap_start:
        data["snap_start"] = True
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _own_platform(platform: dict[str, Any], version: str | None) -> dict[str, Any]:
    """`platform` with the runtime of a function of Python `version` alone (not the other
    Pythons of the deploy: adding one must not publish every function again)."""
    runtime = platform.get("runtime")
    if not isinstance(runtime, dict) or "versions" not in runtime:
        return platform
    own = runtime["versions"].get(version) if version else None
    return {**platform, "runtime": own or {k: runtime.get(k) for k in ("python", "layer")}}


def desired_routes(stage: Stage) -> list[dict[str, Any]]:
    """The stage's routes as the gateway keeps them. A route's own `cors:` is kept only when
    set (so that the routes of a stage without it compare as before)."""
    routes: list[dict[str, Any]] = []
    for r in stage.routes:
        route: dict[str, Any] = {"method": r.method, "path": r.path, "function": r.physical}
        if r.cors is not None:
            route["cors"] = r.cors
        if r.auth is not None:
            route["auth"] = route_auth_json(r.auth)
        routes.append(route)
    return routes


def desired_api_auth(stage: Stage) -> dict[str, Any] | None:
    """The stage's authorizers, API keys and usage plan as a deployment stores them; None when
    it has none (so that stages without them compare as before)."""
    a = stage.api_auth
    if not (a.authorizers or a.api_keys or a.usage_plan):
        return None
    return api_auth_json(a)


def api_auth_changes(stage: Stage, current: CurrentStage) -> list[i.Instruction]:
    wanted = desired_api_auth(stage)
    if wanted == current.api_auth:
        return []
    a = stage.api_auth
    summary = (f"{len(a.authorizers)} authorizer(s), {len(a.api_keys)} API key(s), "
               f"{'a' if a.usage_plan else 'no'} usage plan")
    return [i.ApiAuthChange(f"/{stage.service}/{stage.stage}", summary)]


def legacy_rules(service: Service) -> list[str | None]:
    """What the local cloud named each schedule before the stage model gave both providers one
    rule (`{function}`, then `{function}-2`, ... for unnamed ones), in the stage's order."""
    names = StageNames(service.service, service.stage, ACCOUNT)
    out: list[str | None] = []
    for name in service.all_function_names():
        found = [e.schedule for e in service.function(name).events if e.schedule is not None]
        for n, sched in enumerate(found, 1):
            out.append(None if sched.name else
                       names.physical(name if n == 1 else f"{name}-{n}"))
    return out


def desired_schedules(stage: Stage, service: Service | None = None) -> list[DesiredSchedule]:
    previous = legacy_rules(service) if service is not None else []
    return [DesiredSchedule(
        name=s.name, function=s.function, physical=s.physical, expression=s.expression,
        input=s.input, kind="keep_warm" if s.keep_warm else "schedule", enabled=s.enabled,
        previous=previous[n] if n < len(previous) else None,
    ) for n, s in enumerate(stage.schedules)]


def plan_deploy(
    service: Service, code_sha256: str, layer_sha256: str | None, current: CurrentStage,
    platform: dict[str, Any] | None = None, resources: list[dict[str, Any]] | None = None,
    *, stage: Stage | None = None,
) -> list[i.Instruction]:
    """The instructions that take the stage from `current` to `service` (`stage`: its stage
    model, the local one by default; `resources`: the declared resources, from
    services.resources.desired_resources; None leaves them alone)."""
    stage = stage or local_stage(service)
    plan: list[i.Instruction] = []
    if resources is not None:
        plan.extend(resource_changes(resources, current.resources))
    functions, alias = _function_changes(service, stage, code_sha256, layer_sha256, current,
                                         platform)
    plan += functions
    if stage.release and APP_FUNCTION in alias and any(isinstance(x, i.Publish)
                                                       for x in functions):
        app = stage.names.function(APP_FUNCTION)
        plan += [i.Release(c.command, app, alias[APP_FUNCTION]) for c in stage.release]
    for name in sorted(set(current.functions) - set(alias)):
        plan.append(i.Remove(name, stage.names.function(name),
                             current.functions[name].version))
    routes = desired_routes(stage)
    if routes != current.routes:
        plan.append(i.Routes(f"/{stage.service}/{stage.stage}", tuple(routes),
                             route_changes(current.routes, routes)))
    plan.extend(api_auth_changes(stage, current))
    plan.extend(schedule_changes(desired_schedules(stage, service), current.schedules))
    if not i.is_noop(plan) or not current.deployed:
        plan.append(i.SwitchAlias(stage.stage, alias))
    return plan


def _function_changes(
    service: Service, stage: Stage, code_sha256: str, layer_sha256: str | None,
    current: CurrentStage, platform: dict[str, Any] | None,
) -> tuple[list[i.Instruction], dict[str, int]]:
    """(Publish or Keep of each function, then the health checks; the versions to serve)."""
    plan: list[i.Instruction] = []
    checks: list[i.Instruction] = []
    alias: dict[str, int] = {}
    for fn in stage.functions:
        digest = config_hash(service.function(fn.name), code_sha256, layer_sha256, service,
                             fn.name, platform)
        now = current.functions.get(fn.name)
        if now is not None and now.config_hash == digest:
            plan.append(i.Keep(fn.name, fn.physical, now.version))
            alias[fn.name] = now.version
            continue
        version = current.latest.get(fn.physical, 0) + 1
        reason = "new function" if now is None else _change_reason(now, code_sha256,
                                                                   layer_sha256, fn)
        plan.append(i.Publish(fn.name, fn.physical, version, reason, digest))
        checks.append(i.HealthCheck(
            fn.name, fn.physical, version,
            service.effective_health_path if fn.name == APP_FUNCTION else None))
        alias[fn.name] = version
    return plan + checks, alias


def _change_reason(now: CurrentFunction, code_sha256: str, layer_sha256: str | None,
                   fn: records.Function) -> str:
    """Why a function gets a new version: code, dependencies, and each setting old → new."""
    reasons = []
    if now.code_sha256 != code_sha256:
        reasons.append("code changed")
    if now.layer_sha256 != layer_sha256:
        reasons.append("dependencies changed")
    if now.settings is not None:
        reasons += setting_changes(now.settings, fn)
    # nothing the config says: the platform's settings changed (its port)
    return "; ".join(reasons) or "configuration changed"


PLATFORM_ENVIRONMENT = frozenset({
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "ALOFT_BASE_PATH", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", *LAMBDA_VARIABLES,
})
"""What the platform, not the config, puts in a version's environment."""


def setting_changes(settings: Mapping[str, Any], fn: records.Function) -> list[str]:
    """Each setting of `fn` that differs from what the current version was published with."""
    out = [value_change(key, settings.get(key), getattr(fn, key))
           for key in ("memory", "timeout", "concurrency")
           if key in settings and settings.get(key) != getattr(fn, key)]
    old = {k: str(v) for k, v in (settings.get("environment") or {}).items()
           if k not in PLATFORM_ENVIRONMENT}
    new = {k: v for k, v in fn.environment if k not in PLATFORM_ENVIRONMENT}
    env = environment_changes(old, new)
    if env:
        out.append(f"environment {env}")
    return out


def route_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> str:
    """`+GET /a, ~POST /b, -GET /c`: the routes added, changed (function, CORS, auth), removed."""
    def key(route: dict[str, Any]) -> str:
        return f"{route['method']} {route['path']}"

    a, b = {key(x): x for x in old}, {key(x): x for x in new}
    out = [f"+{k}" for k in b if k not in a]
    out += [f"~{k}" for k in b if k in a and a[k] != b[k]]
    out += [f"-{k}" for k in a if k not in b]
    return ", ".join(out)


def schedule_changes(
    desired: list[DesiredSchedule], current: dict[str, CurrentSchedule]
) -> list[i.Instruction]:
    out: list[i.Instruction] = []
    wanted = {s.name: s for s in desired}
    renamed: set[str] = set()
    for name, sched in wanted.items():
        now = current.get(name)
        if now is None and sched.previous in current and sched.previous not in wanted:
            assert sched.previous is not None
            renamed.add(sched.previous)
            out.append(i.ScheduleRename(name, sched.physical, sched.expression, sched.kind,
                                        sched.input, sched.previous))
        elif now is None:
            out.append(i.ScheduleAdd(name, sched.physical, sched.expression, sched.kind,
                                     sched.input))
        elif (now.expression, now.input, now.function) != (
            sched.expression, sched.input, sched.physical
        ):
            out.append(i.ScheduleUpdate(name, sched.physical, sched.expression, sched.kind,
                                        sched.input))
    for name in sorted(set(current) - set(wanted) - renamed):
        out.append(i.ScheduleRemove(name, current[name].function))
    return out


def resource_changes(
    desired: list[dict[str, Any]], current: dict[str, dict[str, Any]]
) -> list[i.Instruction]:
    out: list[i.Instruction] = []
    wanted = {f"{r['kind']}:{r['physical']}": r for r in desired}
    for rid, res in wanted.items():
        now = current.get(rid)
        if now is None:
            out.append(i.ResourceAdd(rid, res))
        elif now.get("spec") != res["spec"]:
            out.append(i.ResourceUpdate(rid, res))
    for rid in sorted(set(current) - set(wanted)):
        out.append(i.ResourceRemove(rid, current[rid]))
    return out
