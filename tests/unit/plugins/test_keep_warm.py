"""The built-in keep-warm plugin gives both providers the schedule they built themselves before
(the same rule name, expression, input, target and description)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aloft.aws import specs as s
from aloft.aws.desired import desired
from aloft.aws.names import Account, Names
from aloft.config.models import Service
from aloft.local.deploy.plan import DesiredSchedule, desired_schedules
from aloft.local.services.account import local_stage
from aloft.package.manifest import ArtifactFile, Manifest
from aloft.plugins import Lifecycle, builtin_plugins
from aloft.plugins.builtin.keep_warm import with_keep_warm


def service(**fields: Any) -> Service:
    return Service.model_validate({"service": "shop", "stage": "dev", "root": Path("/tmp/shop"),
                                   "app": "app:app", "runtime": "3.12", **fields})


def test_local_schedule_is_the_one_the_provider_made_before() -> None:
    warm = Lifecycle.started("deploy", service(keep_warm={"rate": "3 minutes"}),
                             builtin_plugins(), first="validate").service
    assert desired_schedules(local_stage(warm)) == [DesiredSchedule(
        name="shop-dev-keep-warm", function="app", physical="shop-dev-app",
        expression="rate(3 minutes)", input=json.dumps({"aloft": "keep_warm"}),
        kind="keep_warm", enabled=True,
    )]


def test_aws_rule_is_the_one_the_provider_made_before() -> None:
    svc = with_keep_warm(service(keep_warm=True, provider="aws",
                                 aws={"region": "eu-west-1"}))
    art = ArtifactFile(Path("code.zip"), 10, "ab" * 32)
    built = Manifest(code=art, layer=None, python_version="3.12",
                     platform="manylinux2014_x86_64", provider="aws")
    names = Names.of(svc, Account("111122223333", "eu-west-1"))
    rules = desired(svc, built, names).rules
    assert rules == (s.RuleSpec(names.rule("keep-warm"), "rate(4 minutes)", True, "app",
                                json.dumps({"aloft": "keep_warm"}), "aloft keep_warm"),)


def test_no_schedule_when_off_or_without_an_app_and_applying_twice_adds_one() -> None:
    assert with_keep_warm(service()).app_events == []  # keep_warm defaults to off
    functions_only = Service.model_validate({
        "service": "shop", "stage": "dev", "root": Path("/tmp"), "keep_warm": True,
        "functions": {"job": {"handler": "jobs.run"}}})
    assert desired_schedules(local_stage(with_keep_warm(functions_only))) == []
    twice = with_keep_warm(with_keep_warm(service(keep_warm=True)))
    assert [e.schedule.name for e in twice.app_events if e.schedule] == ["keep-warm"]
