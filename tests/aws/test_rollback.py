"""`rollback` on AWS (moto): the aliases and the older release's EventBridge schedule rules
(expression, state, target, input, the alias permission) come back; the newer rules go."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from tests.aws.conftest import Builds, boto

ACCOUNT = "123456789012"

V1: dict[str, Any] = {
    "app": "app:app",
    "keep_warm": True,
    "functions": {
        "worker": {"handler": "w.w", "events": [
            {"schedule": {"rate": "5 minutes", "input": {"job": "tick"}}}]},
        "report": {"handler": "r.r", "events": [{"schedule": "cron(0 12 * * ? *)"}]},
    },
}
# worker's schedule removed, report's changed, hello's (a new function) added
V2: dict[str, Any] = {
    "app": "app:app",
    "keep_warm": True,
    "functions": {
        "worker": {"handler": "w.w"},
        "report": {"handler": "r.r", "events": [{"schedule": "rate(1 hour)"}]},
        "hello": {"handler": "h.h", "events": [{"schedule": "rate(2 hours)"}]},
    },
}


def rules() -> dict[str, dict[str, Any]]:
    """Each rule of the account with its target: {name: {expression, state, arn, input}}."""
    events = boto("events")
    out = {}
    for r in events.list_rules()["Rules"]:
        [target] = events.list_targets_by_rule(Rule=r["Name"])["Targets"]
        out[r["Name"]] = {"expression": r["ScheduleExpression"], "state": r["State"],
                          "arn": target["Arn"], "input": target.get("Input")}
    return out


def alias_sids(function: str) -> set[str]:
    try:
        policy = boto("lambda").get_policy(FunctionName=f"shop-prod-{function}",
                                           Qualifier="prod")
    except boto("lambda").exceptions.ResourceNotFoundException:
        return set()
    return {st["Sid"] for st in json.loads(policy["Policy"])["Statement"]}


def alias(function: str) -> str:
    return f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:shop-prod-{function}:prod"


def state_object() -> dict[str, Any]:
    bucket = next(b["Name"] for b in boto("s3").list_buckets()["Buckets"]
                  if b["Name"].startswith("aloft-shop-prod-"))
    body = boto("s3").get_object(Bucket=bucket, Key="aloft/shop/prod/state.json")["Body"]
    data: dict[str, Any] = json.loads(body.read())
    return data


def put_state_object(data: dict[str, Any]) -> None:
    bucket = next(b["Name"] for b in boto("s3").list_buckets()["Buckets"]
                  if b["Name"].startswith("aloft-shop-prod-"))
    boto("s3").put_object(Bucket=bucket, Key="aloft/shop/prod/state.json",
                          Body=json.dumps(data).encode())


def writes(client: AwsClient, service: str) -> dict[str, int]:
    return {k: v for k, v in client.calls.items() if k.startswith(f"{service}.")
            and not k.split(".")[1].startswith(("Get", "List", "Describe", "Head"))}


@pytest.fixture
def deployed(provider: AwsProvider, make_service: Callable[..., Service],
             builds: Builds) -> tuple[Service, Service]:
    v1 = make_service(**V1)
    provider.deploy(v1)
    builds.code = "v2"
    v2 = make_service(**V2)
    provider.deploy(v2)
    return v1, v2


def test_rollback_puts_the_older_rules_back(
    provider: AwsProvider, deployed: tuple[Service, Service], clients: list[AwsClient]
) -> None:
    _, v2 = deployed
    assert sorted(rules()) == ["shop-prod-hello-schedule", "shop-prod-keep-warm",
                               "shop-prod-report-schedule"]
    hello_sid = next(s for s in alias_sids("hello") if s.startswith("aloft-rule-"))
    assert provider.schedule(v2, False, ["keep-warm"]) == ["shop-prod-keep-warm"]

    back = provider.rollback(v2, 1)
    assert back.version == 3 and back.functions == {"app": 1, "worker": 1, "report": 1}
    assert sorted(back.schedules) == ["shop-prod-keep-warm", "shop-prod-report-schedule",
                                      "shop-prod-worker-schedule"]
    assert not [s for s in back.plan if s.action == "Note"]
    got = rules()
    assert sorted(got) == ["shop-prod-keep-warm", "shop-prod-report-schedule",
                           "shop-prod-worker-schedule"]
    assert got["shop-prod-worker-schedule"] == {
        "expression": "rate(5 minutes)", "state": "ENABLED", "arn": alias("worker"),
        "input": json.dumps({"job": "tick"}, sort_keys=True)}
    assert got["shop-prod-report-schedule"] == {
        "expression": "cron(0 12 * * ? *)", "state": "ENABLED", "arn": alias("report"),
        "input": None}
    assert got["shop-prod-keep-warm"]["state"] == "DISABLED"  # the user's unschedule stays
    assert any(s.startswith("aloft-rule-") for s in alias_sids("worker"))
    assert hello_sid not in alias_sids("hello")
    lam = boto("lambda")
    for fn in ("app", "worker", "report"):
        assert lam.get_alias(FunctionName=f"shop-prod-{fn}", Name="prod")["FunctionVersion"] \
            == "1"

    client = clients[-1]
    assert writes(client, "events") == {"events.PutRule": 2, "events.PutTargets": 2,
                                        "events.RemoveTargets": 1, "events.DeleteRule": 1}
    assert writes(client, "lambda") == {"lambda.UpdateAlias": 3, "lambda.AddPermission": 1,
                                        "lambda.RemovePermission": 1}
    assert writes(client, "s3") == {"s3.PutObject": 1}

    state = state_object()
    assert sorted(state["rules"]) == ["shop-prod-keep-warm", "shop-prod-report-schedule",
                                      "shop-prod-worker-schedule"]
    assert state["releases"][-1]["rules"] == state["releases"][0]["rules"]

    # rolling back again (-n 1) repeats release 2: its rules come back, worker's go
    forward = provider.rollback(v2, 1)
    assert forward.version == 4 and forward.functions == {"app": 2, "worker": 2, "report": 2,
                                                          "hello": 1}
    got = rules()
    assert sorted(got) == ["shop-prod-hello-schedule", "shop-prod-keep-warm",
                           "shop-prod-report-schedule"]
    assert got["shop-prod-report-schedule"]["expression"] == "rate(1 hour)"
    assert got["shop-prod-hello-schedule"]["arn"] == alias("hello")
    assert got["shop-prod-keep-warm"]["state"] == "DISABLED"
    assert hello_sid in alias_sids("hello")


def test_a_schedule_only_deploy_is_a_release(
    provider: AwsProvider, make_service: Callable[..., Service]
) -> None:
    provider.deploy(make_service(**V1))
    changed = {**V1, "functions": {**V1["functions"], "report": {
        "handler": "r.r", "events": [{"schedule": "rate(1 hour)"}]}}}
    result = provider.deploy(make_service(**changed))
    assert result.version == 2 and result.functions == {"app": 1, "worker": 1, "report": 1}
    back = provider.rollback(make_service(**changed), 1)
    assert back.version == 3
    assert rules()["shop-prod-report-schedule"]["expression"] == "cron(0 12 * * ? *)"


def test_rollback_to_a_release_without_recorded_rules(
    provider: AwsProvider, deployed: tuple[Service, Service], clients: list[AwsClient]
) -> None:
    _, v2 = deployed
    data = state_object()
    for release in data["releases"]:  # what an older aloft wrote
        del release["rules"]
    put_state_object(data)
    before = rules()
    back = provider.rollback(v2, 1)
    assert back.version == 3 and back.functions["app"] == 1
    [note] = [s for s in back.plan if s.action == "Note"]
    assert "left as they are" in note.note
    assert rules() == before
    assert writes(clients[-1], "events") == {}
