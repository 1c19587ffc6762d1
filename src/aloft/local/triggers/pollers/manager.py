"""`EventSources`: one poller per binding of the current deployments, reconciled after every
deploy, rollback and undeploy (`refresh`), stopped with the daemon.

Stopping the daemon leaves everything on the endpoint (internal queues, subscriptions, bucket
notifications, checkpoints): messages that arrive while it is down wait in their queues and are
delivered at the next start. Only a binding that no deployment has any more is torn down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aloft.local.store.registry import LocalRegistry
from aloft.local.triggers.pollers.bindings import Binding, bindings_from_extras
from aloft.local.triggers.pollers.checkpoints import Checkpoints
from aloft.local.triggers.pollers.clients import REGION, EndpointClients
from aloft.local.triggers.pollers.poller import Deps, Enqueue, Invoke, Poller
from aloft.local.triggers.pollers.queue_poller import QueuePoller
from aloft.local.triggers.pollers.relay import RelayPoller
from aloft.local.triggers.pollers.stream_poller import StreamPoller

log = logging.getLogger("aloft.local.sources")

MAX_POLLER_THREADS = 16
"""Threads calling the endpoint at once (long polls included): bounds the pollers' load."""

DRAIN_SECONDS = 5.0
"""At shutdown, how long batches in flight may take to finish."""

_POLLERS: dict[str, type[Poller]] = {
    "queue": QueuePoller, "topic": RelayPoller, "bucket": RelayPoller, "stream": StreamPoller,
}


def registry_bindings(registry: LocalRegistry) -> list[Binding]:
    """The bindings of every stage's current deployment."""
    stages = registry.snapshot.stages.values()
    return bindings_from_extras(
        ((info.deployment.service, info.deployment.stage), info.deployment.extra)
        for info in stages
    )


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class EventSources:
    def __init__(
        self,
        *,
        endpoint_url: str,
        registry: LocalRegistry,
        invoke: Invoke,
        enqueue: Enqueue,
        state_db: Path,
        region: str = REGION,
        threads: int = MAX_POLLER_THREADS,
        ready: Callable[[], Awaitable[None]] | None = None,
        secret: str | None = None,
    ):
        """`secret`: the platform's secret key on the endpoint (AwsEndpoint.admin_secret;
        None for an endpoint that checks no signature)."""
        self.endpoint_url = endpoint_url
        self._secret = secret
        self.registry = registry
        self.region = region
        self._invoke = invoke
        self._enqueue = enqueue
        self._state_db = state_db
        self._threads = threads
        self._ready = ready
        self._deps: Deps | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._running: dict[str, tuple[Binding, Poller, asyncio.Task[None]]] = {}
        self._teardowns: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Start the pollers of what is deployed. (Their clients load boto3 with the first
        one, in a poller's thread.)"""
        self._executor = ThreadPoolExecutor(max_workers=self._threads,
                                            thread_name_prefix="aloft-sources")
        loop = asyncio.get_running_loop()
        clients = EndpointClients(self.endpoint_url, region=self.region,
                                  connections=self._threads + 4,
                                  **({"secret": self._secret} if self._secret else {}))
        checkpoints = await loop.run_in_executor(self._executor, Checkpoints, self._state_db)
        self._deps = Deps(clients=clients, executor=self._executor,
                          current=self.registry.current, invoke=self._invoke,
                          enqueue=self._enqueue, checkpoints=checkpoints, ready=self._ready)
        await self.refresh()

    async def refresh(self, bindings: Iterable[Binding] | None = None) -> None:
        """Start pollers for new bindings, restart changed ones, stop and tear down removed
        ones. Returns at once: setting a binding up happens in its poller."""
        if self._deps is None:
            return
        async with self._lock:
            wanted = {b.key: b for b in (registry_bindings(self.registry) if bindings is None
                                         else bindings) if b.enabled}
            for key, (binding, poller, task) in list(self._running.items()):
                if wanted.get(key) == binding:
                    continue
                del self._running[key]
                await _cancel(task)
                if key not in wanted:
                    self._later(poller.teardown(), binding)
            for key, binding in wanted.items():
                if key not in self._running:
                    poller = _POLLERS[binding.kind](binding, self._deps)
                    task = asyncio.create_task(poller.run(), name=f"aloft-source-{key}")
                    self._running[key] = (binding, poller, task)

    def _later(self, coro: Any, binding: Binding) -> None:
        async def guarded() -> None:
            try:
                await coro
            except Exception as exc:  # the resource may be gone already (undeploy removed it)
                log.info("tearing down %s: %s", binding.describe(), exc)

        task = asyncio.create_task(guarded())
        self._teardowns.add(task)
        task.add_done_callback(self._teardowns.discard)

    async def stop(self) -> None:
        async with self._lock:
            for _, _, task in self._running.values():
                task.cancel()
            await asyncio.gather(*(t for _, _, t in self._running.values()),
                                 return_exceptions=True)
            await asyncio.gather(*(p.drain(DRAIN_SECONDS) for _, p, _ in self._running.values()))
            self._running.clear()
            if self._teardowns:
                await asyncio.wait(self._teardowns, timeout=5)
        if self._executor is not None:
            # A long poll in flight finishes on its own (LONG_POLL_SECONDS); do not wait for it.
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        if self._deps is not None:
            self._deps.checkpoints.close()
            self._deps = None

    def status(self, functions: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Each binding (of `functions`, or all) with its state, last poll and counts."""
        out = []
        for binding, poller, _ in sorted(self._running.values(),
                                         key=lambda r: (r[0].function, r[0].kind, r[0].source)):
            if functions is not None and binding.function not in functions:
                continue
            s = poller.status
            out.append({
                "kind": binding.kind, "source": binding.source, "function": binding.function,
                "state": s.state, "last_poll": _iso(s.last_poll), "received": s.received,
                "invocations": s.invocations, "succeeded": s.succeeded, "failed": s.failed,
                "last_error": s.last_error,
            })
        return out


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
