"""Per-function metrics: per-minute buckets for the last hour, rolled up into 5-minute buckets
for 6 hours and 15-minute buckets for 24 hours (CloudWatch keeps coarser periods for older data
in the same way).

Recording touches only the current minute's bucket: counters and a log-scale histogram of
durations (5% wide bins), O(1) with no allocation, so p50/p99 stay within 5% whatever the
traffic. When a function's next minute starts, the finished minute is added to its 5- and
15-minute buckets (at most once a minute per function); a longer window reads those, plus the
minute in progress.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

BUCKET_SECONDS = 60
HISTORY_BUCKETS = 60  # minutes kept at full resolution: the last hour
WINDOWS = {900: 60, 3600: 60, 21600: 300, 86400: 900}
"""The windows a series is asked for (seconds) and the period of its points."""
_ROLLUPS = (300, 900)  # the coarser periods, each kept for the longest window it serves
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


def percentile(histogram: list[int] | dict[int, int], count: int, q: float) -> float | None:
    """The q-quantile (0..1) of the durations recorded in `histogram` (a list of counts by
    bin, or a dict bin -> count)."""
    if count == 0:
        return None
    rank = max(1, math.ceil(q * count))
    seen = 0
    pairs = enumerate(histogram) if isinstance(histogram, list) else sorted(histogram.items())
    for index, n in pairs:
        seen += n
        if seen >= rank:
            return round(bin_value(index), 3)
    return None


@dataclass
class Counts:
    """What a period saw. `start`: unix time of the period's first second."""

    start: int
    invocations: int = 0
    errors: int = 0  # the function failed (Lambda's Errors)
    throttles: int = 0
    cold_starts: int = 0
    max_instances: int = 0
    client_errors: int = 0  # 4xx answers to HTTP requests (API Gateway's 4XXError)
    server_errors: int = 0  # 5xx answers (5XXError): a function's own 500 counts here only
    max_memory_mb: int = 0

    def add(self, other: Counts) -> None:
        self.invocations += other.invocations
        self.errors += other.errors
        self.throttles += other.throttles
        self.cold_starts += other.cold_starts
        self.client_errors += other.client_errors
        self.server_errors += other.server_errors
        self.max_instances = max(self.max_instances, other.max_instances)
        self.max_memory_mb = max(self.max_memory_mb, other.max_memory_mb)

    def _dict(self, histogram: list[int] | dict[int, int]) -> dict[str, Any]:
        return {
            "time": self.start,
            "invocations": self.invocations,
            "errors": self.errors,
            "throttles": self.throttles,
            "cold_starts": self.cold_starts,
            "concurrent_instances": self.max_instances,
            "4xx": self.client_errors,
            "5xx": self.server_errors,
            "memory_mb": self.max_memory_mb or None,
            "p50_ms": percentile(histogram, self.invocations, 0.50),
            "p99_ms": percentile(histogram, self.invocations, 0.99),
        }


@dataclass
class Bucket(Counts):
    """One minute: the histogram is a list indexed by bin (recording is one increment)."""

    histogram: list[int] = field(default_factory=lambda: [0] * _BINS)

    def merge(self, other: Bucket) -> None:
        self.add(other)
        self.histogram = [a + b for a, b in zip(self.histogram, other.histogram, strict=True)]

    def as_dict(self) -> dict[str, Any]:
        return self._dict(self.histogram)


@dataclass
class Rollup(Counts):
    """A coarser period made of finished minutes: the histogram keeps only the bins used."""

    histogram: dict[int, int] = field(default_factory=dict)

    def add_minute(self, minute: Bucket, used: Iterable[tuple[int, int]] | None = None) -> None:
        """Add a minute; `used`: its non-empty bins, when the caller has them already."""
        self.add(minute)
        hist = self.histogram
        for index, n in used if used is not None else _used_bins(minute.histogram):
            hist[index] = hist.get(index, 0) + n

    def copy(self) -> Rollup:
        out = Rollup(self.start, histogram=dict(self.histogram))
        out.add(self)
        return out

    def as_dict(self) -> dict[str, Any]:
        return self._dict(self.histogram)


def _used_bins(histogram: list[int]) -> list[tuple[int, int]]:
    return [(index, n) for index, n in enumerate(histogram) if n]


@dataclass(frozen=True)
class Invocation:
    """One finished (or throttled) invocation, kept in a ring buffer for the dashboard.
    `status`: the invocation's (ok, error, timeout...), or the HTTP status a function's HTTP
    response had when it was 4xx or 5xx ("500")."""

    time: float
    function: str
    version: int
    request_id: str
    status: str
    duration_ms: float
    cold: bool
    trace_id: str = ""  # the X-Ray trace id's Root (`1-...`)

    def as_dict(self) -> dict[str, Any]:
        return {"time": self.time, "function": self.function, "version": self.version,
                "request_id": self.request_id, "status": self.status,
                "duration_ms": self.duration_ms, "cold": self.cold, "trace_id": self.trace_id}


def window_step(window: int) -> tuple[int, int]:
    """The supported window nearest `window` (seconds, at least) and its points' period."""
    for seconds in sorted(WINDOWS):
        if window <= seconds:
            return seconds, WINDOWS[seconds]
    longest = max(WINDOWS)
    return longest, WINDOWS[longest]


