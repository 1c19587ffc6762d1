"""A deploy's checks of its new versions, before the stage alias points at them, in three
phases: every new version must initialise; then the `release:` commands run in the app's
version, in order; then the app must answer its health path (aloft.health decides what the
answer means: a 5xx fails, except on a stage's first deploy). Failing, the new versions'
instances are stopped and the stage keeps serving what it served."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aloft.config.models import Service
from aloft.errors import DeployError, Location
from aloft.health import (
    FAILURE_FIX,
    HealthAnswer,
    Verdict,
    failure_message,
    http_status,
    payload_text,
    unhealthy_warning,
)
from aloft.health import verdict as health_verdict
from aloft.init_report import init_report_for
from aloft.local.deploy import instructions as i
from aloft.local.instances.pool import InstancePool
from aloft.local.store.registry import LocalRegistry
from aloft.local.types import FunctionVersion, InvokeResult
from aloft.stage.records import ReleaseCommand
from aloft.stage.release import release_failure, release_output

HEALTH_CHECK_PARALLEL = 4
"""Instances started at once (each is a process importing the code)."""


@dataclass
class Checked:
    """What the checks leave for the deploy's answer."""

    warnings: list[str] = field(default_factory=list)
    release: list[dict[str, str]] = field(default_factory=list)  # {command, output}
    passed: list[dict[str, Any]] = field(default_factory=list)  # {function, version, check}


class HealthChecks:
    def __init__(self, pool: InstancePool, registry: LocalRegistry,
                 health_event: Callable[[FunctionVersion, str], bytes] | None) -> None:
        self.pool = pool
        self.registry = registry
        self.health_event = health_event

    async def run(self, service: Service, checks: list[i.HealthCheck],
                  versions: dict[str, FunctionVersion], *, first_deploy: bool = False,
                  release: Iterable[tuple[ReleaseCommand, FunctionVersion]] = ()) -> Checked:
        """Every phase; DeployError (or cancellation) after stopping the instances of every
        new version (`versions`: physical name -> the new version). `first_deploy`: the stage
        serves nothing yet; `release`: each command with the app version it runs in."""
        out = Checked()
        try:
            await self._each(checks, lambda x: self.initialised(service, versions[x.function],
                                                                x.name))
            for command, fv in release:
                out.release.append(await self.release(service, command, fv))
            await self._each(checks, lambda x: self.answered(
                service, versions[x.function], x.name, x.path, first_deploy, out))
        except (DeployError, asyncio.CancelledError):  # failed, or called off (Ctrl-C)
            for fv in versions.values():  # the new versions' instances: none serves
                serving = self.registry.current(fv.function)
                await asyncio.shield(self.pool.retire(
                    fv.function, {serving.version} if serving else set()))
            raise
        return out

    @staticmethod
    async def _each(checks: list[i.HealthCheck],
                    run: Callable[[i.HealthCheck], Awaitable[None]]) -> None:
        """`run` for every check, a few at a time; the first failure is raised."""
        gate = asyncio.Semaphore(HEALTH_CHECK_PARALLEL)

        async def one(x: i.HealthCheck) -> None:
            async with gate:
                await run(x)

        outcomes = await asyncio.gather(*(one(x) for x in checks), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def initialised(self, service: Service, fv: FunctionVersion, name: str) -> None:
        init: InvokeResult = await self.pool.prewarm(fv)
        if init.status == "ok":
            return
        report = await asyncio.to_thread(
            init_report_for, service, name, init.payload, [fv.code_dir])
        raise DeployError(
            f"version {fv.version} of {name!r} failed to initialise; {self._still(fv)}",
            where=Location(function=name, stage=service.stage),
            detail=report.detail() if report else payload_text(init.payload),
            fix=report.fix if report and report.fix
            else "fix the error above (try `aloft invoke --local`) and deploy again",
        )

    async def release(self, service: Service, command: ReleaseCommand,
                      fv: FunctionVersion) -> dict[str, str]:
        """Run one `release:` command in `fv`: {command, output}, or a DeployError."""
        result: InvokeResult = await self.pool.invoke(fv, json.dumps(command.event).encode())
        payload: Any = None
        with contextlib.suppress(ValueError):
            payload = json.loads(result.payload)
        output = release_output(payload)
        why = (payload_text(result.payload) if result.status != "ok"
               else release_failure(payload))
        if why is not None:
            raise DeployError(
                f"release command `{command.command}` failed in version {fv.version} "
                f"({why}); {self._still(fv)}",
                where=Location(stage=service.stage, key_path="release"),
                detail=output.strip()[-3000:] or None,
                fix=f"fix it and deploy again (`aloft invoke {service.stage} --raw ...` runs "
                    "code in the serving version)",
            )
        return {"command": command.command, "output": output}

    async def answered(self, service: Service, fv: FunctionVersion, name: str,
                       path: str | None, first_deploy: bool, out: Checked) -> None:
        """The app's answer to its health path, judged by aloft.health (a version without a
        path passed when it initialised)."""
        if path is None or self.health_event is None:
            out.passed.append({"function": name, "version": fv.version, "check": "initialised"})
            return
        result: InvokeResult = await self.pool.invoke(fv, self.health_event(fv, path))
        status = http_status(result.payload) if result.status == "ok" else None
        answer = HealthAnswer(name, fv.version, path, status, payload_text(result.payload))
        judged = health_verdict(answer, first_deploy=first_deploy)
        if judged is Verdict.HEALTHY:
            out.passed.append({"function": name, "version": fv.version,
                               "check": f"GET {path} answered {status}"})
        elif judged is Verdict.PUBLISHED_UNHEALTHY:
            out.warnings.append(unhealthy_warning(answer, service.stage))
        elif judged is Verdict.FAILED:
            raise DeployError(failure_message(answer, self._still(fv)),
                              where=Location(function=name, stage=service.stage),
                              fix=FAILURE_FIX)

    def _still(self, fv: FunctionVersion) -> str:
        """What serves after a failed check: true for a first deploy as for a later one."""
        serving = self.registry.current(fv.function)
        return "the previous version keeps serving" if serving is not None \
            else "nothing was deployed"

