"""`Platform`: the running local cloud's parts, as the control API, the dashboard and `status`
read them. Built by the daemon (or a test).

A module of its own so that the control API, the dashboard and `status` all import it and none
of them imports another upwards for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aloft.local.deploy.deployer import Deployer
from aloft.local.instances.pool import InstancePool
from aloft.local.services.supervisor import AwsEndpoint
from aloft.local.services.user_credentials import UserCredentials
from aloft.local.store.artifacts import ArtifactStore
from aloft.local.store.logs import LogStore
from aloft.local.store.registry import LocalRegistry
from aloft.local.store.state import State
from aloft.local.triggers.async_queue import AsyncQueue
from aloft.local.triggers.pollers.manager import EventSources
from aloft.local.triggers.scheduler import Scheduler


class LogWaiter:
    """Wakes long-polling followers on the event loop when the log store commits lines."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self._event = asyncio.Event()
        self.closed = False

    def close(self) -> None:
        """The daemon stops: every long-poll answers now (the server waits for in-flight
        requests before it stops, and a follower's poll may have 20 s to go)."""
        self.closed = True
        self._bump()

    def notify_threadsafe(self) -> None:
        self.loop.call_soon_threadsafe(self._bump)

    def _bump(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        """The event the next commit sets: take it before querying, then wait on it."""
        return self._event

    @staticmethod
    async def wait(event: asyncio.Event, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


@dataclass
class Platform:
    """Everything the handler drives; built by the daemon (or a test)."""

    token: str
    state: State
    store: ArtifactStore
    registry: LocalRegistry
    pool: InstancePool
    deployer: Deployer
    asyncq: AsyncQueue
    scheduler: Scheduler
    logs: LogStore
    port: int
    home: str
    started: float = field(default_factory=time.time)
    stop: Callable[[], None] | None = None
    log_waiter: LogWaiter | None = None
    endpoint: AwsEndpoint | None = None
    sources: EventSources | None = None  # event source pollers (set once they started)
    # the user's own AWS credentials: what they sign may call the Invoke API
    credentials: UserCredentials = field(default_factory=UserCredentials)
    data_plane: str = "Python sources"  # what the daemon runs of it (aloft.local.compiled)
