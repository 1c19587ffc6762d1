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

ALOFT_SPIN_US in the daemon's environment sets SPIN in microseconds (0: always sleep at once);
docs/local-cloud.md gives the figures.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from time import perf_counter

from aloft.local.instances.worker.protocol import DEFAULT_SPIN_US, SPIN_ENV


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
