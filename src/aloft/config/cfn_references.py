"""What the logical ids in a service's CloudFormation values stand for, checked when it loads.

`!Ref X` and `!GetAtt X.Attr` name a resource of the service by its key (`resources.queues.Jobs`
is `Jobs`; a serverless.yml resource keeps its logical id as key), a function as the Serverless
Framework names it (`HelloLambdaFunction`), the stage's API (`ApiGatewayRestApi`, `HttpApi`),
role (`IamRoleLambdaExecution`) or a pseudo parameter (`AWS::Region`). `logical_ids` is the
table the stage model resolves against; `check` refuses an unknown name or attribute, and an
`Fn::If` on an undefined condition, at the file:line where it was written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from aloft.config.intrinsics import (
    CONDITION_TYPES,
    INTRINSIC_TYPES,
    condition_names,
    describe,
    references,
)
from aloft.config.locate import Locator
from aloft.config.models import Service
from aloft.config.source import KeyPath
from aloft.config.stages import suggest
from aloft.errors import ConfigError, ConfigErrors

PSEUDO_PARAMETERS = ("AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix",
                     "AWS::StackName", "AWS::StackId", "AWS::NoValue", "AWS::NotificationARNs")

ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "queues": ("Arn", "QueueName", "QueueUrl"),
    "topics": ("TopicArn", "TopicName"),
    "buckets": ("Arn", "DomainName", "RegionalDomainName", "DualStackDomainName", "WebsiteURL"),
    "tables": ("Arn", "StreamArn"),
    "parameters": ("Type", "Value"),
    "function": ("Arn",),
    "api": ("ApiEndpoint", "ApiId", "RootResourceId"),
    "role": ("Arn", "RoleId"),
    "deployment_bucket": ("Arn", "DomainName", "RegionalDomainName"),
    "pseudo": (),
}
"""The attributes `Fn::GetAtt` may read of each kind of thing."""


@dataclass(frozen=True)
class Target:
    """What a logical id stands for: a kind (`queues`, `function`, `api`, ...) and its key."""

    kind: str
    key: str


def serverless_function_id(name: str) -> str:
    """The Serverless Framework's logical id of function `name` (`hello-world` ->
    `HelloDashworldLambdaFunction`)."""
    normal = name[:1].upper() + name[1:]
    normal = normal.replace("-", "Dash").replace("_", "Underscore")
    return f"{normal}LambdaFunction"


def logical_ids(service: Service) -> dict[str, Target]:
    """Every logical id a CloudFormation value of `service` may name."""
    out: dict[str, Target] = {p: Target("pseudo", p) for p in PSEUDO_PARAMETERS}
    for name in ("ApiGatewayRestApi", "HttpApi"):
        out[name] = Target("api", "")
    out["IamRoleLambdaExecution"] = Target("role", "")
    out["ServerlessDeploymentBucket"] = Target("deployment_bucket", "")
    for name in service.all_function_names():
        out[serverless_function_id(name)] = Target("function", name)
    for kind in ("buckets", "queues", "topics", "tables", "parameters"):
        for key in getattr(service.resources, kind):
            out[key] = Target(kind, key)
    for key, queue in service.resources.queues.items():
        if queue.dead_letter is True:  # aloft creates it as `{key}-dlq`
            out.setdefault(f"{key}-dlq", Target("queues", f"{key}-dlq"))
    return out


def values(node: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    """Every CloudFormation value (intrinsic or condition) in a model, with its key path."""
    if isinstance(node, INTRINSIC_TYPES + CONDITION_TYPES):
        yield path, node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from values(getattr(node, name), (*path, name))
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from values(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from values(value, (*path, index))


_SUB_AWS = re.compile(r"^AWS::")


def check(service: Service, locator: Locator) -> None:
    """Refuses a CloudFormation value that names something the service does not have."""
    known = logical_ids(service)
    problems: list[ConfigError] = []
    for path, value in values(service):
        for name in condition_names(value):
            if name not in service.conditions:
                hint = suggest(name, list(service.conditions))
                problems.append(locator.error(
                    path, f"`{describe(value)}` uses condition {name!r}, which is not defined",
                    (hint + " " if hint else "") + "define it under `conditions` (serverless: "
                    "resources.Conditions)"))
        for name, attribute in references(value):
            problem = _reference(known, name, attribute, value)
            if problem is not None:
                problems.append(locator.error(path, *problem))
    if problems:
        raise problems[0] if len(problems) == 1 else ConfigErrors(problems)


def _reference(known: dict[str, Target], name: str, attribute: str | None,
               value: Any) -> tuple[str, str] | None:
    target = known.get(name)
    if target is None:
        if _SUB_AWS.match(name):
            return (f"`{describe(value)}`: {name} is not a pseudo parameter aloft knows",
                    f"use one of {', '.join(PSEUDO_PARAMETERS)}")
        hint = suggest(name, [k for k, t in known.items() if t.kind != "pseudo"])
        return (f"`{describe(value)}` refers to {name}, which is not a resource or function "
                "of this service",
                (hint + " " if hint else "") + "refer to a resource under `resources` by its "
                "key (serverless.yml: its logical id), or write the value itself")
    if attribute is None:
        return None
    allowed = ATTRIBUTES.get(target.kind, ())
    if attribute not in allowed:
        return (f"`{describe(value)}`: {name} ({target.kind}) has no attribute {attribute!r}",
                f"use one of: {', '.join(allowed) or 'none (use Ref)'}")
    return None
