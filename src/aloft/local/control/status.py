"""`aloft status STAGE` on the local cloud: URL, versions, alias, functions, schedules, metrics."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aloft import errors
from aloft.local.deploy.deployer import stage_url

if TYPE_CHECKING:
    from aloft.local.control.platform import Platform


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


async def stage_status(p: Platform, service: str, stage: str) -> dict[str, Any]:
    info = p.registry.stage(service, stage)
    if info is None:
        raise errors.NotDeployedError(f"{service} stage {stage!r} is not deployed",
                                      fix=f"aloft deploy {stage}")
    dep = info.deployment
    history = await asyncio.to_thread(p.state.deployments, service, stage)
    rules = await asyncio.to_thread(p.state.schedules, service, stage)
    instances: dict[str, int] = p.pool.instances()
    functions = []
    for name, fv in sorted(info.functions.items()):
        metrics = p.pool.metrics.summary(fv.function)
        functions.append({
            "function": name, "physical": fv.function, "version": fv.version,
            "memory": fv.memory, "timeout": fv.timeout,
            "instances": instances.get(fv.function, 0),
            # The last hour. `errors`: the function failed (Lambda's Errors); 4xx and 5xx: the
            # HTTP answers (API Gateway's 4XXError, 5XXError), so a Flask 500 is a 5xx.
            "invocations": metrics.get("invocations", 0), "errors": metrics.get("errors", 0),
            "4xx": metrics.get("4xx", 0), "5xx": metrics.get("5xx", 0),
            "throttles": metrics.get("throttles", 0), "cold_starts": metrics.get("cold_starts", 0),
            "p50_ms": metrics.get("p50_ms"), "p99_ms": metrics.get("p99_ms"),
        })
    if any(fv.provisioned for fv in info.functions.values()):  # initialised / requested
        for row, fv in zip(functions, (fv for _, fv in sorted(info.functions.items())),
                           strict=True):
            row["provisioned"] = "-" if not fv.provisioned else \
                f"{p.pool.provisioned(fv)[1]}/{fv.provisioned}"
    physical = [fv.function for fv in info.functions.values()]
    newest = max((d.number for d in history), default=dep.number)
    alias = f"{stage} -> version {dep.number}"
    if newest != dep.number:  # `aloft rollback`, or Lambda's UpdateAlias (control/lambda_api.py)
        alias += f" (rolled back: version {newest} is the newest)"
    return {
        "url": stage_url(p.port, service, stage),
        "version": dep.number,
        "alias": alias,
        "deployed": _iso(dep.created),
        "versions": [
            {"version": d.number, "deployed": _iso(d.created), "current": d.id == dep.id,
             "functions": d.functions, "dev": bool(d.extra.get("dev"))}
            for d in history
        ],
        "functions": functions,
        "schedules": [
            {"name": r.name, "function": r.function, "expression": r.expression,
             "enabled": r.enabled, "next_fire": _iso(r.next_fire)}
            for r in rules
        ],
        "async": {
            "queued": await p.asyncq.pending_count(physical),
            "dead_letter": len(await p.asyncq.dead(physical)),
        },
        "routes": [f"{r['method']} {r['path']}" for r in dep.routes],
        # queue/topic/bucket/stream bindings: state, last poll, counts (triggers.pollers)
        "event_sources": p.sources.status(physical) if p.sources is not None else [],
        # the static files the gateway serves (`static:`, or Django's found at build); a newer
        # key, so it comes last: the order scripts saw holds
        "static": {"path": dep.static_path, "directory": dep.static_dir}
        if dep.static_path else None,
    }
