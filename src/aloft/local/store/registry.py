"""What is deployed, in memory: the gateway's `Registry`, built from the state and swapped whole.

A `Snapshot` is immutable; a deploy, rollback or undeploy builds a new one from the database
after its transaction committed and replaces the reference in one assignment. A request that
already resolved its FunctionVersion keeps it, so in-flight requests finish on the old version.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aloft.local.store.auth_records import api_auth_from_json, route_auth_from_json
from aloft.local.store.state import Deployment, State
from aloft.local.types import LOCALHOST, CorsPolicy, FunctionVersion, Route, StageRoutes

API_AUTH_KEY = "api_auth"
"""A deployment's `extra` key: its stage's authorizers, API keys and usage plan (as planned)."""
API_KEY_VALUES_KEY = "api_key_values"
"""A deployment's `extra` key: each API key's value (declared, or derived by the local cloud)."""
CONCURRENCY_KEY = "concurrency"
"""A deployment's `extra` key: reserved concurrency set through Lambda's API (physical name ->
a number, or None for none), over what the versions were published with."""
PROVISIONED_KEY = "provisioned"
"""A deployment's `extra` key: provisioned concurrency set through Lambda's API (physical name
-> a number, 0 for none), over what the versions were published with."""


@dataclass(frozen=True)
class StageInfo:
    routes: StageRoutes
    deployment: Deployment
    functions: dict[str, FunctionVersion]  # logical name -> current version


@dataclass(frozen=True)
class Snapshot:
    stages: dict[str, StageInfo] = field(default_factory=dict)  # base path -> stage
    hosts: dict[str, StageInfo] = field(default_factory=dict)  # host key (`dev.shop`) -> stage
    current: dict[str, FunctionVersion] = field(default_factory=dict)  # physical -> version
    versions: dict[tuple[str, int], FunctionVersion] = field(default_factory=dict)
    stage_of: dict[str, tuple[str, str]] = field(default_factory=dict)  # physical -> stage
    async_config: dict[str, tuple[int, int]] = field(default_factory=dict)  # retries, max age
    # physical -> (on_success, on_failure, dead_letter) ARNs: where its async invocations'
    # records go, and its failed events themselves (Lambda's DeadLetterConfig)
    destinations: dict[str, tuple[str | None, ...]] = field(default_factory=dict)


def cors_policy(data: dict[str, Any] | None) -> CorsPolicy | None:
    if not data:
        return None
    return CorsPolicy(
        origins=tuple(data.get("origins", ("*",))),
        methods=tuple(data.get("methods", ("*",))),
        headers=tuple(data.get("headers", ("*",))),
        expose_headers=tuple(data.get("expose_headers", ())),
        credentials=bool(data.get("credentials", False)),
        max_age=int(data.get("max_age", 600)),
    )


def _route_cors(route: dict[str, Any]) -> bool | None:
    """A route's own `cors:` (stored only when set; the JSON says true or false)."""
    value: object = route.get("cors")
    return value if isinstance(value, bool) else None


def stage_routes(dep: Deployment) -> StageRoutes:
    return StageRoutes(
        service=dep.service,
        stage=dep.stage,
        routes=tuple(Route(r["method"], r["path"], r["function"], _route_cors(r),
                           route_auth_from_json(r.get("auth")))
                     for r in dep.routes),
        cors=cors_policy(dep.cors),
        static_path=dep.static_path,
        static_dir=Path(dep.static_dir) if dep.static_dir else None,
        api_auth=api_auth_from_json(dep.extra.get(API_AUTH_KEY)),
        api_key_values=dict(dep.extra.get(API_KEY_VALUES_KEY) or {}),
    )


