"""The least-privilege IAM policy of a stage's role, as a JSON document.

One role serves every function of the stage, so its policy is the union of the functions'
grants (aloft.stage.grants, which the local cloud enforces per function), plus what only AWS
needs: sending failed async events to the stage's failure queue, X-Ray for traced functions,
and Lambda's network interfaces in a VPC. Nothing else. With `aws.role: per_function` each
function has a role of its own, whose policy is its grants alone (and what AWS needs of it).
"""

from __future__ import annotations

import json
from typing import Any

from aloft.aws.names import Names
from aloft.config.models import Service
from aloft.stage import records as r
from aloft.stage.grants import USER

ASSUME_ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    },
    sort_keys=True,
)


def statement(g: r.Grant) -> dict[str, Any]:
    """A grant as an IAM policy statement."""
    out: dict[str, Any] = {"Sid": g.sid, "Effect": g.effect, "Action": list(g.actions),
                           "Resource": list(g.resources)}
    if not g.sid.startswith(USER):  # the stage's own grants: in a stable order
        out["Action"], out["Resource"] = sorted(set(g.actions)), sorted(set(g.resources))
    if g.conditions:
        condition: dict[str, dict[str, Any]] = {}
        for c in g.conditions:
            condition.setdefault(c.operator, {})[c.key] = \
                c.values[0] if len(c.values) == 1 else list(c.values)
        out["Condition"] = condition
    return out


def merged(grants: tuple[r.Grant, ...]) -> list[r.Grant]:
    """One grant per (sid, effect, actions, conditions), with the resources of all: the
    functions' own log groups become one `Logs` statement. `permissions` statements are
    numbered (`User0`, `User1`, ...) once each."""
    out: dict[tuple[Any, ...], r.Grant] = {}
    users: list[r.Grant] = []
    for g in grants:
        if g.sid == USER:
            if g not in users:
                users.append(g)
            continue
        key = (g.sid, g.effect, g.actions, g.conditions)
        have = out.get(key)
        out[key] = g if have is None else r.Grant(
            g.sid, g.actions, tuple(dict.fromkeys(have.resources + g.resources)), g.effect,
            g.conditions)
    own = list(out.values())
    sids = [g.sid for g in own]
    own = [g if sids.count(g.sid) == 1 else  # one sid, other actions: numbered
           r.Grant(f"{g.sid}{n}", g.actions, g.resources, g.effect, g.conditions)
           for n, g in enumerate(own)]
    return [*own, *(r.Grant(f"{USER}{i}", g.actions, g.resources, g.effect)
                    for i, g in enumerate(users))]


def platform_grants(service: Service, stage: r.Stage, names: Names,
                    functions: tuple[r.Function, ...] | None = None) -> list[r.Grant]:
    """What AWS itself needs of the role of `functions` (default: all) besides their grants."""
    out = [r.Grant("FailedEvents", ("sqs:SendMessage",),
                   (names.queue_arn(names.failure_queue),))]
    if any(fn.tracing for fn in (stage.functions if functions is None else functions)):
        out.append(r.Grant("Tracing", ("xray:PutTraceSegments", "xray:PutTelemetryRecords"),
                           ("*",)))
    if service.aws.vpc:
        # Lambda's ENI management has no resource-level permissions.
        out.append(r.Grant("Vpc", (
            "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
            "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses"), ("*",)))
    return out


def role_policy(service: Service, stage: r.Stage, names: Names,
                function: r.Function | None = None) -> str:
    """The policy document (sorted JSON) of the stage role, or of `function`'s own role."""
    fns = None if function is None else (function,)
    grants = merged(stage.grants() if function is None else function.grants)
    users = [g for g in grants if g.sid.startswith(USER)]
    own = [g for g in grants if not g.sid.startswith(USER)]
    statements = [statement(g) for g in [*own, *platform_grants(service, stage, names, fns),
                                         *users]]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
