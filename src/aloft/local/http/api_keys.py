"""REST APIs' API keys and their usage plan on the local gateway (pure; the clock is injected).

A `private` route needs a key of the stage in `x-api-key` (403 Forbidden otherwise). The usage
plan meters each key: a token bucket of `burst_limit` tokens refilled at `rate_limit` per second
(429 Too Many Requests when empty) and a quota of `quota_limit` requests per day, week or month
in UTC, the first period less its `quota_offset` (429 Limit Exceeded past it). The counts live
in the daemon's memory: a restart starts them afresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from aloft.stage.records import UsagePlan

Verdict = Literal["ok", "forbidden", "throttled", "quota"]


def period_start(now: float, period: str) -> float:
    """The start (UTC) of the DAY, WEEK (from Monday) or MONTH that holds `now`."""
    moment = datetime.fromtimestamp(now, UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "WEEK":
        day -= timedelta(days=day.weekday())
    elif period == "MONTH":
        day = day.replace(day=1)
    return day.timestamp()


@dataclass
class _Usage:
    tokens: float
    refilled: float
    period: float  # start of the quota period counted
    used: int


class KeyMeter:
    """One stage's keys: which key a request carries, and whether its plan lets it through."""

    def __init__(self, values: Mapping[str, str], plan: UsagePlan | None,
                 clock: Callable[[], float] = time.time) -> None:
        self._names = {value: name for name, value in values.items()}
        self._plan = plan
        self._clock = clock
        self._usage: dict[str, _Usage] = {}
        self._first_period: float | None = None

    def key_name(self, value: str | None) -> str | None:
        return None if value is None else self._names.get(value)

    def admit(self, value: str | None) -> tuple[Verdict, str | None]:
        """(the verdict, the key's name) for a request carrying the key `value`."""
        name = self.key_name(value)
        if name is None:
            return "forbidden", None
        plan = self._plan
        if plan is None:
            return "ok", name
        now = self._clock()
        usage = self._usage.get(name)
        if usage is None:
            usage = self._usage[name] = _Usage(float(plan.burst_limit or 0), now, -1.0, 0)
        if plan.quota_limit is not None:
            start = period_start(now, plan.quota_period)
            if usage.period != start:
                first = self._first_period is None or self._first_period == start
                self._first_period = start if self._first_period is None else \
                    self._first_period
                usage.period, usage.used = start, plan.quota_offset if first else 0
            if usage.used >= plan.quota_limit:
                return "quota", name
        if plan.rate_limit is not None and plan.burst_limit is not None:
            usage.tokens = min(float(plan.burst_limit),
                               usage.tokens + (now - usage.refilled) * plan.rate_limit)
            usage.refilled = now
            if usage.tokens < 1.0:
                return "throttled", name
            usage.tokens -= 1.0
        usage.used += 1
        return "ok", name
