"""Lambda's concurrency limits: a function's reserved concurrency and the account's limit.

A slot is one request in flight. A request takes a slot at once when both limits allow it and
nobody is waiting; otherwise it queues, and freed slots go to waiters first come first served
(among those whose function may run), until its `throttle_wait` runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass

from aloft.local.types import FunctionVersion

RESERVED = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT = "ConcurrentInvocationLimitExceeded"


@dataclass(eq=False)
class _Waiter:
    fv: FunctionVersion
    future: asyncio.Future[bool]


class ConcurrencySlots:
    def __init__(self, account: int, throttle_wait: float) -> None:
        self.account = account
        self.throttle_wait = throttle_wait
        self._inflight: dict[str, int] = {}
        self._total = 0
        self._waiters: deque[_Waiter] = deque()

    def try_take(self, fv: FunctionVersion) -> bool:
        """Take a slot now if one is free and nobody waits for one (the hot path)."""
        if self._waiters or not self._can_run(fv):
            return False
        self._take(fv.function)
        return True

    async def wait(self, fv: FunctionVersion) -> bool:
        """Queue for a slot; False when none came within throttle_wait."""
        return await self.queue(fv)

    def queue(self, fv: FunctionVersion) -> asyncio.Future[bool]:
        """Queue for a slot: the future resolves True when one is taken for the caller, False
        when none came within throttle_wait. (A future, not a coroutine, so that waiting costs
        the hot path no extra coroutine level.) Cancelling it leaves the queue."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        waiter = _Waiter(fv, future)
        self._waiters.append(waiter)
        self._dispatch()
        if not future.done():
            timer = loop.call_later(self.throttle_wait, self._expire, waiter)
            future.add_done_callback(lambda _: timer.cancel())
        return future

    def release(self, function: str) -> None:
        self._inflight[function] -= 1
        self._total -= 1
        if self._waiters:
            self._dispatch()

    def throttle_reason(self, fv: FunctionVersion) -> str:
        """Which limit a throttled request of `fv` hit, in Lambda's words."""
        limit = fv.concurrency
        reserved = limit is not None and self._inflight.get(fv.function, 0) >= limit
        return RESERVED if reserved else ACCOUNT

    def cancel_all(self) -> None:
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.set_result(False)
        self._waiters.clear()

    def _can_run(self, fv: FunctionVersion) -> bool:
        limit = fv.concurrency
        return self._total < self.account and (
            limit is None or self._inflight.get(fv.function, 0) < limit
        )

    def _take(self, function: str) -> None:
        self._inflight[function] = self._inflight.get(function, 0) + 1
        self._total += 1

    def _expire(self, waiter: _Waiter) -> None:
        if not waiter.future.done():
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
            waiter.future.set_result(False)

    def _dispatch(self) -> None:
        """Give free slots to waiters, first come first served among those that may run."""
        waiters = self._waiters
        while waiters and self._total < self.account:
            head = waiters[0]
            if head.future.done():  # expired
                waiters.popleft()
            elif self._can_run(head.fv):
                waiters.popleft()
                self._grant(head)
            else:  # the head's function is at its reserved limit: others may still run
                for waiter in list(waiters)[1:]:
                    if self._total >= self.account:
                        return
                    if not waiter.future.done() and self._can_run(waiter.fv):
                        waiters.remove(waiter)
                        self._grant(waiter)
                return

    def _grant(self, waiter: _Waiter) -> None:
        self._take(waiter.fv.function)
        waiter.future.set_result(True)
