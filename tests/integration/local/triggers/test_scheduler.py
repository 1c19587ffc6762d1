"""Schedules: the scheduler driven by an injected clock over a real state database, and a real
daemon that runs a fire missed while it was down once at start."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

from aloft.local.store.state import Deployment, ScheduleRecord, State
from aloft.local.triggers.scheduler import Scheduler
from tests.integration.local.cloud_helpers import (
    JOBS,
    Cloud,
    read_lines,
    service,
    wait_until,
    write_project,
)

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
        assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/svc-dev-tick"]
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
        scheduler = Scheduler(state, fire, clock=lambda: now[0])
        scheduler.start()
        await asyncio.sleep(0.1)
        assert fired == []
        now[0] = T0 + 241
        scheduler.wake()
        for _ in range(100):
            if fired:
                break
            await asyncio.sleep(0.01)
        assert fired == ["svc-dev-keep-warm"]
        await scheduler.stop()

    asyncio.run(main())


def test_daemon_runs_a_missed_fire_at_start(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path / "home")
    cloud.start()
    try:
        out = tmp_path / "out"
        out.mkdir()
        root = write_project(tmp_path / "project", f"""
            service: sched
            functions:
              record:
                handler: jobs.record
                events:
                  - schedule:
                      rate: 1 hour
                      input: {{"from": "schedule"}}
                  - schedule: rate(2 hours)
            environment:
              OUT_DIR: {out}
            stages:
              dev: {{}}
        """, {"jobs.py": JOBS})
        svc = service(root)
        result = cloud.provider.deploy(svc)
        assert sorted(result.schedules) == ["sched-dev-record", "sched-dev-record-2"]
        rows = cloud.provider.status(svc)["schedules"]
        assert {r["expression"] for r in rows} == {"rate(1 hour)", "rate(2 hours)"}
        assert all(r["enabled"] and r["next_fire"] for r in rows)
        cloud.stop()
        # while the platform is down both fire times pass (set them in the past)
        conn = sqlite3.connect(cloud.home / "state.db")
        with conn:
            conn.execute("UPDATE schedules SET next_fire = ?", (time.time() - 7200,))
        conn.close()
        cloud.start()
        assert wait_until(lambda: len(read_lines(out / "record.log")) == 2)
        events = [json.loads(x) for x in read_lines(out / "record.log")]
        assert {"from": "schedule"} in events
        scheduled = next(e for e in events if e != {"from": "schedule"})
        assert scheduled["detail-type"] == "Scheduled Event"
        time.sleep(0.5)
        assert len(read_lines(out / "record.log")) == 2  # once, not once per missed period
        changed = cloud.provider.schedule(svc, False, ["record-2"])
        assert changed == ["sched-dev-record-2"]
        rows = {r["name"]: r for r in cloud.provider.status(svc)["schedules"]}
        assert not rows["sched-dev-record-2"]["enabled"]
        assert rows["sched-dev-record-2"]["next_fire"] is None
        assert rows["sched-dev-record"]["enabled"]
    finally:
        cloud.stop()
