"""Applying deploys, rollbacks and undeploys on the local cloud (the shell around plan.py).

A deploy: the stage model (aloft.stage) of the service in the local account → read the stage
from the state → plan → create the declared resources → publish versions (FunctionVersion with
its full Lambda environment, deploy/versions.py) → start an instance of each and health-check it
→ record everything and switch the alias in one SQLite transaction → swap the in-memory
registry → retire instances of versions no longer current (in-flight requests finish on them
first). Any failure before the transaction leaves the stage exactly as it was.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aloft.config.models import Service
from aloft.errors import DeployError, Location, NotDeployedError, UsageError
from aloft.local.deploy import instructions as i
from aloft.local.deploy.apply import Applying, applying
from aloft.local.deploy.cancellable import CancellableDeploys
from aloft.local.deploy.health import HealthChecks
from aloft.local.deploy.plan import (
    CurrentFunction,
    CurrentSchedule,
    CurrentStage,
    desired_api_auth,
    desired_schedules,
    plan_deploy,
)
from aloft.local.deploy.recorded import grant_changes, source_changes
from aloft.local.deploy.versions import check_placeholders, function_version, local_values
from aloft.local.instances import isolation
from aloft.local.instances.pool import InstancePool
from aloft.local.services.account import local_stage
from aloft.local.services.auth import Statement, function_access_key, function_grants
from aloft.local.services.eventbridge import EXTRA_KEY as RULES_KEY
from aloft.local.services.eventbridge import rules_json
from aloft.local.services.resources import desired_resources, resource_id
from aloft.local.services.resources import ensure as ensure_resource
from aloft.local.services.resources import remove as remove_resource
from aloft.local.services.supervisor import AwsEndpoint
from aloft.local.store.artifacts import ArtifactStore
from aloft.local.store.auth_records import api_key_values
from aloft.local.store.registry import (
    API_AUTH_KEY,
    API_KEY_VALUES_KEY,
    LocalRegistry,
    load_snapshot,
)
from aloft.local.store.state import (
    DeployedSchedule,
    Deployment,
    ScheduleRecord,
    State,
    VersionRecord,
)
from aloft.local.triggers.pollers.bindings import EXTRA_KEY as SOURCES_KEY
from aloft.local.triggers.pollers.bindings import bindings_json
from aloft.local.triggers.schedules import schedule_next_fire
from aloft.local.types import FunctionVersion, Runtime, stage_host_url, stage_path_url
from aloft.stage import Stage
from aloft.stage.records import ReleaseCommand
from aloft.stage.resources import environment as resource_environment

log = logging.getLogger("aloft.local.deployer")

KEEP_DEPLOYMENTS = 10
"""Deployments kept per stage for `rollback`; older ones, their versions and artifacts go."""

PROJECT_KEY = "project"
"""The deployment's record of the directory it was deployed from (`Service.root`)."""


def stage_url(port: int, service: str, stage: str) -> str:
    """The stage's URL under the path prefix (any HTTP client reaches 127.0.0.1)."""
    return stage_path_url(port, service, stage)


def stage_urls(port: int, service: str, stage: str) -> list[str]:
    """Where the stage answers: its own host first (the app at the root), then the prefix."""
    return [stage_host_url(port, service, stage), stage_path_url(port, service, stage)]


def current_stage(state: State, service: str, stage: str) -> CurrentStage:
    dep = state.current_deployment(service, stage)
    schedules = {
        s.name: CurrentSchedule(s.function, s.expression, s.input, s.kind)
        for s in state.schedules(service, stage)
    }
    if dep is None:
        return CurrentStage(schedules=schedules)
    functions: dict[str, CurrentFunction] = {}
    latest: dict[str, int] = {}
    for name, version in dep.functions.items():
        physical = dep.physical[name]
        rec = state.version(physical, version)
        if rec is not None:
            fv = rec.fv
            functions[name] = CurrentFunction(
                version, rec.config_hash, rec.code_sha256, rec.layer_sha256,
                {"memory": fv.memory, "timeout": fv.timeout, "concurrency": fv.concurrency,
                 "environment": dict(fv.environment)})
        latest[physical] = state.latest_version(physical)
    resources = {resource_id(r): r for r in dep.extra.get("resources") or []}
    return CurrentStage(functions=functions, latest=latest, routes=dep.routes,
                        schedules=schedules, deployed=True, resources=resources,
                        api_auth=dep.extra.get(API_AUTH_KEY))


