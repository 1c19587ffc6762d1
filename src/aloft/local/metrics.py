"""Per-function metrics in per-minute buckets for the last hour.

Durations go into a log-scale histogram (5% wide bins) per bucket, so that recording is O(1)
with no allocation and p50/p99 stay within 5% whatever the traffic.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

BUCKET_SECONDS = 60
HISTORY_BUCKETS = 60
_MIN_MS = 0.01  # the histogram's first bin
_GROWTH = 1.05
_LOG_GROWTH = math.log(_GROWTH)
_BINS = 400  # 0.01 ms * 1.05**400 is about 3 hours: longer than any timeout
RECENT_INVOCATIONS = 500  # the dashboard's "recent invocations", across all functions


def duration_bin(duration_ms: float) -> int:
    if duration_ms <= _MIN_MS:
        return 0
    return min(_BINS - 1, int(math.log(duration_ms / _MIN_MS) / _LOG_GROWTH) + 1)


def bin_value(index: int) -> float:
    """A representative duration for a bin: its geometric middle."""
    if index == 0:
        return _MIN_MS
    return float(_MIN_MS * _GROWTH ** (index - 0.5))


def percentile(histogram: list[int], count: int, q: float) -> float | None:
    """The q-quantile (0..1) of the durations recorded in `histogram`."""
    if count == 0:
        return None
    rank = max(1, math.ceil(q * count))
    seen = 0
    for index, n in enumerate(histogram):
        seen += n
        if seen >= rank:
            return round(bin_value(index), 3)
    return None


@dataclass
class Bucket:
    minute: int  # unix time // 60
    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    cold_starts: int = 0
    max_instances: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * _BINS)

    def merge(self, other: Bucket) -> None:
        self.invocations += other.invocations
        self.errors += other.errors
        self.throttles += other.throttles
        self.cold_starts += other.cold_starts
        self.max_instances = max(self.max_instances, other.max_instances)
        self.histogram = [a + b for a, b in zip(self.histogram, other.histogram, strict=True)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": self.minute * BUCKET_SECONDS,
            "invocations": self.invocations,
            "errors": self.errors,
            "throttles": self.throttles,
            "cold_starts": self.cold_starts,
            "concurrent_instances": self.max_instances,
            "p50_ms": percentile(self.histogram, self.invocations, 0.50),
            "p99_ms": percentile(self.histogram, self.invocations, 0.99),
        }


@dataclass(frozen=True)
class Invocation:
    """One finished (or throttled) invocation, kept in a ring buffer for the dashboard."""

    time: float
    function: str
    version: int
    request_id: str
    status: str
    duration_ms: float
    cold: bool

    def as_dict(self) -> dict[str, Any]:
        return {"time": self.time, "function": self.function, "version": self.version,
                "request_id": self.request_id, "status": self.status,
                "duration_ms": self.duration_ms, "cold": self.cold}


class Metrics:
    """Counters per function. `clock` is injectable so tests can move time."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._buckets: dict[str, deque[Bucket]] = {}
        self._instances: dict[str, int] = {}
        # Plain tuples (Invocation's fields, in order): recording is on every request's path,
        # a frozen dataclass's __init__ is several times dearer; recent() makes Invocations.
        self._recent: deque[tuple[Any, ...]] = deque(maxlen=RECENT_INVOCATIONS)

    def _bucket(self, function: str, now: float | None = None) -> Bucket:
        minute = int(self._clock() if now is None else now) // BUCKET_SECONDS
        buckets = self._buckets.get(function)
        if buckets is None:
            buckets = self._buckets[function] = deque(maxlen=HISTORY_BUCKETS)
        if not buckets or buckets[-1].minute != minute:
            bucket = Bucket(minute, max_instances=self._instances.get(function, 0))
            buckets.append(bucket)
            return bucket
        return buckets[-1]

    def record(
        self, function: str, duration_ms: float, *, error: bool, cold: bool,
        request_id: str | None = None, status: str | None = None, version: int = 0,
    ) -> None:
        now = self._clock()
        bucket = self._bucket(function, now)
        bucket.invocations += 1
        bucket.histogram[duration_bin(duration_ms)] += 1
        if error:
            bucket.errors += 1
        if cold:
            bucket.cold_starts += 1
        if request_id is not None:
            self._recent.append((now, function, version, request_id,
                                 status or ("error" if error else "ok"), duration_ms, cold))

    def throttled(self, function: str, request_id: str | None = None, version: int = 0) -> None:
        self._bucket(function).throttles += 1
        if request_id is not None:
            self._recent.append(
                (self._clock(), function, version, request_id, "throttled", 0.0, False))

    def recent(self, functions: Collection[str] = (), limit: int = 50) -> list[Invocation]:
        """The latest invocations of `functions` (all when empty), newest first."""
        out: list[Invocation] = []
        for item in reversed(self._recent):
            if not functions or item[1] in functions:
                now, function, version, request_id, status, duration_ms, cold = item
                out.append(Invocation(now, function, version, request_id, status,
                                      round(duration_ms, 3), cold))
                if len(out) >= limit:
                    break
        return out

    def instances(self, function: str, count: int) -> None:
        """The function's live instance count changed to `count`."""
        self._instances[function] = count
        bucket = self._bucket(function)
        bucket.max_instances = max(bucket.max_instances, count)

    def _last_hour(self, function: str) -> Iterable[Bucket]:
        oldest = int(self._clock()) // BUCKET_SECONDS - HISTORY_BUCKETS + 1
        return (b for b in self._buckets.get(function, ()) if b.minute >= oldest)

    def series(self, function: str) -> list[dict[str, Any]]:
        """One dict per minute that saw activity in the last hour, oldest first."""
        return [b.as_dict() for b in self._last_hour(function)]

    def summary(self, function: str) -> dict[str, Any]:
        """Totals over the last hour, plus the live instance count."""
        total = Bucket(0)
        for bucket in self._last_hour(function):
            total.merge(bucket)
        out = total.as_dict()
        del out["time"]
        out["max_concurrent_instances"] = out.pop("concurrent_instances")
        out["concurrent_instances"] = self._instances.get(function, 0)
        return out

    def functions(self) -> list[str]:
        return sorted(self._buckets)
