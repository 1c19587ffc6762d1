"""What the dashboard shows, gathered from the running platform as plain JSON-able data.

The pages render it on the server; the browser polls the same data (`/_aloft/data/...`) every
two seconds to move the charts, the instance counts and the recent invocations.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import TYPE_CHECKING, Any

from aloft import errors
from aloft.local.deploy.deployer import stage_url
from aloft.local.store.metrics import window_step

if TYPE_CHECKING:
    from aloft.local.control.platform import Platform

SERIES_KEYS = ("invocations", "errors", "throttles", "p50_ms", "p99_ms", "cold_starts",
               "concurrent_instances", "4xx", "5xx", "memory_mb")
WINDOWS = {"15m": 900, "1h": 3600, "6h": 21600, "24h": 86400}
"""The charts' windows by the name the page's picker (and its URL) uses."""
DEFAULT_WINDOW = "1h"
_GAUGES = ("p50_ms", "p99_ms", "memory_mb")  # no value (None) where nothing ran
LOG_WINDOW = 3600.0
LOG_LIMIT = 500


def window_name(value: str | None) -> str:
    return value if value in WINDOWS else DEFAULT_WINDOW


def fill_series(series: list[dict[str, Any]], now: float,
                window: int = 3600) -> list[dict[str, Any]]:
    """One point per period of the window (a minute for 15 min and 1 h, 5 minutes for 6 h, 15
    for 24 h), oldest first; periods without activity are zero (None for the durations and the
    memory: there is nothing to show)."""
    window, step = window_step(window)
    by_time = {int(point["time"]): point for point in series}
    last = int(now) // step * step
    out = []
    for i in range(window // step - 1, -1, -1):
        t = last - i * step
        point = by_time.get(t)
        if point is None:
            point = {key: (None if key in _GAUGES else 0) for key in SERIES_KEYS}
        out.append({"time": t, **{key: point.get(key) for key in SERIES_KEYS}})
    return out


def overview(p: Platform) -> dict[str, Any]:
    snap = p.registry.snapshot
    instances = p.pool.instances()
    stages = []
    for info in sorted(snap.stages.values(),
                       key=lambda i: (i.routes.service, i.routes.stage)):
        dep = info.deployment
        stages.append({
            "service": dep.service, "stage": dep.stage, "version": dep.number,
            "url": stage_url(p.port, dep.service, dep.stage),
            "functions": {name: fv.version for name, fv in sorted(info.functions.items())},
            "instances": sum(instances.get(fv.function, 0) for fv in info.functions.values()),
        })
    functions = []
    for info in sorted(snap.stages.values(),
                       key=lambda i: (i.routes.service, i.routes.stage)):
        for name, fv in sorted(info.functions.items()):
            summary = p.pool.metrics.summary(fv.function)  # the last hour
            functions.append({
                "service": info.routes.service, "stage": info.routes.stage, "function": name,
                "version": fv.version, "invocations": summary["invocations"],
                "errors": summary["errors"], "4xx": summary["4xx"], "5xx": summary["5xx"],
                "p99_ms": summary["p99_ms"], "instances": instances.get(fv.function, 0),
            })
    return {
        "functions": functions,
        "platform": {
            "pid": os.getpid(), "port": p.port, "home": p.home,
            "uptime_s": round(time.time() - p.started, 1),
            "instances": sum(instances.values()),
            "async_processed": p.asyncq.processed, "schedules_fired": p.scheduler.fired,
            "log_store": log_store(p.logs.status()),
        },
        "stages": stages,
    }


def log_store(status: dict[str, Any]) -> str:
    """The log store against its cap, as the overview shows it: `3.2 of 1024 MB`, and how many
    lines the cap has dropped, if any."""
    text = f"{status['size_mb']:g} of {status['cap_mb']:g} MB"  # (rounded to 0.01 MB)
    dropped = status["dropped_by_cap"]
    return f"{text}, {dropped:,} oldest lines dropped" if dropped else text


async def stage(p: Platform, service: str, stage_name: str,
                window: str = DEFAULT_WINDOW) -> dict[str, Any]:
    """`aloft status` for one stage, plus each function's configuration and its series over
    `window` (a WINDOWS name), the recent invocations and the dead-letter queue."""
    from aloft.local.control.status import stage_status

    data = await stage_status(p, service, stage_name)
    info = p.registry.stage(service, stage_name)
    assert info is not None  # stage_status raised otherwise
    now = time.time()
    metrics = p.pool.metrics
    name = window_name(window)
    seconds, step = window_step(WINDOWS[name])
    for fn in data["functions"]:
        fv = info.functions[fn["function"]]
        fn.update({"concurrency": fv.concurrency, "keep_alive": fv.keep_alive,
                   "payload": fv.payload, "snapshot": fv.snapshot,
                   "series": fill_series(metrics.series(fv.function, seconds), now, seconds)})
    data["window"] = {"name": name, "seconds": seconds, "step": step,
                      "end": int(now) // step * step + step}
    physical = {fv.function: name for name, fv in info.functions.items()}
    data["recent"] = [
        {**inv.as_dict(), "name": physical.get(inv.function, inv.function)}
        for inv in metrics.recent(set(physical), 50)
    ]
    data["dlq"] = [e.summary() for e in await p.asyncq.dead(sorted(physical))]
    data["api_keys"] = [{"name": name, "value": value}
                        for name, value in sorted(info.routes.api_key_values.items())]
    data["service"], data["stage"] = service, stage_name
    return data


async def logs(
    p: Platform, service: str, stage_name: str, *, function: str | None = None,
    text: str | None = None, request_id: str | None = None, after: int = 0,
) -> dict[str, Any]:
    """Log lines of a stage (or one function of it) from the last hour, oldest first; `after`
    continues from a cursor, `request_id` keeps one invocation's lines."""
    history = await asyncio.to_thread(p.state.deployments, service, stage_name)
    if not history:
        raise errors.NotDeployedError(f"{service} stage {stage_name!r} is not deployed",
                                      fix=f"aloft deploy {stage_name}")
    names: dict[str, str] = {}
    for dep in history:
        names.update({phys: name for name, phys in dep.physical.items()})
    functions = sorted(phys for phys, name in names.items() if not function or name == function)
    await asyncio.to_thread(p.logs.flush)
    newest = p.logs.last_id
    records = await asyncio.to_thread(
        p.logs.query, functions, since=time.time() - LOG_WINDOW, after_id=after,
        filter_text=text or None, request_id=request_id or None,
        limit=LOG_LIMIT if request_id is None else 5000)
    cursor = max(after, newest, *(r.id for r in records)) if records or after else newest
    return {"cursor": cursor, "functions": sorted(set(names.values())), "lines": [
        {"id": r.id, "time": r.timestamp, "function": names.get(r.function, r.function),
         "version": r.version, "request_id": r.request_id, "text": r.text}
        for r in records[-LOG_LIMIT:]]}