def _latest_for(state: State, stage: Stage, current: CurrentStage) -> CurrentStage:
    """Add the highest published version of functions that are new to this deployment (a
    function removed and added again continues its numbering)."""
    latest = dict(current.latest)
    for fn in stage.functions:
        if fn.physical not in latest:
            latest[fn.physical] = state.latest_version(fn.physical)
    return CurrentStage(current.functions, latest, current.routes, current.schedules,
                        current.deployed, current.resources, current.api_auth)


@dataclass(frozen=True)
class _Job:
    """One deploy being applied: what it deploys, and its plan."""

    service: Service
    stage: Stage
    code_sha256: str
    layer_sha256: str | None
    plan: list[i.Instruction]
    url: str
    aws_env: dict[str, str] | None
    resources: list[dict[str, Any]] | None
    deploy_id: str | None
    dev: bool
    health_check: bool = True  # False: `--no-health-check`
    runtime: Runtime = field(default_factory=lambda: Runtime())


class Deployer:
    def __init__(
        self,
        state: State,
        store: ArtifactStore,
        pool: InstancePool,
        registry: LocalRegistry,
        *,
        port: int,
        on_change: Callable[[], Awaitable[None]] | None = None,
        health_event: Callable[[FunctionVersion, str], bytes] | None = None,
        clock: Callable[[], float] = time.time,
        endpoint: AwsEndpoint | None = None,
    ):
        self.endpoint = endpoint
        self.state = state
        self.store = store
        self.pool = pool
        self.registry = registry
        self.port = port
        self.on_change = on_change
        self.health = HealthChecks(pool, registry, health_event)
        self.clock = clock
        self._lock = asyncio.Lock()
        self._retiring: set[asyncio.Future[Any]] = set()
        self.deploys = CancellableDeploys()

    async def reload(self) -> None:
        snapshot = await asyncio.to_thread(load_snapshot, self.state)
        isolation.hide_projects(str(info.deployment.extra[PROJECT_KEY])
                                for info in snapshot.stages.values()
                                if info.deployment.extra.get(PROJECT_KEY))
        self.registry.swap(snapshot)
        if self.endpoint is not None:
            await self.endpoint.set_grants(await asyncio.to_thread(all_grants, self.state))
        if self.on_change is not None:
            await self.on_change()

    def stage_of(self, service: Service, *, tasks: bool = True) -> Stage:
        """The stage model of `service` on this local cloud (queue URLs at its endpoint)."""
        return local_stage(service, self.endpoint.url if self.endpoint else None, tasks=tasks)

    def _aws(self, stage: Stage) -> tuple[dict[str, str] | None, list[dict[str, Any]] | None]:
        """(what the AWS endpoint adds to every function's environment, the declared
        resources); None, None without an endpoint."""
        if self.endpoint is None:
            return None, None
        env = {"AWS_ENDPOINT_URL": self.endpoint.url,
               **resource_environment(stage.resources)}
        return env, desired_resources(stage)

    # -- deploy ---------------------------------------------------------------

    async def deploy(
        self, service: Service, code_sha256: str, layer_sha256: str | None, *,
        plan_only: bool = False, deploy_id: str | None = None, dev: bool = False,
        tasks: bool = True, health_check: bool = True, runtime: Runtime | None = None,
    ) -> dict[str, Any]:
        """Plan and apply; with a `deploy_id` the CLI may call it off until the switch
        (`cancel`). `dev`: a reload of `aloft dev`, which replaces the stage's current
        deployment when that one was made by `aloft dev` too (its versions go, numbers are never
        reused), so that saves do not push real deployments out of the kept history. `tasks`:
        whether the code calls `@aloft.task` (aloft.package's manifest says). `health_check`
        False: the new versions serve without being checked (`--no-health-check`). `runtime`:
        the interpreter and Lambda's runtime layer the CLI chose (default: the daemon's Python,
        no layer)."""
        return await self.deploys.run(deploy_id, self._deploy(
            service, code_sha256, layer_sha256, plan_only=plan_only, deploy_id=deploy_id,
            dev=dev, tasks=tasks, health_check=health_check, runtime=runtime or Runtime()))

    async def cancel(self, deploy_id: str, service: str, stage: str) -> dict[str, Any]:
        """Call off deploy `deploy_id` if it has not switched the alias yet (else wait for it):
        how it ended, and what the stage serves now (checked in the state, not assumed)."""
        outcome = await self.deploys.cancel(deploy_id)
        current = await asyncio.to_thread(self.state.current_deployment, service, stage)
        history = await asyncio.to_thread(self.state.deployments, service, stage)
        return {"outcome": outcome.state, "version": outcome.version,
                "serving": current.number if current else 0,
                "next": max((d.number for d in history), default=0) + 1}

    async def _deploy(
        self, service: Service, code_sha256: str, layer_sha256: str | None, *,
        plan_only: bool, deploy_id: str | None, dev: bool, tasks: bool, health_check: bool,
        runtime: Runtime,
    ) -> dict[str, Any]:
        async with self._lock:
            stage = self.stage_of(service, tasks=tasks)
            check_placeholders(stage)
            current = await asyncio.to_thread(
                current_stage, self.state, service.service, service.stage
            )
            current = await asyncio.to_thread(_latest_for, self.state, stage, current)
            dep = await asyncio.to_thread(
                self.state.current_deployment, service.service, service.stage)
            plan = self._plan(service, stage, code_sha256, layer_sha256, current, dep, runtime)
            self._schedule_records(service, stage, self.clock())  # bad expressions, --plan too
            url = stage_url(self.port, service.service, service.stage)
            # No change: the serving deployment already has this artifact and configuration
            # (every function keeps its version; routes, schedules, resources, grants and
            # event sources are the same): no version is published, the alias stays.
            unchanged = i.is_noop(plan) and current.deployed
            if plan_only or unchanged:
                return {"url": url, "urls": stage_urls(self.port, service.service,
                                                       service.stage),
                        "version": dep.number if dep else 0,
                        "functions": dict(dep.functions) if dep else {},
                        "schedules": [s.name for s in stage.schedules],
                        "plan": i.describe(plan), "changed": not unchanged}
            aws_env, resources = self._aws(stage)
            return await self._apply(_Job(service, stage, code_sha256, layer_sha256, plan,
                                          url, aws_env, resources, deploy_id, dev,
                                          health_check, runtime))

    def _plan(self, service: Service, stage: Stage, code_sha256: str,
              layer_sha256: str | None, current: CurrentStage,
              dep: Deployment | None, runtime: Runtime) -> list[i.Instruction]:
        aws_env, resources = self._aws(stage)
        platform: dict[str, Any] = {"port": self.port}
        if runtime != Runtime():  # another interpreter or layer: new versions
            platform["runtime"] = runtime.as_json()
        if aws_env is not None:
            platform["aws"] = aws_env
        plan = plan_deploy(service, code_sha256, layer_sha256, current, platform=platform,
                           resources=resources, stage=stage)
        if self.endpoint is not None:
            plan = grant_changes(plan, service.stage, self._grants(stage, plan),
                                 dep.extra.get("grants") or {} if dep else {})
        prev = self.registry.stage(service.service, service.stage)
        return source_changes(plan, service.stage, bindings_json(stage),
                              prev.deployment.extra.get(SOURCES_KEY, []) if prev else [])

    async def _apply(self, job: _Job) -> dict[str, Any]:
        service = job.service
        for sha in filter(None, (job.code_sha256, job.layer_sha256)):
            if not self.store.has(sha):
                raise DeployError(
                    f"artifact {sha[:12]}… was not uploaded to the local cloud",
                    fix="run the deploy again", where=Location(stage=service.stage),
                )
        work = applying(job.plan)
        timings: dict[str, float] = {}
        mark = time.perf_counter()
        code_dir, layer_dir = await self._unpack(job)
        now = self.clock()
        schedules = self._schedule_records(service, job.stage, now)  # bad expressions: early
        timings["unpack_ms"], mark = (time.perf_counter() - mark) * 1000, time.perf_counter()
        await self._ensure_resources(service, work.ensure)  # before the new code runs
        grants = self._grants(job.stage, job.plan) if self.endpoint is not None else {}
        if self.endpoint is not None:  # the new versions' keys work from their health check on
            current_grants = await asyncio.to_thread(all_grants, self.state)
            await self.endpoint.set_grants({**current_grants, **grants})
        if work.changes_resources:
            timings["resources_ms"] = (time.perf_counter() - mark) * 1000
            mark = time.perf_counter()
        published = await self._versions(job, work, code_dir, layer_dir, now)
        if isolation.hide_projects([service.root]):  # before its new code first runs; the
            self.pool.renarrow()  # processes running saw the project: they are replaced
        new = {r.fv.function: r.fv for r in published}
        first = self.registry.stage(service.service, service.stage) is None
        self.registry.checking(list(new.values()))  # until the alias points at them, or never
        try:
            checked = await self.health.run(service, work.checks if job.health_check else [],
                                            new, first_deploy=first,
                                            release=self._release(job, work, new))
            timings["health_ms"], mark = (time.perf_counter() - mark) * 1000, time.perf_counter()
            # The point of no return: no await since the health checks, none before the mark.
            self.deploys.switching(job.deploy_id)
            stored, replaced = await self._switch(job, work, published, schedules, grants)
        finally:
            self.registry.checked(list(new.values()))
        timings["switch_ms"] = (time.perf_counter() - mark) * 1000
        await self._clean_up(job, work, replaced)
        return {"url": job.url, "urls": stage_urls(self.port, service.service, service.stage),
                "version": stored.number, "functions": dict(stored.functions),
                "schedules": [s.name for s in schedules], "plan": i.describe(job.plan),
                "changed": True, "replaced": replaced.number if replaced is not None else None,
                "warnings": checked.warnings + unseen_paths(job.stage),
                "release": checked.release,
                "health": checked.passed, "unchecked": not job.health_check,
                "timings_ms": {k: round(v, 1) for k, v in timings.items()}}

    def _release(self, job: _Job, work: Applying, new: dict[str, FunctionVersion]
                 ) -> list[tuple[ReleaseCommand, FunctionVersion]]:
        """Each `release:` command with the app version it runs in (the one about to serve:
        new, or kept when only another function changed)."""
        out = []
        commands = {c.command: c for c in job.stage.release}
        for x in work.release:
            fv = new.get(x.function) or self.registry.snapshot.versions.get(
                (x.function, x.version))
            if fv is None:  # the plan names a version that neither exists nor is new
                raise DeployError(f"version {x.version} of the app is not known",
                                  where=Location(stage=job.stage.stage),
                                  fix="deploy again")
            out.append((commands[x.name], fv))
        return out

    async def _unpack(self, job: _Job) -> tuple[Path, Path | None]:
        code_dir = await asyncio.to_thread(self.store.unpacked, job.code_sha256)
        if not job.layer_sha256:
            return code_dir, None
        layer_root = await asyncio.to_thread(self.store.unpacked, job.layer_sha256)
        return code_dir, layer_root / "python" if (layer_root / "python").is_dir() \
            else layer_root

    async def _versions(self, job: _Job, work: Applying, code_dir: Path,
                        layer_dir: Path | None, now: float) -> list[VersionRecord]:
        """The published versions, their environment filled with the local values of what
        exists once deployed (the tables' stream ARNs: the tables exist by now)."""
        streams = await self._stream_arns(job.stage) if work.publish else {}
        known = local_values(job.stage, job.url, streams)
        out: list[VersionRecord] = []
        for x in work.publish:
            aws = None
            if job.aws_env is not None and self.endpoint is not None:
                aws = {**job.aws_env,
                       **self.endpoint.function_credentials(x.function, x.version)}
            fn = job.stage.function(x.name)
            fv = function_version(job.stage, fn, x.version, self.port, code_dir, layer_dir, aws,
                                  known, job.runtime.of(fn.runtime),
                                  job.service.effective_health_path)
            out.append(VersionRecord(fv, x.config_hash, job.code_sha256, job.layer_sha256,
                                     now))
        return out

    async def _switch(
        self, job: _Job, work: Applying, published: list[VersionRecord],
        schedules: list[ScheduleRecord], grants: dict[str, tuple[str, list[Statement]]],
    ) -> tuple[Deployment, Deployment | None]:
        """Record the deployment and point the alias at it (one transaction); (the stored
        deployment, the `aloft dev` one it replaced)."""
        service = job.service
        dep = self._deployment(job, work, schedules)
        if job.resources is not None:
            dep.extra["resources"] = job.resources
            dep.extra["grants"] = {k: [f, s] for k, (f, s) in grants.items()}
        prev = self.registry.stage(service.service, service.stage)
        replaced = prev.deployment if job.dev and prev and prev.deployment.extra.get("dev") \
            else None
        if job.dev:
            dep.extra["dev"] = True
        renames = {x.name: x.renamed_from for x in job.plan
                   if isinstance(x, i.ScheduleRename) and x.renamed_from}
        stored = await asyncio.to_thread(self.state.record_deployment, dep, published, schedules,
                                         renames)
        dropped: set[str] = set()
        if replaced is not None:  # after the switch: the replaced one served until then
            dropped = await asyncio.to_thread(
                self.state.forget, service.service, service.stage, replaced.id)
        await self.reload()
        pruned = await asyncio.to_thread(
            self.state.prune, service.service, service.stage, KEEP_DEPLOYMENTS)
        if pruned:
            await self.reload()  # the snapshot lists rollback targets: drop the pruned ones
        if dropped or pruned:
            await self._remove_artifacts(dropped | pruned)
        return stored, replaced

    async def _clean_up(self, job: _Job, work: Applying, replaced: Deployment | None) -> None:
        """After the switch: old instances retire, undeclared resources go."""
        for x in work.publish:
            await self._retire(x.function, {x.version})
        for r in work.removed:
            await self._retire(r.function, set())
        await self._remove_resources(work.drop)

    async def _remove_artifacts(self, candidates: set[str]) -> list[str]:
        keep = await asyncio.to_thread(self.state.referenced_artifacts)
        return await asyncio.to_thread(self.store.remove, candidates, keep)

    async def _retire(self, physical: str, keep: set[int]) -> None:
        """Stop old instances in the background: retiring waits for their in-flight requests,
        which must not delay the deploy's answer."""
        task = asyncio.ensure_future(self.pool.retire(physical, keep))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    def _deployment(self, job: _Job, work: Applying,
                    schedules: list[ScheduleRecord]) -> Deployment:
        service, stage = job.service, job.stage
        assert work.alias is not None  # every applied plan switches the alias
        routes = work.routes
        if routes is None:
            prev = self.registry.stage(service.service, service.stage)
            routes = prev.deployment.routes if prev else []
        cors = service.cors
        static_path = static_dir = None
        if stage.static is not None:
            directory = Path(stage.static.directory).resolve()
            if directory.is_dir():  # served from the project, like `aloft invoke --local`
                static_path, static_dir = stage.static.path, str(directory)
        dep = Deployment(
            id=0, service=service.service, stage=service.stage, number=0,
            functions=dict(work.alias),
            physical={name: stage.names.function(name) for name in work.alias},
            routes=routes,
            cors=cors.model_dump(exclude={"enabled"}) if cors.enabled else None,
            static_path=static_path, static_dir=static_dir, url=job.url,
            extra={"async": {
                fn.physical: [fn.async_settings.retries, fn.async_settings.max_event_age,
                              fn.async_settings.on_success, fn.async_settings.on_failure,
                              fn.dead_letter]
                for fn in stage.functions
            }, SOURCES_KEY: bindings_json(stage),  # event sources follow the deployment
                RULES_KEY: rules_json(stage),
                PROJECT_KEY: str(service.root)},  # hidden from functions (isolation.py)
            schedules=tuple(DeployedSchedule(s.name, s.function, s.expression, s.input, s.kind,
                                             s.enabled) for s in schedules),
        )
        auth = desired_api_auth(stage)
        if auth is not None:
            dep.extra[API_AUTH_KEY] = auth
            known = prev.routes.api_key_values if (
                prev := self.registry.stage(service.service, service.stage)) else {}
            dep.extra[API_KEY_VALUES_KEY] = api_key_values(stage.api_auth.api_keys, known)
        return dep

    def _schedule_records(self, service: Service, stage: Stage,
                          now: float) -> list[ScheduleRecord]:
        out = []
        moment = datetime.fromtimestamp(now, UTC)
        for s in desired_schedules(stage):
            nxt = schedule_next_fire(s.expression, moment, anchor=moment).timestamp()
            out.append(ScheduleRecord(
                name=s.name, service=service.service, stage=service.stage, function=s.physical,
                expression=s.expression, input=s.input, kind=s.kind, enabled=s.enabled,
                anchor=now, next_fire=nxt if s.enabled else None,
            ))
        return out

    # -- rollback and undeploy -------------------------------------------------------

    async def rollback(self, service: str, stage: str, steps: int = 1, *,
                       to: int | None = None) -> dict[str, Any]:
        """Serve the deployment `steps` before the current one, or version `to`."""
        async with self._lock:
            history = await asyncio.to_thread(self.state.deployments, service, stage)
            current = await asyncio.to_thread(self.state.current_deployment, service, stage)
            if current is None:
                raise NotDeployedError(f"{service} stage {stage!r} is not deployed",
                                       fix=f"aloft deploy {stage}")
            if to is not None:
                target = rollback_target(history, to, stage)
                if target.id == current.id:  # nothing to do: say so, change nothing
                    live = await asyncio.to_thread(self.state.schedules, service, stage)
                    return {"url": stage_url(self.port, service, stage),
                            "urls": stage_urls(self.port, service, stage),
                            "version": current.number, "functions": dict(current.functions),
                            "schedules": [r.name for r in live], "plan": [],
                            "changed": False}
            else:
                target = _steps_back(history, current, steps, stage)
            restore = (None if target.schedules is None
                       else _restored_schedules(service, stage, target.schedules, self.clock()))
            rules = await asyncio.to_thread(self.state.roll_back, service, stage, target.id,
                                            restore, current)
            await self.reload()  # the registry serves the target; the scheduler looks again
            for name, physical in current.physical.items():
                keep = {target.functions[name]} if name in target.functions else set()
                if current.functions.get(name) not in keep:
                    await self._retire(physical, keep)
            plan: list[i.Instruction] = []
            if restore is None:
                note = (f"version {target.number} was deployed before aloft recorded schedules "
                        "per deployment: the stage's schedules were left as they are")
                log.warning("%s %s: %s", service, stage, note)
                plan.append(i.SchedulesKept(stage, note))
            return {"url": stage_url(self.port, service, stage),
                    "urls": stage_urls(self.port, service, stage),
                    "version": target.number, "functions": dict(target.functions),
                    "schedules": [r.name for r in rules], "plan": i.describe(plan),
                    "changed": True}

    async def amend(self, service: str, stage: str, key: str,
                    update: Callable[[Any], Any]) -> Deployment:
        """Tune the stage's current deployment without a deploy (Lambda's API: reserved
        concurrency, async settings, event source mappings): `extra[key]` becomes
        `update(extra.get(key))`, then the platform reloads. The next deploy that changes
        the stage starts again from the config, as a CloudFormation update does."""
        async with self._lock:
            current = await asyncio.to_thread(self.state.current_deployment, service, stage)
            if current is None:
                raise NotDeployedError(f"{service} stage {stage!r} is not deployed",
                                       fix=f"aloft deploy {stage}")
            value = update(current.extra.get(key))
            await asyncio.to_thread(self.state.amend_extra, current.id, key, value)
            await self.reload()
            amended = await asyncio.to_thread(self.state.current_deployment, service, stage)
            assert amended is not None
            return amended

    async def undeploy(self, service: str, stage: str) -> dict[str, Any]:
        async with self._lock:
            history = await asyncio.to_thread(self.state.deployments, service, stage)
            if not history:
                raise NotDeployedError(f"{service} stage {stage!r} is not deployed",
                                       fix=f"aloft deploy {stage}")
            physical = sorted({p for d in history for p in d.physical.values()})
            used = await asyncio.to_thread(self.state.artifacts_of, physical)
            doomed = {resource_id(r): r for d in history
                      for r in d.extra.get("resources") or []}
            await asyncio.to_thread(self.state.remove_stage, service, stage, physical)
            await self.reload()
            await self._remove_resources(list(doomed.values()))
            for fn in physical:
                await self._retire(fn, set())
            removed = await self._remove_artifacts(used)
            return {"functions": physical, "artifacts_removed": removed}

    # -- resources and grants on the local AWS endpoint -------------------------------------

    async def _ensure_resources(self, service: Service, resources: list[dict[str, Any]]
                                ) -> None:
        if not resources or self.endpoint is None:
            return
        await self.endpoint.ready()
        for res in resources:
            try:
                await asyncio.to_thread(ensure_resource, self.endpoint.client, res, service)
            except Exception as exc:  # botocore's errors: say which resource, keep the stage
                raise DeployError(
                    f"creating {res['kind']} {res['physical']!r} on the local AWS endpoint "
                    f"failed: {exc}; the previous version keeps serving",
                    where=Location(stage=service.stage,
                                   key_path=f"resources.{res['kind']}s.{res['key']}"),
                    fix="check the resource's settings and deploy again",
                ) from None

    async def _remove_resources(self, resources: list[dict[str, Any]]) -> None:
        if not resources or self.endpoint is None:
            return
        await self.endpoint.ready()
        for res in reversed(resources):  # sources before the dead-letter queues they name
            try:
                await asyncio.to_thread(remove_resource, self.endpoint.client, res)
            except Exception as exc:
                log.warning("removing %s %s failed: %s", res["kind"], res["physical"], exc)

    async def _stream_arns(self, stage: Stage) -> dict[str, str]:
        """Table name -> latest stream ARN, of the declared tables with a stream."""
        tables = [t.name for t in stage.resources.tables if t.stream]
        if not tables or self.endpoint is None:
            return {}
        endpoint = self.endpoint

        def read() -> dict[str, str]:
            ddb = endpoint.client("dynamodb")
            out: dict[str, str] = {}
            for name in tables:
                arn = ddb.describe_table(TableName=name)["Table"].get("LatestStreamArn")
                if arn:
                    out[name] = str(arn)
            return out

        return await asyncio.to_thread(read)

    def _grants(self, stage: Stage, plan: list[i.Instruction]
                ) -> dict[str, tuple[str, list[Statement]]]:
        """access key id -> (physical function, statements) for the plan's versions."""
        out: dict[str, tuple[str, list[Statement]]] = {}
        for x in plan:
            if isinstance(x, i.Publish | i.Keep):
                out[function_access_key(x.function, x.version)] = (
                    x.function, function_grants(stage.function(x.name)))
        return out