def load_snapshot(state: State) -> Snapshot:
    """Read every stage's current deployment and the versions its history refers to."""
    snap = Snapshot()
    for service, stage in state.stages():
        dep = state.current_deployment(service, stage)
        if dep is None:
            continue
        functions: dict[str, FunctionVersion] = {}
        reserved: dict[str, int | None] = dict(dep.extra.get(CONCURRENCY_KEY) or {})
        provisioned: dict[str, int] = dict(dep.extra.get(PROVISIONED_KEY) or {})
        for name, version in dep.functions.items():
            physical = dep.physical[name]
            rec = state.version(physical, version)
            if rec is None:
                continue
            fv = _tuned(rec.fv, reserved, provisioned)
            functions[name] = fv
            snap.current[physical] = fv
            snap.stage_of[physical] = (service, stage)
        for past in state.deployments(service, stage):
            for name, version in past.functions.items():
                physical = past.physical[name]
                key = (physical, version)
                if key not in snap.versions:
                    rec = state.version(physical, version)
                    if rec is not None:
                        snap.versions[key] = _tuned(rec.fv, reserved, provisioned)
        for physical, settings in dep.extra.get("async", {}).items():
            # + on_success, on_failure and dead_letter since the local cloud applies them
            retries, max_age, *targets = settings
            snap.async_config[physical] = (int(retries), int(max_age))
            if any(targets):
                snap.destinations[physical] = tuple((targets + [None] * 3)[:3])
        routes = stage_routes(dep)
        info = StageInfo(routes, dep, functions)
        snap.stages[routes.base_path] = info
        snap.hosts.setdefault(routes.host.removesuffix(LOCALHOST), info)
    return snap


def _tuned(fv: FunctionVersion, reserved: dict[str, int | None], provisioned: dict[str, int]
           ) -> FunctionVersion:
    """`fv` with the reserved and provisioned concurrency set through Lambda's API, if any
    (settings of the function and of its alias, not of a version: every version the alias
    may point at gets them)."""
    if fv.function in reserved:
        fv = replace(fv, concurrency=reserved[fv.function])
    if fv.function in provisioned:
        fv = replace(fv, provisioned=int(provisioned[fv.function] or 0))
    return fv


class LocalRegistry:
    """Implements `aloft.local.types.Registry` over the current snapshot."""

    def __init__(self, snapshot: Snapshot | None = None):
        self._snap = snapshot or Snapshot()
        # Versions a deploy published that answer their health check before any alias points
        # at them: invokable by number meanwhile (a task the checked request sends, on a
        # stage's first deploy, goes to the version running it; aloft.runtime.tasks).
        self._checking: dict[tuple[str, int], FunctionVersion] = {}

    @property
    def snapshot(self) -> Snapshot:
        return self._snap

    def swap(self, snapshot: Snapshot) -> None:
        self._snap = snapshot  # one reference assignment: readers see old or new, never a mix

    def checking(self, versions: list[FunctionVersion]) -> None:
        """`versions` are being health-checked: Invoke finds them by number until `checked`."""
        self._checking.update({(fv.function, fv.version): fv for fv in versions})

    def checked(self, versions: list[FunctionVersion]) -> None:
        for fv in versions:
            self._checking.pop((fv.function, fv.version), None)

    # -- Registry ---------------------------------------------------------------

    def stage_for_path(self, path: str) -> tuple[StageRoutes, str] | None:
        stages = self._snap.stages
        parts = path.split("/", 3)  # "", service, stage, rest
        if len(parts) < 3:
            return None
        info = stages.get(f"/{parts[1]}/{parts[2]}")
        if info is None:
            return None
        rest = "/" + parts[3] if len(parts) > 3 else "/"
        return info.routes, rest

    def stage_for_host(self, key: str) -> StageRoutes | None:
        info = self._snap.hosts.get(key)
        return info.routes if info is not None else None

    def current(self, function: str) -> FunctionVersion | None:
        return self._snap.current.get(function)

    def stages(self) -> list[StageRoutes]:
        return [info.routes for info in self._snap.stages.values()]

    # -- the control plane's lookups -------------------------------------------------

    def stage(self, service: str, stage: str) -> StageInfo | None:
        return self._snap.stages.get(f"/{service}/{stage}")

    def resolve(self, function: str, qualifier: str | None) -> FunctionVersion | None:
        """`function` at `qualifier`: None, `$LATEST` or its stage alias name → the alias's
        version; digits → that published version."""
        snap = self._snap
        current = snap.current.get(function)
        if qualifier in (None, "", "$LATEST"):
            return current
        assert qualifier is not None
        if qualifier.isdigit():
            key = (function, int(qualifier))
            return snap.versions.get(key) or self._checking.get(key)
        owner = snap.stage_of.get(function)
        if owner is not None and owner[1] == qualifier:
            return current
        return None