class Metrics:
    """Counters per function. `clock` is injectable so tests can move time."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._buckets: dict[str, deque[Bucket]] = {}
        self._rollups: dict[tuple[str, int], deque[Rollup]] = {}
        self._instances: dict[str, int] = {}
        # Plain tuples (Invocation's fields, in order): recording is on every request's path,
        # a frozen dataclass's __init__ is several times dearer; recent() makes Invocations.
        self._recent: deque[tuple[Any, ...]] = deque(maxlen=RECENT_INVOCATIONS)

    def _bucket(self, function: str, now: float | None = None) -> Bucket:
        minute = int(self._clock() if now is None else now) // BUCKET_SECONDS
        buckets = self._buckets.get(function)
        if buckets is None:
            buckets = self._buckets[function] = deque(maxlen=HISTORY_BUCKETS)
        if not buckets or buckets[-1].start != minute * BUCKET_SECONDS:
            if buckets:
                self._roll_up(function, buckets[-1])
            bucket = Bucket(minute * BUCKET_SECONDS,
                            max_instances=self._instances.get(function, 0))
            buckets.append(bucket)
            return bucket
        return buckets[-1]

    def _roll_up(self, function: str, minute: Bucket) -> None:
        """A finished minute joins its 5- and 15-minute periods."""
        used = _used_bins(minute.histogram)
        for period in _ROLLUPS:
            tier = self._rollups.get((function, period))
            if tier is None:
                keep = max(w for w, step in WINDOWS.items() if step == period) // period + 1
                tier = self._rollups[(function, period)] = deque(maxlen=keep)
            start = minute.start // period * period
            if not tier or tier[-1].start != start:
                tier.append(Rollup(start))
            tier[-1].add_minute(minute, used)

    def record(
        self, function: str, duration_ms: float, *, error: bool, cold: bool,
        request_id: str | None = None, status: str | None = None, version: int = 0,
        memory_mb: int = 0, trace: str = "",
    ) -> None:
        now = self._clock()
        bucket = self._bucket(function, now)
        bucket.invocations += 1
        bucket.histogram[duration_bin(duration_ms)] += 1
        if error:
            bucket.errors += 1
        if cold:
            bucket.cold_starts += 1
        if memory_mb > bucket.max_memory_mb:
            bucket.max_memory_mb = memory_mb
        if request_id is not None:
            self._recent.append((now, function, version, request_id,
                                 status or ("error" if error else "ok"), duration_ms, cold, trace))

    def response(self, function: str, status: int, request_id: str | None = None) -> None:
        """The gateway answered an HTTP request to `function` with a 4xx or 5xx `status`."""
        bucket = self._bucket(function)
        if status >= 500:
            bucket.server_errors += 1
        else:
            bucket.client_errors += 1
        recent = self._recent
        # The invocation was recorded just before (same request id): show its HTTP status.
        if recent and recent[-1][3] == request_id and recent[-1][4] == "ok":
            last = recent[-1]
            recent[-1] = (*last[:4], str(status), *last[5:])

    def throttled(self, function: str, request_id: str | None = None, version: int = 0) -> None:
        self._bucket(function).throttles += 1
        if request_id is not None:
            self._recent.append(
                (self._clock(), function, version, request_id, "throttled", 0.0, False, ""))

    def recent(self, functions: Collection[str] = (), limit: int = 50) -> list[Invocation]:
        """The latest invocations of `functions` (all when empty), newest first."""
        out: list[Invocation] = []
        for item in reversed(self._recent):
            if not functions or item[1] in functions:
                now, function, version, request_id, status, duration_ms, cold, trace = item
                out.append(Invocation(now, function, version, request_id, status,
                                      round(duration_ms, 3), cold, trace))
                if len(out) >= limit:
                    break
        return out

    def instances(self, function: str, count: int) -> None:
        """The function's live instance count changed to `count`."""
        self._instances[function] = count
        bucket = self._bucket(function)
        bucket.max_instances = max(bucket.max_instances, count)

    def _last_hour(self, function: str) -> Iterable[Bucket]:
        oldest = (int(self._clock()) // BUCKET_SECONDS - HISTORY_BUCKETS + 1) * BUCKET_SECONDS
        return (b for b in self._buckets.get(function, ()) if b.start >= oldest)

    def series(self, function: str, window: int = 3600) -> list[dict[str, Any]]:
        """One dict per period that saw activity in the last `window` seconds (15 min and 1 h:
        per minute; 6 h: per 5 minutes; 24 h: per 15 minutes), oldest first."""
        window, step = window_step(window)
        oldest = (int(self._clock()) // step * step) - window + step
        if step == BUCKET_SECONDS:
            return [b.as_dict() for b in self._last_hour(function) if b.start >= oldest]
        periods = [r for r in self._rollups.get((function, step), ()) if r.start >= oldest]
        minutes = self._buckets.get(function)
        if minutes and minutes[-1].start >= oldest:  # the minute in progress is not rolled up
            current = minutes[-1]
            start = current.start // step * step
            if periods and periods[-1].start == start:
                periods[-1] = periods[-1].copy()
            else:
                periods.append(Rollup(start))
            periods[-1].add_minute(current)
        return [r.as_dict() for r in periods]

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
