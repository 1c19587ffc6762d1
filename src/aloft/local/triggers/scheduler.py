"""The scheduler: fires `rate(...)` / `cron(...)` rules and keep_warm pings at their time.

Next fire times live in SQLite (`schedules.next_fire`), so they survive restarts; a fire that
was due while the platform was down runs once at start (not once per missed period), then the
rule continues on its calendar. A fire is an asynchronous invocation (as EventBridge's is): it
goes through the durable async queue, with its retries and dead-letter queue.

The loop only sleeps on the event loop; database reads and writes run in a worker thread. The
clock is injectable, and `wake()` makes the loop look again (after a deploy, or in tests after
moving a fake clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aloft import errors
from aloft.local.services.account import ACCOUNT_ID, REGION
from aloft.local.store.state import ScheduleRecord, State
from aloft.local.triggers.schedules import schedule_next_fire
from aloft.stage.names import schedules_named, stage_prefix

log = logging.getLogger("aloft.local.scheduler")

ACCOUNT = ACCOUNT_ID
MAX_SLEEP = 30.0

Fire = Callable[[ScheduleRecord, bytes], Awaitable[None]]


def scheduled_event(rule: str, moment: datetime) -> dict[str, object]:
    """EventBridge's Scheduled Event, what a rule without `input` sends."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"],
        "detail": {},
    }


def fire_payload(rule: ScheduleRecord, moment: datetime) -> bytes:
    """With `input` the function gets the input itself; without it, the Scheduled Event."""
    if rule.input is not None:
        return rule.input.encode()
    return json.dumps(scheduled_event(rule.name, moment)).encode()


def due_rules(rules: list[ScheduleRecord], now: float) -> list[ScheduleRecord]:
    return [r for r in rules if r.enabled and r.next_fire is not None and r.next_fire <= now]


def next_after_fire(rule: ScheduleRecord, now: float) -> float:
    """The next fire strictly after `now`: missed periods are skipped, not replayed."""
    after = datetime.fromtimestamp(max(now, rule.next_fire or now), UTC)
    anchor = datetime.fromtimestamp(rule.anchor, UTC)
    return schedule_next_fire(rule.expression, after, anchor=anchor).timestamp()


class Scheduler:
    def __init__(self, state: State, fire: Fire, *, clock: Callable[[], float] = time.time):
        self.state = state
        self.fire = fire
        self.clock = clock
        self.fired = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        self._wake.set()

    async def tick(self) -> float | None:
        """Fire every due rule; returns the next fire time of any enabled rule."""
        rules = await asyncio.to_thread(self.state.schedules)
        now = self.clock()
        for rule in due_rules(rules, now):
            moment = datetime.fromtimestamp(rule.next_fire or now, UTC)
            try:
                await self.fire(rule, fire_payload(rule, moment))
                self.fired += 1
            except Exception:  # a fire that cannot be queued is retried on the next tick
                log.exception("schedule %s could not fire", rule.name)
                continue
            await asyncio.to_thread(self.state.set_next_fire, rule.name,
                                    next_after_fire(rule, now))
        rules = await asyncio.to_thread(self.state.schedules)
        pending = [r.next_fire for r in rules if r.enabled and r.next_fire is not None]
        return min(pending) if pending else None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                nxt = await self.tick()
            except Exception:
                log.exception("scheduler tick failed")
                nxt = None
            delay = MAX_SLEEP if nxt is None else min(MAX_SLEEP, max(0.0, nxt - self.clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.01))

    # -- enable / disable ---------------------------------------------------------

    async def set_enabled(
        self, service: str, stage: str, enabled: bool, names: list[str]
    ) -> list[str]:
        """Enable or disable a stage's rules (all, or those matching `names`: the rule name,
        its short name after `{service}-{stage}-`, or the function's name)."""
        rules = await asyncio.to_thread(self.state.schedules, service, stage)
        prefix = stage_prefix(service, stage)
        picked, unknown = schedules_named(((r.name, r.function) for r in rules), prefix, names)
        if unknown:  # a typo must not look like success; nothing is changed
            shown = ", ".join(sorted(rule.name.removeprefix(prefix + "-") for rule in rules))
            raise errors.NotDeployedError(
                f"no schedule of {service} stage {stage!r} is named "
                f"{', '.join(repr(n) for n in unknown)}",
                fix=(f"schedules: {shown} (a rule's name, its short name or its function's)"
                     if rules else "the stage has no schedules"))
        changed: list[str] = []
        chosen = set(picked)
        for rule in rules:
            if rule.name not in chosen:
                continue
            now = datetime.fromtimestamp(self.clock(), UTC)
            nxt = (schedule_next_fire(rule.expression, now,
                                      anchor=datetime.fromtimestamp(rule.anchor, UTC))
                   .timestamp() if enabled else None)
            if enabled and rule.enabled and rule.next_fire is not None:
                nxt = rule.next_fire
            await asyncio.to_thread(self.state.set_schedule_enabled, rule.name, enabled, nxt)
            changed.append(rule.name)
        self.wake()
        return changed
