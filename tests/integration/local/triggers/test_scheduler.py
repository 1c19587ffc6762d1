"""A real daemon runs a schedule's fire missed while it was down once, at start. (The scheduler
itself, driven by an injected clock: tests/unit/local/triggers/test_scheduler.py.)"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from tests.integration.local.cloud_helpers import (
    JOBS,
    Cloud,
    read_lines,
    service,
    write_project,
)
from tests.waiting import wait_until


def next_fires(cloud: Cloud) -> list[float]:
    conn = sqlite3.connect(cloud.home / "state.db")
    try:
        return [row[0] for row in conn.execute("SELECT next_fire FROM schedules")]
    finally:
        conn.close()


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
        first, second = "sched-dev-record-schedule-0", "sched-dev-record-schedule-1"
        assert sorted(result.schedules) == [first, second]
        rows = cloud.provider.status(svc).report["schedules"]
        assert {r["expression"] for r in rows} == {"rate(1 hour)", "rate(2 hours)"}
        assert all(r["enabled"] and r["next_fire"] for r in rows)
        cloud.stop()
        # while the platform is down both fire times pass (set them in the past)
        conn = sqlite3.connect(cloud.home / "state.db")
        with conn:
            conn.execute("UPDATE schedules SET next_fire = ?", (time.time() - 7200,))
        conn.close()
        restarted = time.time()
        cloud.start()
        wait_until(lambda: len(read_lines(out / "record.log")) == 2,
                   message=lambda: f"two fires in record.log: {read_lines(out / 'record.log')}")
        events = [json.loads(x) for x in read_lines(out / "record.log")]
        assert {"from": "schedule"} in events
        scheduled = next(e for e in events if e != {"from": "schedule"})
        assert scheduled["detail-type"] == "Scheduled Event"
        # Once both rules' next fires are in the future again and nothing is left queued, a
        # second fire for a missed period would have been queued, and run: none was.
        wait_until(lambda: min(next_fires(cloud)) > restarted
                   and cloud.provider.status(svc).report["async"]["queued"] == 0,
                   message=lambda: f"next fires after the restart: {next_fires(cloud)}")
        assert len(read_lines(out / "record.log")) == 2  # once, not once per missed period
        changed = cloud.provider.schedule(svc, False, ["record-schedule-1"])
        assert changed == [second]
        rows = {r["name"]: r for r in cloud.provider.status(svc).report["schedules"]}
        assert not rows[second]["enabled"]
        assert rows[second]["next_fire"] is None
        assert rows[first]["enabled"]
    finally:
        cloud.stop()
