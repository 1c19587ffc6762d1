"""`aws.role: per_function` against moto: each function runs with a role of its own that allows
what its grants allow, and going back to the stage's one role (or undeploying) removes them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from tests.aws.conftest import boto
from tests.aws_stage import FULL

APART = {**FULL, "aws": {"region": "eu-west-1", "role": "per_function"}}


def policy(role: str) -> dict[str, Any]:
    doc = boto("iam").get_role_policy(RoleName=role, PolicyName="aloft")["PolicyDocument"]
    return {st["Sid"]: st for st in (json.loads(doc) if isinstance(doc, str) else doc)[
        "Statement"]}


def roles() -> set[str]:
    return {r["RoleName"] for r in boto("iam").list_roles()["Roles"]}


def test_each_function_has_its_own_role(provider: AwsProvider,
                                        make_service: Callable[..., Service]) -> None:
    provider.deploy(make_service(**APART))
    lam = boto("lambda")
    for fn in ("app", "worker", "hello"):
        conf = lam.get_function_configuration(FunctionName=f"shop-prod-{fn}")
        assert conf["Role"].endswith(f":role/shop-prod-{fn}-lambda")
    assert roles() == {"shop-prod-app-lambda", "shop-prod-worker-lambda",
                       "shop-prod-hello-lambda"}
    worker, hello = policy("shop-prod-worker-lambda"), policy("shop-prod-hello-lambda")
    assert worker["Logs"]["Resource"] == [
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/shop-prod-worker:*"]
    assert hello["Logs"]["Resource"] == [
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/shop-prod-hello:*"]
    assert {"ConsumedQueues", "Streams", "Secrets", "User0"} <= set(worker)
    assert not {"ConsumedQueues", "Streams", "Secrets", "User0"} & set(hello)
    assert "Queues" in hello and "FailedEvents" in hello  # declared resources; AWS's own


def test_switching_roles_removes_the_ones_left_unused(
        provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    provider.deploy(make_service(**FULL))
    assert roles() == {"shop-prod-lambda"}
    provider.deploy(make_service(**APART))
    assert roles() == {"shop-prod-app-lambda", "shop-prod-worker-lambda",
                       "shop-prod-hello-lambda"}
    assert provider.deploy(make_service(**APART), plan_only=True).plan == []
    provider.deploy(make_service(**FULL))
    assert roles() == {"shop-prod-lambda"}
    assert boto("lambda").get_function_configuration(FunctionName="shop-prod-worker")[
        "Role"].endswith(":role/shop-prod-lambda")
    provider.deploy(make_service(**APART))
    provider.undeploy(make_service(**APART))
    assert roles() == set()
