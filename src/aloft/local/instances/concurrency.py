"""Lambda's concurrency limits: a function's reserved concurrency and the account's limit.

A slot is one request in flight. A request takes a slot at once when both limits allow it and
nobody is waiting; otherwise it queues, and freed slots go to waiters first come first served
(among those whose function may run), until its `throttle_wait` runs out.

Under load most requests queue (16 connections, 2 instances: 14 wait at any time), so a waiter
is cheap: no timer of its own. Every waiter waits the same `throttle_wait`, so the queue is in
deadline order and one timer, armed for the oldest waiter, expires them all.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from aloft.local.types import FunctionVersion

RESERVED = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT = "ConcurrentInvocationLimitExceeded"
_EARLY = 0.002  # seconds a timer may fire before its time (uvloop's timers count whole ms)


class Waiter:
    """A request waiting for a slot. `take_back` is set while the request waits in the socket
    of a busy instance (sent ahead, see InstancePool): before the waiter is granted a slot or
    throttled, it is taken back from there, and when it cannot be (that instance has started
    it) it leaves the queue without either: it has the slot of the request before it on
    that instance (`transfer`)."""

    __slots__ = ("deadline", "future", "fv", "on_grant", "tag", "take_back")

    def __init__(self, fv: FunctionVersion, future: asyncio.Future[bool], deadline: float,
                 on_grant: Callable[[], None] | None, tag: object):
        self.fv, self.future, self.deadline, self.on_grant = fv, future, deadline, on_grant
        self.tag = tag  # the caller's (the pool's request)
        self.take_back: Callable[[], bool] | None = None


class ConcurrencySlots:
    def __init__(self, account: int, throttle_wait: float) -> None:
        self.account = account
        self.throttle_wait = throttle_wait
        self._inflight: dict[str, int] = {}
        self._total = 0
        self._waiters: deque[Waiter] = deque()
        self._expiry: asyncio.TimerHandle | None = None  # armed for the oldest waiter

    def try_take(self, fv: FunctionVersion) -> bool:
        """Take a slot now if one is free and nobody waits for one (the hot path)."""
        if self._waiters or not self._can_run(fv):
            return False
        self._take(fv.function)
        return True

    async def wait(self, fv: FunctionVersion) -> bool:
        """Queue for a slot; False when none came within throttle_wait."""
        return await self.queue(fv).future

    def queue(self, fv: FunctionVersion, on_grant: Callable[[], None] | None = None,
              tag: object = None) -> Waiter:
        """Queue for a slot: the waiter's future resolves True when one is taken for the
        caller, False when none came within throttle_wait. (A future, not a coroutine, so that
        waiting costs the hot path no extra coroutine level.) Cancelling it leaves the queue.
        `on_grant` runs as the slot is granted, before the caller wakes: the pool sends the
        request to the instance just freed from there (see InstancePool.invoke)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        waiter = Waiter(fv, future, loop.time() + self.throttle_wait, on_grant, tag)
        self._waiters.append(waiter)
        self._dispatch()
        if not future.done() and self._expiry is None:
            self._expiry = loop.call_later(self.throttle_wait, self._expire)
        return waiter

    def transfer(self, waiter: Waiter) -> None:
        """`waiter` has the slot of the request before it on its instance (none is taken or
        freed): granted, out of the queue."""
        waiter.take_back = None
        if not waiter.future.done():
            # (not contextlib.suppress: this runs for most requests under load, and compiled, a
            # try is native where the `with` makes and calls a Python context manager)
            try:  # noqa: SIM105
                self._waiters.remove(waiter)
            except ValueError:
                pass  # out already when it could not be taken back
            waiter.future.set_result(True)

    def next_waiting(self, fv: FunctionVersion) -> Waiter | None:
        """The first waiter of `fv` not sent ahead already, unless a waiter before it has the
        next slot that frees (first come first served): one of the same function, or of
        another that waits for the account's limit, not for its own reserved concurrency.
        (A waiter sent ahead takes the slot of the request before it: sending one past them
        would keep them waiting.)"""
        for waiter in self._waiters:
            if waiter.take_back is not None or waiter.future.done():
                continue
            if waiter.fv.key == fv.key:
                return waiter
            other = waiter.fv
            if other.function == fv.function or other.concurrency is None or \
                    self._inflight.get(other.function, 0) < other.concurrency:
                return None
        return None

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
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None

    def _can_run(self, fv: FunctionVersion) -> bool:
        limit = fv.concurrency
        return self._total < self.account and (
            limit is None or self._inflight.get(fv.function, 0) < limit
        )

    def _take(self, function: str) -> None:
        self._inflight[function] = self._inflight.get(function, 0) + 1
        self._total += 1

    def _expire(self) -> None:
        """Throttle the waiters whose time is up (the oldest first); re-arm for the next."""
        self._expiry = None
        waiters = self._waiters
        loop = asyncio.get_running_loop()
        now = loop.time() + _EARLY
        while waiters and waiters[0].deadline <= now:
            waiter = waiters.popleft()
            if waiter.take_back is not None and not waiter.take_back():
                continue  # started by the instance it was sent ahead to
            if not waiter.future.done():
                waiter.future.set_result(False)
        if waiters:
            self._expiry = loop.call_later(max(0.0, waiters[0].deadline - loop.time()),
                                           self._expire)

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

    def _grant(self, waiter: Waiter) -> None:
        """The slot to `waiter` (out of the queue), unless it was sent ahead to an instance
        that has started it: it has that instance's slot (see Waiter)."""
        if waiter.take_back is not None and not waiter.take_back():
            return
        self._take(waiter.fv.function)
        if waiter.on_grant is not None:
            try:
                waiter.on_grant()
            except Exception:  # a bug of ours: the waiter starts its request itself
                logging.getLogger(__name__).exception("starting a queued request failed")
        waiter.future.set_result(True)
