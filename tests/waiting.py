"""The one way tests wait for something that happens elsewhere (a process, a poller, a queue):
a bounded poll that returns what it saw, or fails saying what it waited for and what it last
saw. Use it instead of a fixed `time.sleep` and instead of writing another deadline loop.

    events = wait_until(lambda: read(out, "bucket"), message="the bucket's event")
    wait_until(lambda: pid_gone(pid), timeout=5, message=f"process {pid} to end")
    await wait_until_async(lambda: fired, message="the scheduler's fire")

To check that something does *not* happen, wait for a later event that proves the pipeline
went past the point where it would have happened, then assert on what came before.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

TIMEOUT = 20.0
"""Long enough for a loaded machine (other test runs share it); a passing wait returns at once."""


class _Poll:
    """One bounded poll: what the predicate last returned (or raised) and how to say it."""

    def __init__(self, check: Callable[[], object], timeout: float,
                 message: str | Callable[[], str] | None,
                 ignoring: tuple[type[BaseException], ...]) -> None:
        self.check = check
        self.timeout = timeout
        self.message = message
        self.ignoring = ignoring
        self.deadline = time.monotonic() + timeout
        self.last: object = None
        self.error: BaseException | None = None

    def attempt(self) -> bool:
        try:
            self.last, self.error = self.check(), None
        except self.ignoring as exc:  # "not yet" (a server still starting, say)
            self.last, self.error = None, exc
            return False
        return bool(self.last)

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def failure(self) -> AssertionError:
        what = self.message() if callable(self.message) else self.message
        what = what or getattr(self.check, "__qualname__", repr(self.check))
        seen = (f"it last raised {type(self.error).__name__}: {self.error}" if self.error
                else f"it last returned {self.last!r}")
        return AssertionError(f"timed out after {self.timeout:g} s waiting for {what}; {seen}")


def wait_until(check: Callable[[], T], *, timeout: float = TIMEOUT, interval: float = 0.05,
               message: str | Callable[[], str] | None = None,
               ignoring: tuple[type[BaseException], ...] = ()) -> T:
    """Call `check` every `interval` seconds until it returns a true value, and return that
    value. After `timeout` seconds raise an AssertionError naming `message` (a callable is
    called then, to describe the state at the time) and the last value `check` returned.
    Exceptions of the `ignoring` types count as "not yet"."""
    poll = _Poll(check, timeout, message, ignoring)
    while not poll.attempt():
        if poll.expired():
            raise poll.failure()
        time.sleep(interval)
    return poll.last  # type: ignore[return-value]


async def wait_until_async(check: Callable[[], T], *, timeout: float = TIMEOUT,
                           interval: float = 0.01,
                           message: str | Callable[[], str] | None = None,
                           ignoring: tuple[type[BaseException], ...] = ()) -> T:
    """`wait_until` on an event loop: the loop keeps running while it waits."""
    poll = _Poll(check, timeout, message, ignoring)
    while not poll.attempt():
        if poll.expired():
            raise poll.failure()
        await asyncio.sleep(interval)
    return poll.last  # type: ignore[return-value]
