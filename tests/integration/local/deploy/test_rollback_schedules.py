"""`aloft rollback` brings back the older deployment's schedules (against a real daemon)."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aloft.local.triggers.schedules import schedule_next_fire
from tests.integration.local.cloud_helpers import (
    JOBS,
    Cloud,
    cloud_fixture,
    read_lines,
    service,
    write_project,
)
from tests.waiting import wait_until

cloud = cloud_fixture()


def rule(function: str) -> str:
    """The rule of a function's one unnamed schedule (aloft.stage.events)."""
    return f"rbs-dev-{function}-schedule"

V1 = """
    service: {name}
    functions:
      alpha:
        handler: jobs.record
        events:
          - schedule: {{rate: 1 hour, input: {{"from": "alpha"}}}}
      gamma:
        handler: jobs.record
        events:
          - schedule: cron(0 12 * * ? *)
      delta:
        handler: jobs.record
        events:
          - schedule: rate(3 hours)
    environment:
      OUT_DIR: {out}
    stages:
      dev: {{}}
"""

# alpha's schedule removed, beta's added, gamma's changed; delta's unchanged
V2 = """
    service: {name}
    functions:
      alpha:
        handler: jobs.record
      beta:
        handler: jobs.record
        events:
          - schedule: rate(2 hours)
      gamma:
        handler: jobs.record
        events:
          - schedule: {{rate: 30 minutes, input: {{"changed": true}}}}
      delta:
        handler: jobs.record
        events:
          - schedule: rate(3 hours)
    environment:
      OUT_DIR: {out}
    stages:
      dev: {{}}
"""


def rows(cloud: Cloud, name: str) -> dict[str, dict[str, Any]]:
    """The stage's live rules as state.db holds them (next_fire and anchor as numbers)."""
    conn = sqlite3.connect(cloud.home / "state.db")
    conn.row_factory = sqlite3.Row
    try:
        return {r["name"]: dict(r) for r in conn.execute(
            "SELECT * FROM schedules WHERE service = ?", (name,))}
    finally:
        conn.close()


def test_rollback_restores_the_older_schedules(cloud: Cloud, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    root = write_project(tmp_path / "p", V1.format(name="rbs", out=out), {"jobs.py": JOBS})
    first = cloud.provider.deploy(service(root))
    assert sorted(first.schedules) == [rule("alpha"), rule("delta"), rule("gamma")]
    v1_rules = rows(cloud, "rbs")

    write_project(root, V2.format(name="rbs", out=out), {})
    second = cloud.provider.deploy(service(root))
    assert second.version == 2
    assert sorted(second.schedules) == [rule("beta"), rule("delta"), rule("gamma")]
    assert rows(cloud, "rbs")[rule("gamma")]["expression"] == "rate(30 minutes)"
    svc = service(root)
    assert cloud.provider.schedule(svc, False, ["delta"]) == [rule("delta")]

    fired = cloud.client.call("GET", "cloud")["schedules_fired"]
    before = time.time()
    back = cloud.provider.rollback(svc, 1)
    after = time.time()
    assert back.version == 1 and back.plan == []
    assert sorted(back.schedules) == [rule("alpha"), rule("delta"), rule("gamma")]

    # `aloft status` shows the older deployment's rules: beta is gone, alpha and gamma are back
    status = {r["name"]: r for r in cloud.provider.status(svc).report["schedules"]}
    assert sorted(status) == [rule("alpha"), rule("delta"), rule("gamma")]
    assert status[rule("alpha")]["expression"] == "rate(1 hour)"
    assert status[rule("gamma")]["expression"] == "cron(0 12 * * ? *)"
    assert status[rule("alpha")]["enabled"] and status[rule("gamma")]["enabled"]
    # the user's `aloft unschedule` survives the rollback
    assert not status[rule("delta")]["enabled"] and status[rule("delta")]["next_fire"] is None

    live = rows(cloud, "rbs")
    alpha, gamma = live[rule("alpha")], live[rule("gamma")]
    assert alpha["input"] == json.dumps({"from": "alpha"}) and gamma["input"] is None
    assert alpha["function"] == "rbs-dev-alpha" and gamma["function"] == "rbs-dev-gamma"
    # restored rules count from the rollback, not from v1's deploy: no fire for the past
    assert before - 1 <= alpha["anchor"] <= after + 1
    assert before + 3600 - 1 <= alpha["next_fire"] <= after + 3600 + 1
    assert alpha["anchor"] >= v1_rules[rule("alpha")]["anchor"]
    noon = schedule_next_fire("cron(0 12 * * ? *)", datetime.fromtimestamp(before, UTC))
    assert gamma["next_fire"] in (noon.timestamp(), (noon + timedelta(days=1)).timestamp())
    assert gamma["next_fire"] > after
    # The woken scheduler fires nothing: every next fire is in the future. A marker event
    # queued after the rollback has run, and nothing else is queued: a fire queued when the
    # scheduler woke would have run by then too.
    cloud.provider.invoke(svc, "alpha", {"marker": True}, asynchronous=True)
    wait_until(lambda: read_lines(out / "record.log")
               and cloud.provider.status(svc).report["async"]["queued"] == 0,
               message=lambda: f"the marker alone in record.log: {read_lines(out / 'record.log')}")
    assert read_lines(out / "record.log") == [json.dumps({"marker": True})]
    assert cloud.client.call("GET", "cloud")["schedules_fired"] == fired

    # forward again: the newer deployment's schedules (a deploy of V2 again)
    again = cloud.provider.deploy(service(root))
    assert sorted(again.schedules) == [rule("beta"), rule("delta"), rule("gamma")]
    assert rows(cloud, "rbs")[rule("gamma")]["expression"] == "rate(30 minutes)"
    assert rule("alpha") not in rows(cloud, "rbs")
    cloud.provider.undeploy(svc)


def test_rollback_to_a_deployment_recorded_without_schedules(
    cloud: Cloud, tmp_path: Path
) -> None:
    """A deployment recorded by an older aloft (no schedules in its spec) rolls back its
    functions and leaves the stage's schedules as they are, with a note."""
    out = tmp_path / "out"
    out.mkdir()
    root = write_project(tmp_path / "p", V1.format(name="rbold", out=out), {"jobs.py": JOBS})
    cloud.provider.deploy(service(root))
    write_project(root, V2.format(name="rbold", out=out), {})
    cloud.provider.deploy(service(root))
    conn = sqlite3.connect(cloud.home / "state.db")
    with conn:  # what an older aloft wrote: the spec without "schedules"
        row = conn.execute("SELECT id, spec FROM deployments WHERE service = 'rbold' "
                           "ORDER BY id LIMIT 1").fetchone()
        spec = json.loads(row[1])
        del spec["schedules"]
        conn.execute("UPDATE deployments SET spec = ? WHERE id = ?", (json.dumps(spec), row[0]))
    conn.close()
    before = rows(cloud, "rbold")
    svc = service(root)
    back = cloud.provider.rollback(svc, 1)
    assert back.version == 1
    [note] = back.plan
    assert note.action == "schedules_kept" and "left as they are" in (note.note or "")
    assert rows(cloud, "rbold") == before
    assert sorted(back.schedules) == ["rbold-dev-beta-schedule", "rbold-dev-delta-schedule",
                                      "rbold-dev-gamma-schedule"]
    cloud.provider.undeploy(svc)
