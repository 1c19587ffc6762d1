"""What the providers use until the stage model resolves CloudFormation values, and the settings
they do not apply yet: each named in `Service.warnings` when the stage is loaded (`gaps`).

The service model keeps intrinsics typed (aloft.config.intrinsics). Until a provider resolves
them: an environment variable whose value is one is left out, a statement's intrinsic resource
is left out of an Allow (a Deny covers every resource instead: never more permissive than
written), and an event source that is one is refused when the stage is deployed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aloft.config.intrinsics import Intrinsic, describe, is_intrinsic
from aloft.errors import ConfigError

if TYPE_CHECKING:
    from aloft.config.models import Event, Service, Statement


def text_environment(environment: Mapping[str, str | Intrinsic]) -> dict[str, str]:
    """The variables whose value is text."""
    return {k: v for k, v in environment.items() if isinstance(v, str)}


def statement_resources(statement: Statement) -> list[str]:
    """A statement's resources as text (see the module's docstring)."""
    text = [r for r in statement.resource if isinstance(r, str)]
    if len(text) == len(statement.resource):
        return text
    return ["*"] if statement.effect == "Deny" else text


def source_text(value: str | Intrinsic, what: str) -> str:
    """An event source's name or ARN as text; ConfigError if it is a CloudFormation value."""
    if isinstance(value, str):
        return value
    raise ConfigError(
        f"the {what} of an event is `{describe(value)}`: deployments do not resolve "
        "CloudFormation values in event sources yet",
        fix="write the ARN (`arn:aws:sqs:${aws:region}:${aws:accountId}:name`) or a resource "
            "key of this service",
    )


def gaps(service: Service) -> list[str]:
    """Warnings for what the stage reads but deployments do not apply yet."""
    out: list[str] = []
    if service.dead_letter is not None:
        out.append("`dead_letter`: read, but deployments do not apply it yet")
    for name, value in service.environment.items():
        if is_intrinsic(value):
            out.append(_env(f"environment.{name}", value))
    for name, fn in service.functions.items():
        at = f"functions.{name}"
        for key, value in fn.environment.items():
            if is_intrinsic(value):
                out.append(_env(f"{at}.environment.{key}", value))
        for key in ("runtime", "provisioned_concurrency", "tracing", "destinations",
                    "dead_letter"):
            if getattr(fn, key) is not None:
                out.append(f"`{at}.{key}`: read, but deployments do not apply it yet")
        for i, event in enumerate(fn.events):
            out.extend(_event(f"{at}.events[{i}]", event))
    for where, statements in [("permissions", service.permissions),
                              *((f"functions.{n}.permissions", f.permissions)
                                for n, f in service.functions.items())]:
        for i, statement in enumerate(statements):
            for value in statement.resource:
                if is_intrinsic(value):
                    assert not isinstance(value, str)
                    effect = "covers every resource" if statement.effect == "Deny" \
                        else "leaves it out"
                    out.append(f"`{where}[{i}].resource`: `{describe(value)}` is kept for "
                               f"when deployments resolve CloudFormation values; until then the "
                               f"statement {effect}")
    return out


def _env(where: str, value: str | Intrinsic) -> str:
    assert not isinstance(value, str)
    return (f"`{where}`: `{describe(value)}` is kept for when deployments resolve "
            "CloudFormation values; until then the variable is not set")


def _event(where: str, event: Event) -> list[str]:
    if event.eventbridge is not None or event.alb is not None:
        return [f"`{where}`: {event.kind} events are read, but deployments do not create "
                "them yet"]
    source = event.queue or event.topic or event.stream
    if source is not None and not isinstance(source.name, str):
        return [f"`{where}.{event.kind}.name`: `{describe(source.name)}` is kept for when "
                "deployments resolve CloudFormation values; until then deploying refuses it"]
    return []
