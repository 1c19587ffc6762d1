"""Applying deploys, rollbacks and undeploys on the local cloud (the shell around plan.py).

A deploy: read the stage from the state → plan → publish versions (FunctionVersion with its
full Lambda environment) → start an instance of each and health-check it → record everything and
switch the alias in one SQLite transaction → swap the in-memory registry → retire instances of
versions no longer current (in-flight requests finish on them first). Any failure before the
transaction leaves the stage exactly as it was.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aloft.config.models import Function, Service
from aloft.config.unresolved import text_environment
from aloft.errors import DeployError, Location, NotDeployedError, UsageError
from aloft.init_report import init_report_for
from aloft.local.deploy.cancellable import CancellableDeploys
from aloft.local.deploy.plan import (
    CurrentFunction,
    CurrentSchedule,
    CurrentStage,
    Instruction,
    desired_schedules,
    is_noop,
    plan_deploy,
)
from aloft.local.deploy.poller_plan import source_changes
from aloft.local.instances.pool import InstancePool
from aloft.local.services.auth import (
    Statement,
    function_access_key,
    function_grants,
    grant_changes,
)
from aloft.local.services.resources import desired_resources, local_names, resource_id
from aloft.local.services.resources import ensure as ensure_resource
from aloft.local.services.resources import remove as remove_resource
from aloft.local.services.supervisor import AwsEndpoint
from aloft.local.store.artifacts import ArtifactStore
from aloft.local.store.registry import LocalRegistry, load_snapshot
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
from aloft.local.types import FunctionVersion, InvokeResult
from aloft.naming import resource_environment

log = logging.getLogger("aloft.local.deployer")

REGION = "us-east-1"
HEALTH_CHECK_PARALLEL = 4
KEEP_DEPLOYMENTS = 10
"""Deployments kept per stage for `rollback`; older ones, their versions and artifacts go."""


def stage_url(port: int, service: str, stage: str) -> str:
    return f"http://127.0.0.1:{port}/{service}/{stage}/"


def function_environment(
    service: Service, name: str, fn: Function, version: int, port: int, code_dir: Path,
    aws: dict[str, str] | None = None,
) -> dict[str, str]:
    """What an instance's os.environ holds: the config's variables plus Lambda's own. `aws`:
    AWS_ENDPOINT_URL, the ALOFT_<KIND>_<NAME> resource variables and the version's own
    credentials, by which the local AWS endpoint knows its grants."""
    physical = service.physical_name(name)
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    env = {
        # Dummy credentials so that boto3 (and @task's SigV4) work against the local endpoints;
        # the config may override them.
        "AWS_ACCESS_KEY_ID": "aloft-local",
        "AWS_SECRET_ACCESS_KEY": "aloft-local",
        "AWS_SESSION_TOKEN": "aloft-local",
        **(aws or {}),
        **text_environment(fn.environment),
        "AWS_LAMBDA_FUNCTION_NAME": physical,
        "AWS_LAMBDA_FUNCTION_VERSION": str(version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{physical}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{day}/[{version}]{uuid.uuid4().hex}",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{service.runtime}",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "LAMBDA_RUNTIME_DIR": str(code_dir),
        "TZ": ":UTC",
        "ALOFT_FUNCTION": name,
        "ALOFT_BASE_PATH": f"/{service.service}/{service.stage}",
        "AWS_ENDPOINT_URL_LAMBDA": f"http://127.0.0.1:{port}",
    }
    return env


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
            functions[name] = CurrentFunction(version, rec.config_hash, rec.code_sha256,
                                              rec.layer_sha256)
        latest[physical] = state.latest_version(physical)
    resources = {resource_id(r): r for r in dep.extra.get("resources") or []}
    return CurrentStage(functions=functions, latest=latest, routes=dep.routes,
                        schedules=schedules, deployed=True, resources=resources)


def _latest_for(state: State, service: Service, current: CurrentStage) -> CurrentStage:
    """Add the highest published version of functions that are new to this deployment (a
    function removed and added again continues its numbering)."""
    latest = dict(current.latest)
    for name in service.all_function_names():
        physical = service.physical_name(name)
        if physical not in latest:
            latest[physical] = state.latest_version(physical)
    return CurrentStage(current.functions, latest, current.routes, current.schedules,
                        current.deployed, current.resources)


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
        self.health_event = health_event
        self.clock = clock
        self._lock = asyncio.Lock()
        self._retiring: set[asyncio.Future[Any]] = set()
        self.deploys = CancellableDeploys()

    async def reload(self) -> None:
        self.registry.swap(await asyncio.to_thread(load_snapshot, self.state))
        if self.endpoint is not None:
            await self.endpoint.set_grants(await asyncio.to_thread(all_grants, self.state))
        if self.on_change is not None:
            await self.on_change()

    def _aws(self, service: Service) -> tuple[dict[str, str] | None, list[dict[str, Any]] | None]:
        """(the AWS part of every function's environment, the declared resources)."""
        if self.endpoint is None:
            return None, None
        names = local_names(service, self.endpoint.url)
        env = {"AWS_ENDPOINT_URL": self.endpoint.url, **resource_environment(service, names)}
        return env, desired_resources(service, names)

    # -- deploy ---------------------------------------------------------------

    async def deploy(
        self, service: Service, code_sha256: str, layer_sha256: str | None, *,
        plan_only: bool = False, deploy_id: str | None = None, dev: bool = False,
    ) -> dict[str, Any]:
        """Plan and apply; with a `deploy_id` the CLI may call it off until the switch
        (`cancel`). `dev`: a reload of `aloft dev`, which replaces the stage's current
        deployment when that one was made by `aloft dev` too (its versions go, numbers are never
        reused), so that saves do not push real deployments out of the kept history."""
        return await self.deploys.run(deploy_id, self._deploy(
            service, code_sha256, layer_sha256, plan_only=plan_only, deploy_id=deploy_id,
            dev=dev))

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
        plan_only: bool, deploy_id: str | None, dev: bool,
    ) -> dict[str, Any]:
        async with self._lock:
            current = await asyncio.to_thread(
                current_stage, self.state, service.service, service.stage
            )
            current = await asyncio.to_thread(_latest_for, self.state, service, current)
            aws_env, resources = self._aws(service)
            platform: dict[str, Any] = {"port": self.port}
            if aws_env is not None:
                platform["aws"] = aws_env
            plan = plan_deploy(service, code_sha256, layer_sha256, current,
                               platform=platform, resources=resources)
            if self.endpoint is not None:
                dep = await asyncio.to_thread(
                    self.state.current_deployment, service.service, service.stage)
                plan = grant_changes(plan, service.stage, self._grants(service, plan),
                                     dep.extra.get("grants") or {} if dep else {})
            prev = self.registry.stage(service.service, service.stage)
            plan = source_changes(plan, service.stage, bindings_json(service),
                                  prev.deployment.extra.get(SOURCES_KEY, []) if prev else [])
            self._schedule_records(service, self.clock())  # report bad expressions, even --plan
            url = stage_url(self.port, service.service, service.stage)
            # No change: the serving deployment already has this artifact and configuration
            # (every function keeps its version; routes, schedules, resources, grants and
            # event sources are the same): no version is published, the alias stays.
            unchanged = is_noop(plan) and current.deployed
            if plan_only or unchanged:
                dep = await asyncio.to_thread(
                    self.state.current_deployment, service.service, service.stage
                )
                return {"url": url, "version": dep.number if dep else 0,
                        "functions": dict(dep.functions) if dep else {},
                        "schedules": [s.name for s in desired_schedules(service)],
                        "plan": plan, "changed": not unchanged}
            return await self._apply(service, code_sha256, layer_sha256, plan, url, aws_env,
                                     resources, deploy_id=deploy_id, dev=dev)

    async def _apply(
        self, service: Service, code_sha256: str, layer_sha256: str | None,
        plan: list[Instruction], url: str, aws_env: dict[str, str] | None = None,
        resources: list[dict[str, Any]] | None = None, *, deploy_id: str | None = None,
        dev: bool = False,
    ) -> dict[str, Any]:
        for sha in filter(None, (code_sha256, layer_sha256)):
            if not self.store.has(sha):
                raise DeployError(
                    f"artifact {sha[:12]}… was not uploaded to the local cloud",
                    fix="run the deploy again", where=Location(stage=service.stage),
                )
        timings: dict[str, float] = {}
        mark = time.perf_counter()
        code_dir = await asyncio.to_thread(self.store.unpacked, code_sha256)
        layer_dir = None
        if layer_sha256:
            layer_root = await asyncio.to_thread(self.store.unpacked, layer_sha256)
            layer_dir = layer_root / "python" if (layer_root / "python").is_dir() else layer_root
        published: list[VersionRecord] = []
        now = self.clock()
        for step in plan:
            if step["action"] != "publish":
                continue
            name = step["name"]
            fn = service.function(name)
            fv = FunctionVersion(
                function=step["function"], version=step["version"], code_dir=code_dir,
                layer_dir=layer_dir, memory=fn.memory or 512, timeout=fn.timeout or 30,
                concurrency=fn.concurrency, keep_alive=fn.keep_alive or 0,
                environment=function_environment(
                    service, name, fn, step["version"], self.port, code_dir,
                    None if aws_env is None or self.endpoint is None else {
                        **aws_env,
                        **self.endpoint.function_credentials(step["function"],
                                                             step["version"])},
                ),
                snapshot=bool(fn.snapshot), payload=fn.payload,
            )
            published.append(VersionRecord(fv, step["config_hash"], code_sha256, layer_sha256,
                                           now))
        by_physical = {rec.fv.function: rec.fv for rec in published}
        schedules = self._schedule_records(service, now)  # a bad expression fails here, early
        timings["unpack_ms"], mark = (time.perf_counter() - mark) * 1000, time.perf_counter()
        await self._ensure_resources(service, plan)  # before the new code runs: it may use them
        grants = self._grants(service, plan) if self.endpoint is not None else {}
        if self.endpoint is not None:  # the new versions' keys work from their health check on
            current_grants = await asyncio.to_thread(all_grants, self.state)
            await self.endpoint.set_grants(
                {**current_grants, **{k: (f, s) for k, (f, s) in grants.items()}})
        if any(step["action"].startswith("resource_") for step in plan):
            timings["resources_ms"] = (time.perf_counter() - mark) * 1000
            mark = time.perf_counter()
        # Instances start in parallel (a few at a time: each is a process importing the code).
        gate = asyncio.Semaphore(HEALTH_CHECK_PARALLEL)

        async def check(step: Instruction) -> None:
            async with gate:
                await self._health_check(service, by_physical[step["function"]], step["name"],
                                         step.get("path"))

        checks = [check(step) for step in plan if step["action"] == "health_check"]
        try:
            outcomes = await asyncio.gather(*checks, return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
        except (DeployError, asyncio.CancelledError):  # failed, or called off (Ctrl-C)
            for fv in by_physical.values():  # the new versions' instances: none serves
                await asyncio.shield(
                    self.pool.retire(fv.function, self._serving_versions(fv.function)))
            raise
        timings["health_ms"], mark = (time.perf_counter() - mark) * 1000, time.perf_counter()
        # The point of no return: no await since the health checks, none before the mark.
        self.deploys.switching(deploy_id)
        dep = self._deployment(service, plan, url, schedules)
        if resources is not None:
            dep.extra["resources"] = resources
            dep.extra["grants"] = grants
        prev = self.registry.stage(service.service, service.stage)
        replaced = prev.deployment if dev and prev and prev.deployment.extra.get("dev") else None
        if dev:
            dep.extra["dev"] = True
        stored = await asyncio.to_thread(self.state.record_deployment, dep, published, schedules)
        dropped: set[str] = set()
        if replaced is not None:  # after the switch: the replaced one served until then
            dropped = await asyncio.to_thread(
                self.state.forget, service.service, service.stage, replaced.id)
        await self.reload()
        timings["switch_ms"] = (time.perf_counter() - mark) * 1000
        pruned = await asyncio.to_thread(
            self.state.prune, service.service, service.stage, KEEP_DEPLOYMENTS)
        if pruned:
            await self.reload()  # the snapshot lists rollback targets: drop the pruned ones
        if dropped or pruned:
            await self._remove_artifacts(dropped | pruned)
        for step in plan:
            if step["action"] == "publish":
                await self._retire(step["function"], {step["version"]})
            elif step["action"] == "remove":
                await self._retire(step["function"], set())
        await self._remove_resources([s["resource"] for s in plan
                                      if s["action"] == "resource_remove"])
        return {"url": url, "version": stored.number, "functions": dict(stored.functions),
                "schedules": [s.name for s in schedules], "plan": plan, "changed": True,
                "replaced": replaced.number if replaced is not None else None,
                "timings_ms": {k: round(v, 1) for k, v in timings.items()}}

    async def _remove_artifacts(self, candidates: set[str]) -> list[str]:
        keep = await asyncio.to_thread(self.state.referenced_artifacts)
        return await asyncio.to_thread(self.store.remove, candidates, keep)

    def _serving_versions(self, physical: str) -> set[int]:
        fv = self.registry.current(physical)
        return {fv.version} if fv else set()

    async def _retire(self, physical: str, keep: set[int]) -> None:
        """Stop old instances in the background: retiring waits for their in-flight requests,
        which must not delay the deploy's answer."""
        task = asyncio.ensure_future(self.pool.retire(physical, keep))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _health_check(
        self, service: Service, fv: FunctionVersion, name: str, path: str | None
    ) -> None:
        where = Location(function=name, stage=service.stage)
        init: InvokeResult = await self.pool.prewarm(fv)
        if init.status != "ok":
            report = await asyncio.to_thread(
                init_report_for, service, name, init.payload, [fv.code_dir])
            raise DeployError(
                f"version {fv.version} of {name!r} failed to initialise; {self._still(fv)}",
                where=where,
                detail=report.detail() if report else _payload_text(init.payload),
                fix=report.fix if report and report.fix
                else "fix the error above (try `aloft invoke --local`) and deploy again",
            )
        if path is None or self.health_event is None:
            return
        result: InvokeResult = await self.pool.invoke(fv, self.health_event(fv, path))
        status = _http_status(result)
        if result.status != "ok" or status is None or status >= 500:
            raise DeployError(
                f"version {fv.version} of {name!r} failed its health check (GET {path} "
                f"answered {status if status is not None else result.status}); "
                f"{self._still(fv)}:\n{_payload_text(result.payload)}",
                where=where,
                fix="fix the error above, or set `health_path` (or `local.health_path`) to a "
                "path that answers without a 5xx, and deploy again",
            )

    def _still(self, fv: FunctionVersion) -> str:
        """What serves after a failed check: true for a first deploy as for a later one."""
        serving = self.registry.current(fv.function)
        return "the previous version keeps serving" if serving is not None \
            else "nothing was deployed"

    def _deployment(self, service: Service, plan: list[Instruction], url: str,
                    schedules: list[ScheduleRecord]) -> Deployment:
        alias = next(i["functions"] for i in plan if i["action"] == "switch_alias")
        routes = next((i["routes"] for i in plan if i["action"] == "routes"), None)
        if routes is None:
            prev = self.registry.stage(service.service, service.stage)
            routes = prev.deployment.routes if prev else []
        cors = service.cors
        static_path = static_dir = None
        if service.static is not None:
            directory = (service.root / service.static.directory).resolve()
            if directory.is_dir():  # served from the project, like `aloft invoke --local`
                static_path, static_dir = service.static.path, str(directory)
        return Deployment(
            id=0, service=service.service, stage=service.stage, number=0,
            functions=dict(alias),
            physical={name: service.physical_name(name) for name in alias},
            routes=routes,
            cors=cors.model_dump(exclude={"enabled"}) if cors.enabled else None,
            static_path=static_path, static_dir=static_dir, url=url,
            extra={"async": {
                service.physical_name(name): [fn.retries, fn.max_event_age]
                for name, fn in service.resolved_functions().items()
            }, SOURCES_KEY: bindings_json(service)},  # event sources follow the deployment
            schedules=tuple(DeployedSchedule(s.name, s.function, s.expression, s.input, s.kind,
                                             s.enabled) for s in schedules),
        )

    def _schedule_records(self, service: Service, now: float) -> list[ScheduleRecord]:
        out = []
        moment = datetime.fromtimestamp(now, UTC)
        for s in desired_schedules(service):
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
                            "version": current.number, "functions": dict(current.functions),
                            "schedules": [r.name for r in live], "plan": [],
                            "changed": False}
            else:
                ids = [d.id for d in history]
                index = ids.index(current.id) - steps
                if index < 0:
                    raise DeployError(
                        f"cannot roll back {steps} version(s): stage {stage!r} is at version "
                        f"{current.number}, the oldest kept is {history[0].number}",
                        where=Location(stage=stage),
                        fix=f"pass a smaller -n, or --to VERSION (kept: "
                            f"{_numbers(history)})",
                    )
                target = history[index]
            restore = (None if target.schedules is None
                       else _restored_schedules(service, stage, target.schedules, self.clock()))
            rules = await asyncio.to_thread(self.state.roll_back, service, stage, target.id,
                                            restore, current)
            await self.reload()  # the registry serves the target; the scheduler looks again
            for name, physical in current.physical.items():
                keep = {target.functions[name]} if name in target.functions else set()
                if current.functions.get(name) not in keep:
                    await self._retire(physical, keep)
            plan: list[Instruction] = []
            if restore is None:
                note = (f"version {target.number} was deployed before aloft recorded schedules "
                        "per deployment: the stage's schedules were left as they are")
                log.warning("%s %s: %s", service, stage, note)
                plan.append({"action": "schedules_kept", "name": stage, "note": note})
            return {"url": stage_url(self.port, service, stage),
                    "version": target.number, "functions": dict(target.functions),
                    "schedules": [r.name for r in rules], "plan": plan, "changed": True}

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

    async def _ensure_resources(self, service: Service, plan: list[Instruction]) -> None:
        steps = [s for s in plan if s["action"] in ("resource_add", "resource_update")]
        if not steps or self.endpoint is None:
            return
        await self.endpoint.ready()
        for step in steps:
            res = step["resource"]
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

    def _grants(self, service: Service, plan: list[Instruction]) -> dict[str, Any]:
        """access key id -> [physical function, statements] for the plan's versions."""
        names = local_names(service, self.endpoint.url if self.endpoint else "")
        out: dict[str, Any] = {}
        for step in plan:
            if step["action"] not in ("publish", "keep"):
                continue
            name, physical, version = step["name"], step["function"], step["version"]
            out[function_access_key(physical, version)] = [
                physical, function_grants(service, name, service.function(name), names)]
        return out


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


def _http_status(result: InvokeResult) -> int | None:
    try:
        data = json.loads(result.payload)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("statusCode"), int):
        return int(data["statusCode"])
    return None


def _payload_text(payload: bytes) -> str:
    try:
        data = json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")
    if isinstance(data, dict) and "errorMessage" in data:
        trace = data.get("stackTrace") or []
        lines = [str(x) for x in trace] if isinstance(trace, list) else [str(trace)]
        return "\n".join([*lines, f"{data.get('errorType', 'Error')}: {data['errorMessage']}"])
    if isinstance(data, dict) and "body" in data:
        return str(data["body"])[:4000]
    return json.dumps(data)[:4000]


