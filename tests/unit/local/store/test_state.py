"""The control plane's state: deployments switch the alias in one transaction, schedules keep
their durable next fire time across redeploys, undeploy forgets a stage."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from aloft.local.store.state import Deployment, ScheduleRecord, State, VersionRecord
from aloft.local.types import ACCOUNT_ID, LEGACY_ACCOUNT_ID, FunctionVersion


def fv(version: int, function: str = "svc-dev-app") -> FunctionVersion:
    return FunctionVersion(function=function, version=version, code_dir=Path("/code"),
                           layer_dir=None, memory=256, timeout=10, concurrency=None,
                           keep_alive=600, environment={"A": "1"})


def dep(version: int, function: str = "svc-dev-app") -> Deployment:
    return Deployment(id=0, service="svc", stage="dev", number=0, functions={"app": version},
                      physical={"app": function},
                      routes=[{"method": "ANY", "path": "/{proxy+}", "function": function}])


def rule(expression: str = "rate(5 minutes)", next_fire: float = 100.0) -> ScheduleRecord:
    return ScheduleRecord(name="svc-dev-tick", service="svc", stage="dev",
                          function="svc-dev-app", expression=expression, input=None,
                          kind="schedule", enabled=True, anchor=0.0, next_fire=next_fire)


def record(version: int, sha: str = "a" * 64) -> VersionRecord:
    return VersionRecord(fv(version), "hash", sha, None, 1.0)


def test_deployments_number_and_switch_the_alias(tmp_path: Path) -> None:
    state = State(tmp_path / "state.db")
    first = state.record_deployment(dep(1), [record(1)], [rule()])
    second = state.record_deployment(dep(2), [record(2, "b" * 64)], [rule()])
    assert (first.number, second.number) == (1, 2)
    assert state.current_deployment("svc", "dev") == second
    assert state.stages() == [("svc", "dev")]
    stored = state.version("svc-dev-app", 1)
    assert stored is not None and stored.fv == fv(1)
    state.point_alias("svc", "dev", first.id)
    current = state.current_deployment("svc", "dev")
    assert current is not None and current.functions == {"app": 1}
    assert state.latest_version("svc-dev-app") == 2
    assert state.referenced_artifacts() == {"a" * 64, "b" * 64}


def test_a_failed_transaction_changes_nothing(tmp_path: Path) -> None:
    state = State(tmp_path / "state.db")
    state.record_deployment(dep(1), [record(1)], [])
    # version 1 again: the primary key refuses it, the whole deploy rolls back
    with pytest.raises(sqlite3.IntegrityError):
        state.record_deployment(dep(1), [record(1)], [])
    assert len(state.deployments("svc", "dev")) == 1


def test_redeploy_keeps_next_fire_unless_the_expression_changed(tmp_path: Path) -> None:
    state = State(tmp_path / "state.db")
    state.record_deployment(dep(1), [record(1)], [rule(next_fire=100.0)])
    state.set_schedule_enabled("svc-dev-tick", False, None)
    state.record_deployment(dep(2), [record(2)], [rule(next_fire=999.0)])
    kept = state.schedules("svc", "dev")[0]
    assert kept.next_fire is None and not kept.enabled  # unschedule survives a redeploy
    state.record_deployment(dep(3), [record(3)], [rule("rate(1 hour)", next_fire=555.0)])
    changed = state.schedules("svc", "dev")[0]
    assert changed.next_fire == 555.0 and changed.enabled


def test_a_renamed_rule_keeps_its_fire_times_and_unschedule(tmp_path: Path) -> None:
    """An older aloft's local rule names (`svc-dev-tick`) become the stage model's
    (`svc-dev-tick-schedule`): the deploy's renames carry the rule's state over."""
    state = State(tmp_path / "state.db")
    state.record_deployment(dep(1), [record(1)], [rule(next_fire=100.0)])
    state.set_schedule_enabled("svc-dev-tick", False, None)
    renamed = ScheduleRecord(**{**rule(next_fire=999.0).__dict__,
                                "name": "svc-dev-tick-schedule", "anchor": 50.0})
    state.record_deployment(dep(2), [record(2)], [renamed], {"svc-dev-tick-schedule":
                                                             "svc-dev-tick"})
    (kept,) = state.schedules("svc", "dev")
    assert kept.name == "svc-dev-tick-schedule"
    assert (kept.enabled, kept.next_fire, kept.anchor) == (False, None, 0.0)


def test_state_survives_reopening(tmp_path: Path) -> None:
    State(tmp_path / "state.db").record_deployment(dep(1), [record(1)], [rule()])
    again = State(tmp_path / "state.db")
    assert again.current_deployment("svc", "dev") is not None
    assert again.schedules()[0].name == "svc-dev-tick"


def test_remove_stage(tmp_path: Path) -> None:
    state = State(tmp_path / "state.db")
    state.record_deployment(dep(1), [record(1)], [rule()])
    state.remove_stage("svc", "dev", ["svc-dev-app"])
    assert state.stages() == [] and state.schedules() == []
    assert state.version("svc-dev-app", 1) is None
    assert state.referenced_artifacts() == set()


def test_prune_keeps_recent_deployments_and_the_current_one(tmp_path: Path) -> None:
    state = State(tmp_path / "state.db")
    shas = [f"{i:x}" * 64 for i in range(1, 6)]
    deps = [state.record_deployment(dep(i + 1), [record(i + 1, shas[i])], [])
            for i in range(5)]
    state.point_alias("svc", "dev", deps[0].id)  # rolled back to the first
    dropped = state.prune("svc", "dev", keep=2)
    assert dropped == {shas[1], shas[2]}
    assert [d.number for d in state.deployments("svc", "dev")] == [1, 4, 5]
    assert state.versions("svc-dev-app") == [1, 4, 5]
    assert state.prune("svc", "dev", keep=2) == set()


def test_a_legacy_homes_arns_and_queue_urls_name_the_local_account(tmp_path: Path) -> None:
    old, new = LEGACY_ACCOUNT_ID, ACCOUNT_ID
    state = State(tmp_path / "state.db")
    legacy = FunctionVersion(function="svc-dev-app", version=1, code_dir=Path("/code"),
                             layer_dir=None, memory=256, timeout=10, concurrency=None,
                             keep_alive=600, environment={"Q": f"http://h/{old}/svc-dev-q",
                                                          "ORDER": old})
    grant = {"resource": [f"arn:aws:sqs:us-east-1:{old}:svc-dev-q"]}
    state.record_deployment(replace(dep(1), extra={"grants": grant}),
                            [VersionRecord(legacy, "hash", "a" * 64, None, 1.0)], [])
    state.conn.execute("PRAGMA user_version = 0")  # as an older aloft left it
    moved = State(tmp_path / "state.db")
    current = moved.current_deployment("svc", "dev")
    assert current is not None
    assert current.extra["grants"] == {"resource": [f"arn:aws:sqs:us-east-1:{new}:svc-dev-q"]}
    stored = moved.version("svc-dev-app", 1)
    assert stored is not None
    assert stored.fv.environment == {"Q": f"http://h/{new}/svc-dev-q", "ORDER": old}


def test_an_older_homes_stored_secret_keys_are_taken_out(tmp_path: Path) -> None:
    secret = "f" * 40
    env = {"AWS_ACCESS_KEY_ID": "ALOFTFN0123456789ABC", "AWS_SECRET_ACCESS_KEY": secret,
           "OWN": "kept"}
    state = State(tmp_path / "state.db")
    old = FunctionVersion(function="svc-dev-app", version=1, code_dir=Path("/code"),
                          layer_dir=None, memory=256, timeout=10, concurrency=None,
                          keep_alive=600, environment=env)
    state.record_deployment(dep(1), [VersionRecord(old, "hash", "a" * 64, None, 1.0)], [])
    state.conn.execute("PRAGMA user_version = 1")  # as an older aloft left it
    stored = State(tmp_path / "state.db").version("svc-dev-app", 1)
    assert stored is not None
    assert stored.fv.environment == {"AWS_ACCESS_KEY_ID": "ALOFTFN0123456789ABC", "OWN": "kept"}
    for path in tmp_path.iterdir():  # nor in a free page, nor in the WAL
        assert secret.encode() not in path.read_bytes(), path


def test_amend_extra_changes_one_key_of_a_deployment(tmp_path: Path) -> None:
    state = State(tmp_path / "state.db")
    first = state.record_deployment(replace(dep(1), extra={"async": {"a": [2, 60]}}),
                                    [record(1)], [])
    state.amend_extra(first.id, "concurrency", {"svc-dev-app": 0})
    current = state.current_deployment("svc", "dev")
    assert current is not None
    assert current.extra == {"async": {"a": [2, 60]}, "concurrency": {"svc-dev-app": 0}}
    with pytest.raises(KeyError):
        state.amend_extra(first.id + 100, "x", 1)
