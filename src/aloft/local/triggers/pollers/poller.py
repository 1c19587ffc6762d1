"""What every binding's poller shares: its status, the loop that survives errors, and the bridge
to the worker threads where boto3 calls run (never on the daemon's event loop)."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aloft.errors import AloftError
from aloft.local.triggers.pollers.bindings import Binding
from aloft.local.triggers.pollers.checkpoints import Checkpoints
from aloft.local.triggers.pollers.clients import EndpointClients
from aloft.local.types import FunctionVersion, InvokeResult

log = logging.getLogger("aloft.local.sources")
T = TypeVar("T")

Invoke = Callable[[FunctionVersion, bytes], Awaitable[InvokeResult]]
"""Synchronous invocation through the instance pool (`InstancePool.invoke`)."""
Enqueue = Callable[[str, bytes], Awaitable[None]]
"""Durable asynchronous invocation of a function (physical name): returns once queued."""
Current = Callable[[str], FunctionVersion | None]
"""The version a function's alias points at now (`LocalRegistry.current`)."""

SETUP_RETRY_MAX = 5.0  # seconds between attempts to reach a resource that is not there yet


@dataclass(frozen=True)
class Deps:
    """What pollers use: the endpoint's clients, the threads that call them, the platform."""

    clients: EndpointClients
    executor: Executor
    current: Current
    invoke: Invoke
    enqueue: Enqueue
    checkpoints: Checkpoints
    ready: Callable[[], Awaitable[None]] | None = None  # waits until the endpoint answers
    # Bucket notification configurations are read, changed and written whole: one at a time.
    bucket_lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class BindingStatus:
    state: str = "starting"  # starting | polling | error | stopped
    last_poll: float | None = None
    received: int = 0  # messages or records read from the source
    invocations: int = 0
    succeeded: int = 0  # items settled as processed (deleted, checkpointed, queued)
    failed: int = 0  # items left for a retry
    last_error: str | None = None


class Poller(abc.ABC):
    """Runs one binding until cancelled: `setup` (idempotent) then `cycle` forever; an error
    is recorded in the status and the poller starts over after a short delay."""

    def __init__(self, binding: Binding, deps: Deps):
        self.binding = binding
        self.deps = deps
        self.clients = deps.clients
        self.status = BindingStatus()
        self.stopped = False

    async def call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, *args, **kwargs)
        return await loop.run_in_executor(self.deps.executor, call)

    async def run(self) -> None:
        delay = 0.5
        ready = False
        while True:
            try:
                if not ready:
                    if self.deps.ready is not None:
                        await self.deps.ready()
                    await self.setup()
                    ready = True
                    self.status.state = "polling"
                    delay = 0.5
                await self.cycle()
                self.status.last_poll = time.time()
            except asyncio.CancelledError:
                self.status.state, self.stopped = "stopped", True
                raise
            except Exception as exc:  # the endpoint or a resource is missing: try again
                message = exc.message if isinstance(exc, AloftError) else f"{exc}"
                if message != self.status.last_error:
                    log.warning("%s: %s", self.binding.describe(), message)
                self.status.state, self.status.last_error = "error", message
                ready = False
                await asyncio.sleep(delay)
                delay = min(delay * 2, SETUP_RETRY_MAX)

    def receive(self, url: str, **kwargs: Any) -> list[dict[str, Any]]:
        """ReceiveMessage (blocking: in a worker thread). What a long poll receives after its
        poller stopped is made visible again at once instead of hiding for the visibility
        timeout (and spending a receive) with nobody to process it."""
        messages: list[dict[str, Any]] = (
            self.clients.sqs.receive_message(QueueUrl=url, **kwargs).get("Messages") or [])
        if self.stopped and messages:
            self.release(url, messages)
            return []
        return messages

    def release(self, url: str, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            self.clients.sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(messages[start:start + 10])
            ])

    def release_later(self, url: str, messages: list[dict[str, Any]]) -> None:
        """`release` from a cancelled coroutine: submitted to the threads, not awaited."""
        if messages:
            with contextlib.suppress(RuntimeError):  # the executor is already shut down
                self.deps.executor.submit(self.release, url, list(messages))

    async def setup(self) -> None:  # noqa: B027 (optional hook, empty by default)
        """Find or create what the binding needs on the endpoint."""

    @abc.abstractmethod
    async def cycle(self) -> None:
        """One poll: fetch a batch and deliver it."""

    async def drain(self, timeout: float) -> None:  # noqa: B027 (optional hook)
        """Wait (at most `timeout` s) for work the poller started before it was stopped."""

    async def teardown(self) -> None:  # noqa: B027 (optional hook)
        """Undo `setup` once the binding is gone from every deployment."""

    async def invoke(self, fv: FunctionVersion, event: bytes) -> InvokeResult:
        """Through the pool, shielded: stopping the poller must not kill an invocation midway
        (its items are simply not settled, and come back)."""
        return await asyncio.shield(self.deps.invoke(fv, event))

    def function(self) -> FunctionVersion | None:
        return self.deps.current(self.binding.function)
