"""What a stage reads but its provider does not apply yet: each named in `Service.warnings` when
the stage is loaded (`gaps`), so that `aloft validate` says it before a deploy does.

CloudFormation values (aloft.config.intrinsics) are resolved by the stage model (aloft.stage)
on both providers; the local cloud refuses what it has no value for (another stack's export).
Building the artifact happens before any stage exists: `text_environment` is what it sees of
the environment (Django's collectstatic).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from aloft.config.intrinsics import ImportValue, Intrinsic, Value

if TYPE_CHECKING:
    from aloft.config.models import Function, Service


def text_environment(environment: Mapping[str, str | Intrinsic]) -> dict[str, str]:
    """The variables whose value is text (known before the stage exists)."""
    return {k: v for k, v in environment.items() if isinstance(v, str)}


def gaps(service: Service) -> list[str]:
    """Warnings for what the stage reads but its provider does not apply yet."""
    local = service.provider == "local"
    out: list[str] = []
    if local and service.uses_cdn:
        out.append("`cdn`: the local cloud serves the static files and the API directly (aws "
                   "deployments put a CloudFront distribution in front of them)")
    for name, fn in service.functions.items():
        out.extend(_function(f"functions.{name}", fn, service, local))
    if local:
        out.extend(f"`{where}`: `!ImportValue {value.name}` has no value on the local cloud (it "
                   "has no other stacks): deploying refuses it"
                   for where, value in _imports(service))
    return out


def _function(at: str, fn: Function, service: Service, local: bool) -> Iterator[str]:
    for i, event in enumerate(fn.events):
        if event.alb is not None and local:
            yield (f"`{at}.events[{i}]`: alb events are read, but the local cloud serves "
                   "functions through its gateway's routes (aws deployments register them "
                   "with the load balancer)")


def _imports(service: Service) -> Iterator[tuple[str, ImportValue]]:
    """Every `Fn::ImportValue` of the service, with where it was written."""
    from aloft.config.cfn_references import values

    for path, value in values(service):
        for found in _import_values(value):
            yield ".".join(str(p) for p in path), found


def _import_values(value: Value | object) -> Iterator[ImportValue]:
    if isinstance(value, ImportValue):
        yield value
    elif isinstance(value, tuple):
        for v in value:
            yield from _import_values(v)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from _import_values(getattr(value, name))
