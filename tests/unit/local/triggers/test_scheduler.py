"""The scheduler driven by an injected clock over a state database in tmp: fires on time, once
per missed span, and its loop sleeps until the next fire unless woken. (A real daemon running a
missed fire at start: tests/integration/local/triggers/test_scheduler.py.)"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from aloft import errors
from aloft.local.store.state import Deployment, ScheduleRecord, State
from aloft.local.triggers.scheduler import Scheduler
from tests.waiting import wait_until_async

T0 = 1_800_000_000.0  # 2027-01-15 08:00 UTC


def rules(state: State) -> None:
    dep = Deployment(id=0, service="svc", stage="dev", number=0, functions={}, physical={},
                     routes=[])
    state.record_deployment(dep, [], [
        ScheduleRecord("svc-dev-tick", "svc", "dev", "svc-dev-tick", "rate(5 minutes)", None,
                       "schedule", True, T0, T0 + 300),
        ScheduleRecord("svc-dev-report", "svc", "dev", "svc-dev-report", "cron(0 12 * * ? *)",
                       '{"kind": "daily"}', "schedule", True, T0, T0 + 4 * 3600),
        ScheduleRecord("svc-dev-keep-warm", "svc", "dev", "svc-dev-app", "rate(4 minutes)",
                       '{"aloft": "keep_warm"}', "keep_warm", True, T0, T0 + 240),
    ])


class Ticks(Scheduler):
    """Counts the loop's ticks: the first one is the moment "nothing fired" means something."""

    ticks = 0

    async def tick(self) -> float | None:
        nxt = await super().tick()
        self.ticks += 1
        return nxt


def test_scheduler_fires_on_time_once_per_missed_span(tmp_path: Path) -> None:
    state = State(tmp_path / "state.db")
    rules(state)
    now = [T0]
    fired: list[tuple[str, dict[str, object]]] = []

    async def fire(rule: ScheduleRecord, payload: bytes) -> None:
        fired.append((rule.name, json.loads(payload)))

    async def main() -> None:
        scheduler = Scheduler(state, fire, clock=lambda: now[0])
        assert await scheduler.tick() == T0 + 240
        assert fired == []
        now[0] = T0 + 250
        assert await scheduler.tick() == T0 + 300
        assert fired == [("svc-dev-keep-warm", {"aloft": "keep_warm"})]
        fired.clear()
        now[0] = T0 + 300
        await scheduler.tick()
        [(name, event)] = fired
        assert name == "svc-dev-tick"
        assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
        assert event["time"] == "2027-01-15T08:05:00Z"
        assert event["resources"] == ["arn:aws:events:us-east-1:000000000000:rule/svc-dev-tick"]
        fired.clear()
        # the platform was "down" for 5 hours: each rule fires once, then continues on time
        now[0] = T0 + 5 * 3600 + 10
        await scheduler.tick()
        assert sorted(n for n, _ in fired) == ["svc-dev-keep-warm", "svc-dev-report",
                                               "svc-dev-tick"]
        assert ("svc-dev-report", {"kind": "daily"}) in fired
        nxt = {r.name: r.next_fire for r in state.schedules()}
        assert nxt["svc-dev-tick"] == T0 + 5 * 3600 + 300
        assert nxt["svc-dev-report"] == T0 + 28 * 3600  # noon the next day
        fired.clear()
        # disabled rules do not fire; enabling again schedules from now
        assert await scheduler.set_enabled("svc", "dev", False, ["tick"]) == ["svc-dev-tick"]
        now[0] = T0 + 6 * 3600
        await scheduler.tick()
        assert "svc-dev-tick" not in [n for n, _ in fired]
        await scheduler.set_enabled("svc", "dev", True, ["svc-dev-tick"])
        tick = next(r for r in state.schedules() if r.name == "svc-dev-tick")
        assert tick.enabled and tick.next_fire is not None and tick.next_fire > now[0]

    asyncio.run(main())


def test_a_name_that_matches_no_schedule_is_an_error_and_changes_nothing(
        tmp_path: Path) -> None:
    """`aloft unschedule dev tikc` printed "no schedules in svc dev" and exited 0: a typo
    looked like success (or, beside a right name, was dropped silently). Every name must match
    a rule; otherwise nothing changes and the error lists the stage's schedules."""
    state = State(tmp_path / "state.db")
    rules(state)

    async def fire(rule: ScheduleRecord, payload: bytes) -> None:
        pass

    async def main() -> None:
        scheduler = Scheduler(state, fire, clock=lambda: T0)
        with pytest.raises(errors.NotDeployedError) as caught:
            await scheduler.set_enabled("svc", "dev", False, ["tick", "tikc"])
        assert "'tikc'" in caught.value.message and "'tick'" not in caught.value.message
        assert caught.value.fix is not None
        assert "keep-warm, report, tick" in caught.value.fix
        assert all(r.enabled for r in state.schedules())  # not even "tick" was disabled
        with pytest.raises(errors.NotDeployedError) as caught:
            await scheduler.set_enabled("svc", "prod", True, ["tick"])
        assert caught.value.fix == "the stage has no schedules"
        # no names: every rule of the stage (none is no error); right names as before
        assert await scheduler.set_enabled("svc", "prod", False, []) == []
        assert sorted(await scheduler.set_enabled("svc", "dev", False, ["tick", "app"])) == [
            "svc-dev-keep-warm", "svc-dev-tick"]

    asyncio.run(main())


def test_the_loop_wakes_when_told(tmp_path: Path) -> None:
    """The running loop sleeps until the next fire, and `wake()` (a deploy, a moved clock)
    makes it look again at once: it never polls the database in a busy loop."""
    state = State(tmp_path / "state.db")
    rules(state)
    now = [T0]
    fired: list[str] = []

    async def fire(rule: ScheduleRecord, payload: bytes) -> None:
        fired.append(rule.name)

    async def main() -> None:
        scheduler = Ticks(state, fire, clock=lambda: now[0])
        scheduler.start()
        await wait_until_async(lambda: scheduler.ticks, message="the loop's first tick")
        assert fired == []
        now[0] = T0 + 241
        scheduler.wake()
        await wait_until_async(lambda: fired, timeout=1, message="the fire after wake()")
        assert fired == ["svc-dev-keep-warm"]
        await scheduler.stop()

    asyncio.run(main())
