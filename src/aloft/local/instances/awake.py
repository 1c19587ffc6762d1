"""Waiting awake: the data plane's processes poll for a short while before they sleep.

On a virtual machine, waking a process that sleeps in `epoll_wait` or `recv` is the largest cost
of a request's two extra hops (client -> gateway -> instance and back): on bench/'s 2-vCPU
machine a round trip over a socket between two processes on two CPUs takes 30 µs of CPU, and the
woken process finds its caches cold. So, for SPIN after it last had something to do, a process
that expects more soon keeps polling, yielding its CPU to whatever else is runnable
(`sched_yield`), instead of sleeping:

- an instance, after its answer, while its requests come back to back (instance_main.SPIN);
- the gateway's event loop, after it sent a request to an instance or a response to a client,
  while at most one instance is busy (`Spinner`). Under load the loop rarely sleeps anyway,
  and there its polling would take CPU that the instances need.

Neither pays when the loop itself is saturated (a plain handler's requests, which cost the
instance less than the gateway): requests then reach instances at the loop's pace, and an
instance polling for its next one takes the CPU the loop needs. So while the loop's thread
has been busy most of the last window, queued requests go out with P.DOZE (`Spinner.doze`),
and the instance sleeps after them; an unqueued one (a single client) never has it.

ALOFT_SPIN_US in the daemon's environment sets SPIN in microseconds (0: always sleep at once);
docs/local-cloud.md gives the figures.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from time import perf_counter, thread_time

from aloft.local.instances.worker.protocol import DEFAULT_SPIN_US, DOZE, SPIN_ENV

LOOK_EVERY = 0.02  # seconds: how often `doze` looks at the loop thread's CPU
SATURATED = 0.8
"""The share of a window the loop's thread ran (its CPU time over the window's) from which
instances doze; they wait awake again below SATURATED - 0.2. Measured on the 2-CPU bench
machine: a plain handler's gateway runs 87-95 % under `wrk -c16` (the loop bounds it), FastAPI's
and Flask's 50-57 % (the instances do). At one connection it runs 93-95 %, mostly the loop's own
waiting awake (`kick`), but a single client's requests never queue, so they never doze."""


def spin_seconds() -> float:
    """SPIN as the daemon's environment sets it (an unreadable value: the default); the pool
    passes it on to every instance (instance.with_spin)."""
    try:
        return max(0.0, float(os.environ.get(SPIN_ENV, DEFAULT_SPIN_US))) * 1e-6
    except ValueError:
        return DEFAULT_SPIN_US * 1e-6


class Spinner:
    """Keeps an event loop polling (a callback that yields the CPU, rescheduled on every pass,
    so that the loop's `epoll_wait` does not block) until SPIN after the last `kick`."""

    def __init__(self, busy: Callable[[], int], spin: float | None = None) -> None:
        self.spin = spin_seconds() if spin is None else spin
        self._busy = busy  # how many instances are running a request
        self._until = 0.0
        self._active = False
        self._yield = getattr(os, "sched_yield", None)
        self.passes = 0  # polling passes so far (tests read it)
        self._looked = -1.0  # when `doze` last looked (< 0: never), and the thread's CPU then
        self._cpu = 0.0
        self._doze = 0

    def doze(self) -> int:
        """DOZE while the loop's thread is saturated (it ran SATURATED of the last window),
        else 0: what a queued request tells its instance. Called on the loop's thread; a
        `thread_time` per LOOK_EVERY, a `perf_counter` per call."""
        now = perf_counter()
        if now - self._looked >= LOOK_EVERY:
            cpu = thread_time()
            if self._looked >= 0:
                share = (cpu - self._cpu) / (now - self._looked)
                if share >= SATURATED:
                    self._doze = DOZE
                elif share < SATURATED - 0.2:
                    self._doze = 0
            self._looked, self._cpu = now, cpu
        return self._doze

    def kick(self) -> None:
        """Something was sent that should bring an answer or a request soon."""
        if not self.spin or self._yield is None or self._busy() > 1:
            return
        self._until = perf_counter() + self.spin
        if not self._active:
            self._active = True
            asyncio.get_running_loop().call_soon(self._poll)

    def _poll(self) -> None:
        if perf_counter() < self._until:
            self.passes += 1
            self._yield()  # type: ignore[misc]  # not None: kick checked it
            asyncio.get_running_loop().call_soon(self._poll)
        else:
            self._active = False
