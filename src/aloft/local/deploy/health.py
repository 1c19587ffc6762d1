"""Health checks of a deploy's new versions: each must initialise, and the app must answer its
health path without a 5xx, before the stage alias points at it. Failing, the new versions'
instances are stopped and the stage keeps serving what it served."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from aloft.config.models import Service
from aloft.errors import DeployError, Location
from aloft.init_report import init_report_for
from aloft.local.deploy import instructions as i
from aloft.local.instances.pool import InstancePool
from aloft.local.store.registry import LocalRegistry
from aloft.local.types import FunctionVersion, InvokeResult

HEALTH_CHECK_PARALLEL = 4
"""Instances started at once (each is a process importing the code)."""


class HealthChecks:
    def __init__(self, pool: InstancePool, registry: LocalRegistry,
                 health_event: Callable[[FunctionVersion, str], bytes] | None) -> None:
        self.pool = pool
        self.registry = registry
        self.health_event = health_event

    async def run(self, service: Service, checks: list[i.HealthCheck],
                  versions: dict[str, FunctionVersion]) -> None:
        """Every check, a few at a time; DeployError (or cancellation) after stopping the
        instances of every new version (`versions`: physical name -> the new version)."""
        gate = asyncio.Semaphore(HEALTH_CHECK_PARALLEL)

        async def check(x: i.HealthCheck) -> None:
            async with gate:
                await self.check(service, versions[x.function], x.name, x.path)

        try:
            outcomes = await asyncio.gather(*(check(x) for x in checks),
                                            return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
        except (DeployError, asyncio.CancelledError):  # failed, or called off (Ctrl-C)
            for fv in versions.values():  # the new versions' instances: none serves
                serving = self.registry.current(fv.function)
                await asyncio.shield(self.pool.retire(
                    fv.function, {serving.version} if serving else set()))
            raise

    async def check(self, service: Service, fv: FunctionVersion, name: str,
                    path: str | None) -> None:
        where = Location(function=name, stage=service.stage)
        init: InvokeResult = await self.pool.prewarm(fv)
        if init.status != "ok":
            report = await asyncio.to_thread(
                init_report_for, service, name, init.payload, [fv.code_dir])
            raise DeployError(
                f"version {fv.version} of {name!r} failed to initialise; {self._still(fv)}",
                where=where,
                detail=report.detail() if report else payload_text(init.payload),
                fix=report.fix if report and report.fix
                else "fix the error above (try `aloft invoke --local`) and deploy again",
            )
        if path is None or self.health_event is None:
            return
        result: InvokeResult = await self.pool.invoke(fv, self.health_event(fv, path))
        status = http_status(result)
        if result.status != "ok" or status is None or status >= 500:
            raise DeployError(
                f"version {fv.version} of {name!r} failed its health check (GET {path} "
                f"answered {status if status is not None else result.status}); "
                f"{self._still(fv)}:\n{payload_text(result.payload)}",
                where=where,
                fix="fix the error above, or set `health_path` (or `local.health_path`) to a "
                "path that answers without a 5xx, and deploy again",
            )

    def _still(self, fv: FunctionVersion) -> str:
        """What serves after a failed check: true for a first deploy as for a later one."""
        serving = self.registry.current(fv.function)
        return "the previous version keeps serving" if serving is not None \
            else "nothing was deployed"


def http_status(result: InvokeResult) -> int | None:
    try:
        data = json.loads(result.payload)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("statusCode"), int):
        return int(data["statusCode"])
    return None


def payload_text(payload: bytes) -> str:
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
