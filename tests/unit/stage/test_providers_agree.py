"""Both providers translate the one stage model: for every stage of every example and of every
project of the compatibility corpus, the aws provider's desired state and the local cloud's
plan, versions and grants name the same functions, rules, resources and event sources, give
each function the same environment, and allow the same calls (pure: no cloud, no AWS)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from aloft.aws import specs as s
from aloft.aws.desired import desired
from aloft.aws.names import Names
from aloft.aws.policy import platform_grants
from aloft.config import load_project
from aloft.config.models import Service
from aloft.local.deploy import instructions as i
from aloft.local.deploy.plan import CurrentStage, desired_schedules, plan_deploy
from aloft.local.deploy.versions import DUMMY_CREDENTIALS, function_environment
from aloft.local.services.account import local_account, local_stage
from aloft.local.services.auth import GRANTS_MARKER, function_grants
from aloft.local.services.resources import desired_resources
from aloft.local.triggers.pollers.bindings import desired_bindings
from aloft.plugins import load_service as load_with_plugins
from aloft.stage import Stage
from aloft.stage.functions import lambda_environment
from tests.aws_stage import FakeBuild

ROOT = Path(__file__).resolve().parents[3]
PROJECTS = sorted([*(p for p in (ROOT / "examples").iterdir() if p.is_dir()),
                   *(p for p in (ROOT / "tests" / "compat" / "projects").iterdir()
                     if p.is_dir())])
LOCAL_ONLY = {"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "ALOFT_BASE_PATH",
              *DUMMY_CREDENTIALS}
"""What the local cloud adds to an instance's environment besides Lambda's own variables."""


def services(project: Path) -> list[Service]:
    found = load_project(project, env={})
    out = []
    for name in found.stages or [found.default_stage]:
        service, plugins = load_with_plugins(project, name)
        out.append(plugins.apply_service(service, "test"))
    return out


def both(service: Service) -> tuple[s.Desired, Stage]:
    """The aws provider's desired state and the local cloud's stage, in one account."""
    account = local_account(None)
    aws_stage = service.model_copy(update={"provider": "aws"})
    return (desired(aws_stage, FakeBuild(), Names.of(aws_stage, account)),
            local_stage(service))


def statements(doc: str) -> list[dict[str, Any]]:
    return list(json.loads(doc)["Statement"])


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_both_providers_derive_the_same_stage(project: Path, tmp_path: Path) -> None:
    for service in services(project):
        d, stage = both(service)
        where = f"{project.name} {service.stage}"
        plan = plan_deploy(service, "c0de", None, CurrentStage(), stage=stage)
        published = {x.name: x.function for x in plan if isinstance(x, i.Publish)}
        assert published == {f.name: f.physical for f in d.functions}, where
        assert [(x.name, x.function, x.expression, x.input) for x in
                desired_schedules(stage)] == [
            (r.name, r.function, r.expression, r.input) for r in d.rules
            if r.pattern is None], where
        assert [r.name for r in d.rules if r.pattern is not None] == [
            x.name for x in stage.event_rules], where
        assert {r["physical"] for r in desired_resources(stage)} == {
            x.name for group in (d.resources.buckets, d.resources.queues, d.resources.topics,
                                 d.resources.tables, d.resources.parameters)
            for x in group if x.key != "aloft-failed"}, where
        _same_sources(d, stage, where)
        for fn in d.functions:
            _same_environment(stage, fn, tmp_path, where)
        if d.roles:
            _same_grants(d.roles[0].policy, service, stage, where)
        _own_roles(service, stage, where)


def _same_sources(d: s.Desired, stage: Stage, where: str) -> None:
    local = {(b.kind, b.source) for b in desired_bindings(stage)}
    arns = {b.source: b.arn for b in stage.bindings}
    aws = {("stream" if any(k in m.source_arn for k in (":dynamodb:", ":kinesis:", "${stream:"))
            else "queue", m.source_arn) for m in d.mappings}
    aws |= {("topic", x.topic_arn) for x in d.subscriptions}
    aws |= {("bucket", bucket) for bucket, _ in d.notifications}
    assert {(kind, source if kind == "bucket" else arns[source])
            for kind, source in local} == aws, where


def _same_environment(stage: Stage, spec: s.FunctionSpec, tmp_path: Path, where: str) -> None:
    fn = stage.function(spec.name)
    env = function_environment(stage, fn, 1, 8750, tmp_path, {"AWS_ENDPOINT_URL": "x"})
    lambdas = lambda_environment(fn, "r", version="1", task_root="t", log_stream="l")
    own = {k: v for k, v in env.items() if k not in LOCAL_ONLY and k not in lambdas}
    assert own == dict(spec.config.environment), f"{where} {spec.name}"


def _own_roles(service: Service, stage: Stage, where: str) -> None:
    """With `aws.role: per_function`, each function's role allows what its grants allow there
    and no other function's."""
    apart = service.model_copy(update={"provider": "aws", "aws": service.aws.model_copy(
        update={"role": "per_function"})})
    d = desired(apart, FakeBuild(), Names.of(apart, stage.account))
    assert len(d.roles) == len(stage.functions), where
    for fn, role in zip(stage.functions, d.roles, strict=True):
        assert d.function(fn.name).config.role == role.arn, where
        one = dataclasses.replace(stage, functions=(fn,))
        _same_grants(role.policy, apart, one, f"{where} {fn.name}'s own role")


def _same_grants(policy: str, service: Service, stage: Stage, where: str) -> None:
    """The role allows every call a function's grants allow there, and no more than all of
    them and what AWS itself needs (the failure queue, X-Ray, the VPC's interfaces)."""
    role = statements(policy)
    aws_only = {g.sid for g in platform_grants(service, stage, Names.of(service, stage.account))}
    local = [(fn.name, st) for fn in stage.functions
             for st in function_grants(fn) if st.get("sid") != GRANTS_MARKER["sid"]]
    for name, st in local:
        covering = [r for r in role if r["Effect"] == st["effect"]
                    and set(st["action"]) <= set(r["Action"])
                    and set(st["resource"]) <= set(r["Resource"])
                    and bool(st.get("condition")) == ("Condition" in r)]
        assert covering, f"{where} {name}: the role lacks {st}"
    for r in role:
        if r["Sid"] in aws_only:
            continue
        for resource in r["Resource"]:
            assert any(st["effect"] == r["Effect"] and set(r["Action"]) == set(st["action"])
                       and resource in st["resource"] for _, st in local), \
                f"{where}: the role's {r['Sid']} on {resource} is no function's grant"
