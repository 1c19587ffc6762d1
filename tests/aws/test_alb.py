"""`alb` events on AWS (moto's Elastic Load Balancing): a target group of the function's stage
alias, registered, with the load balancer allowed to invoke it, and a rule on the user's
listener forwarding to it; read back (a redeploy is no change), changed in place, and removed
with the event or the stage."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.errors import ConfigError
from tests.aws.conftest import boto


@pytest.fixture
def listener(provider: AwsProvider) -> str:
    """A load balancer and its listener: the user's, as with the Serverless Framework."""
    ec2 = boto("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24",
                                 AvailabilityZone=f"eu-west-1{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    elb = boto("elbv2")
    lb = elb.create_load_balancer(Name="users-lb", Subnets=subnets)["LoadBalancers"][0]
    return str(elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
            "StatusCode": "404"}}])["Listeners"][0]["ListenerArn"])


def _functions(listener: str, **alb: Any) -> dict[str, Any]:
    event = {"listener": listener, "priority": 5, "paths": ["/api/*"], **alb}
    return {"h": {"handler": "h.h", "events": [{"alb": event}]}}


def _rules(listener: str) -> list[dict[str, Any]]:
    rules = boto("elbv2").describe_rules(ListenerArn=listener)["Rules"]
    return [r for r in rules if not r["IsDefault"]]


def test_a_target_group_and_a_listener_rule(
        listener: str, provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    deployed = provider.deploy(make_service(functions=_functions(listener)))
    assert not any("alb" in w for w in deployed.warnings), deployed.warnings
    elb = boto("elbv2")
    [group] = [g for g in elb.describe_target_groups()["TargetGroups"]
               if g["TargetGroupName"].startswith("aloft-")]
    assert group["TargetType"] == "lambda"
    targets = elb.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
    alias = boto("lambda").get_alias(FunctionName="shop-prod-h", Name="prod")["AliasArn"]
    assert [t["Target"]["Id"] for t in targets["TargetHealthDescriptions"]] == [alias]
    [rule] = _rules(listener)
    assert rule["Priority"] == "5"
    assert rule["Actions"][0]["TargetGroupArn"] == group["TargetGroupArn"]
    assert rule["Conditions"][0]["Field"] == "path-pattern"
    assert "/api/*" in json.dumps(rule["Conditions"][0])
    policy = json.loads(boto("lambda").get_policy(FunctionName="shop-prod-h",
                                                  Qualifier="prod")["Policy"])
    [allowed] = [st for st in policy["Statement"]
                 if st["Principal"] == {"Service": "elasticloadbalancing.amazonaws.com"}]
    assert allowed["Condition"]["ArnLike"]["AWS:SourceArn"].endswith(
        f":targetgroup/{group['TargetGroupName']}/*")
    assert provider.deploy(make_service(functions=_functions(listener))).plan == []

    # new conditions and multi-value headers: the rule and the group change in place
    changed = _functions(listener, paths=["/v2/*"], multi_value_headers=True)
    plan = provider.deploy(make_service(functions=changed), plan_only=True).plan
    assert [p.action for p in plan] == ["UpdateAlbTarget", "WriteState"]
    provider.deploy(make_service(functions=changed))
    [rule] = _rules(listener)
    assert "/v2/*" in json.dumps(rule["Conditions"]) and "/api/*" not in json.dumps(
        rule["Conditions"])
    attributes = elb.describe_target_group_attributes(TargetGroupArn=group["TargetGroupArn"])
    assert {"Key": "lambda.multi_value_headers.enabled", "Value": "true"} in \
        attributes["Attributes"]
    assert provider.deploy(make_service(functions=changed)).plan == []

    # the event goes: so do its rule, its group and the permission
    provider.deploy(make_service(functions={"h": {"handler": "h.h"}}))
    assert _rules(listener) == []
    assert not [g for g in elb.describe_target_groups()["TargetGroups"]
                if g["TargetGroupName"].startswith("aloft-")]


def test_undeploy_removes_them(listener: str, provider: AwsProvider,
                               make_service: Callable[..., Service]) -> None:
    svc = make_service(functions=_functions(listener))
    provider.deploy(svc)
    provider.undeploy(svc)
    assert _rules(listener) == []
    assert boto("elbv2").describe_target_groups()["TargetGroups"] == []


def test_a_listener_that_is_not_an_arn_is_refused(
        provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    with pytest.raises(ConfigError, match="needs its listener's ARN"):
        provider.deploy(make_service(functions=_functions("my-listener")))


def test_a_rule_deleted_by_hand_is_made_again(
        listener: str, provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    svc = make_service(functions=_functions(listener))
    provider.deploy(svc)
    [rule] = _rules(listener)
    boto("elbv2").delete_rule(RuleArn=rule["RuleArn"])
    plan = provider.deploy(svc, plan_only=True).plan
    assert [p.action for p in plan] == ["UpdateAlbTarget", "WriteState"]
    provider.deploy(svc)
    [again] = _rules(listener)
    assert again["Priority"] == "5" and again["RuleArn"] != rule["RuleArn"]
    assert provider.deploy(svc).plan == []
