"""`alb` events on AWS: each is a target group of the function's stage alias and a rule on the
user's load balancer listener forwarding to it (the load balancer and listener are the user's,
as with the Serverless Framework's `alb` event).

A target group is named by what identifies the rule (function, listener, priority: a
listener's priorities are unique), so a redeploy finds it; what can change in place (the
conditions, multi-value headers) is kept as a hash in its `aloft:alb` tag and compared with
it. The function's invoke permission names the target group by a wildcard ARN (its id is
random), so that it exists before the target is registered, as Elastic Load Balancing
requires.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from aloft.aws import specs as s
from aloft.aws.client import AwsClient
from aloft.aws.errors import AwsNotFound
from aloft.stage import records as r

PRINCIPAL = "elasticloadbalancing.amazonaws.com"
SPEC_TAG = "aloft:alb"
LISTENER_TAG = "aloft:listener"
# Conditions whose values go in a `...Config` (the API's form; `Values` is the legacy one,
# which http-request-method, http-header and query-string never had)
_CONFIG_KEYS = {"path-pattern": "PathPatternConfig", "host-header": "HostHeaderConfig",
                "http-request-method": "HttpRequestMethodConfig"}


def _hash(text: str, n: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def spec(target: r.AlbTarget, stage_prefix: str) -> s.AlbSpec:
    """The target group and rule of one `alb` event (`stage_prefix`: `{service}-{stage}`)."""
    identity = f"{stage_prefix}/{target.physical}/{target.listener}/{target.priority}"
    name = f"aloft-{_hash(identity, 20)}"  # 26 characters: a target group's name takes 32
    return s.AlbSpec(function=target.function, physical=target.physical, name=name,
                     listener=target.listener, priority=target.priority,
                     conditions=conditions(target.conditions),
                     multi_value_headers=target.multi_value_headers)


def conditions(text: str) -> str:
    """The stage model's conditions (JSON) in the form the API and CloudFormation take."""
    out: list[dict[str, Any]] = []
    for condition in json.loads(text):
        field = condition["Field"]
        key = _CONFIG_KEYS.get(field)
        if key is not None and "Values" in condition:
            condition = {"Field": field, key: {"Values": condition["Values"]}}
        out.append(condition)
    return json.dumps(out, sort_keys=True)


def fingerprint(x: s.AlbSpec) -> str:
    """What may change in place, as the target group's tag keeps it."""
    return _hash(json.dumps([x.conditions, x.multi_value_headers]), 16)


def permission(x: s.AlbSpec, arn: str) -> s.Permission:
    """The function's invoke permission for the target group (`arn`: its wildcard ARN)."""
    return s.Permission(x.function, f"aloft-alb-{x.name.removeprefix('aloft-')[:12]}",
                        PRINCIPAL, arn)


@dataclass(frozen=True)
class ActualAlb:
    name: str
    arn: str
    listener: str
    fingerprint: str
    rule_arn: str | None  # None: the rule is gone (deleted by hand)


def read(aws: AwsClient, names: list[str]) -> dict[str, ActualAlb]:
    """The stage's target groups among `names` (what it should have and what it made), with
    the rule of their listener that forwards to each."""
    out: dict[str, ActualAlb] = {}
    for name in names:
        got = aws.find("elbv2", "describe_target_groups", Names=[name])
        if got is None or not got.get("TargetGroups"):
            continue
        arn = str(got["TargetGroups"][0]["TargetGroupArn"])
        tags = aws.call("elbv2", "describe_tags", ResourceArns=[arn])["TagDescriptions"]
        tag = {t["Key"]: t["Value"] for d in tags for t in d.get("Tags", ())}
        listener = tag.get(LISTENER_TAG, "")
        out[name] = ActualAlb(name, arn, listener, tag.get(SPEC_TAG, ""),
                              _rule(aws, listener, arn) if listener else None)
    return out


def _rule(aws: AwsClient, listener: str, target_group: str) -> str | None:
    """The listener's rule forwarding to `target_group` (every page of its rules); None when
    there is none, or no listener any more."""
    try:
        for rule in aws.pages("elbv2", "describe_rules", "Rules", ListenerArn=listener):
            for action in rule.get("Actions", ()):
                if action.get("TargetGroupArn") == target_group:
                    return str(rule["RuleArn"])
    except AwsNotFound:
        return None
    return None