def _steps_back(history: list[Deployment], current: Deployment, steps: int,
                stage: str) -> Deployment:
    ids = [d.id for d in history]
    index = ids.index(current.id) - steps
    if index < 0:
        raise DeployError(
            f"cannot roll back {steps} version(s): stage {stage!r} is at version "
            f"{current.number}, the oldest kept is {history[0].number}",
            where=Location(stage=stage),
            fix=f"pass a smaller -n, or --to VERSION (kept: {_numbers(history)})",
        )
    return history[index]


def rollback_target(history: list[Deployment], version: int, stage: str) -> Deployment:
    """The kept deployment numbered `version`; the error lists the kept ones."""
    for dep in history:
        if dep.number == version:
            return dep
    raise UsageError(
        f"no version {version} to roll back to",
        where=Location(stage=stage),
        fix=f"versions kept: {_numbers(history)} (`aloft status {stage}` lists them)")


def _numbers(history: list[Deployment]) -> str:
    return ", ".join(str(d.number) for d in history) or "none"


def _restored_schedules(
    service: str, stage: str, schedules: tuple[DeployedSchedule, ...], now: float
) -> list[ScheduleRecord]:
    """A rollback target's schedules as live rules whose next fire counts from now (a rule that
    did not exist in between is not fired for that time; the state keeps the fire times of a
    rule that did not change)."""
    moment = datetime.fromtimestamp(now, UTC)
    return [ScheduleRecord(
        name=s.name, service=service, stage=stage, function=s.function,
        expression=s.expression, input=s.input, kind=s.kind, enabled=s.enabled, anchor=now,
        next_fire=(schedule_next_fire(s.expression, moment, anchor=moment).timestamp()
                   if s.enabled else None),
    ) for s in schedules]


def all_grants(state: State) -> dict[str, tuple[str, list[Statement]]]:
    """Every kept deployment's grants (a rollback target's versions keep theirs)."""
    out: dict[str, tuple[str, list[Statement]]] = {}
    for service, stage in state.stages():
        for dep in state.deployments(service, stage):
            for key, (function, statements) in (dep.extra.get("grants") or {}).items():
                out[key] = (str(function), list(statements))
    return out


def unseen_paths(stage: Stage) -> list[str]:
    """Warnings for environment values that name a file or directory of this machine which
    the stage's functions cannot see (in the user's home, say: `DATABASE_URL=sqlite:////home/
    me/shop/dev.db`), where the function would fail at run time on a bare ENOENT or EACCES."""
    found = isolation.current()
    return [warning for fn in stage.functions for warning in found.unseen_warnings(
        fn.name, fn.environment, "`aloft cloud stop`, then `ALOFT_SANDBOX_SHARE={folder} aloft "
        "deploy`")]
