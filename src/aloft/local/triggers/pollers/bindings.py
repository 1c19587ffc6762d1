"""Which resources feed which functions: derived from the service at deploy (stored with the
deployment, so a restart or a rollback re-derives them) and read back from the registry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from aloft.config.intrinsics import Intrinsic
from aloft.config.models import Service
from aloft.config.unresolved import source_text
from aloft.errors import ConfigError, Location
from aloft.naming import Account, ResourceNames

BindingKind = Literal["queue", "topic", "bucket", "stream"]
EXTRA_KEY = "sources"
"""Key of a Deployment's `extra` holding its bindings (a list of `Binding.to_json()`)."""


@dataclass(frozen=True)
class Binding:
    """One event source mapping: a resource (physical name or ARN) → a function (physical)."""

    kind: BindingKind
    function: str
    source: str
    batch_size: int = 10
    window: int = 0
    partial_failures: bool = True
    enabled: bool = True
    filter_policy: str | None = None  # topic: the SNS filter policy as JSON text
    events: tuple[str, ...] = ()  # bucket: s3:ObjectCreated:* ...
    prefix: str | None = None
    suffix: str | None = None
    stream_type: Literal["dynamodb", "kinesis"] = "dynamodb"
    starting_position: Literal["LATEST", "TRIM_HORIZON"] = "LATEST"
    stage: tuple[str, str] = field(default=("", ""), compare=False)  # (service, stage)

    @property
    def key(self) -> str:
        """Stable across redeploys that only change settings: names internal queues and
        checkpoints, like the UUID of a Lambda event source mapping."""
        raw = f"{self.kind}|{self.function}|{self.stream_type}|{self.source}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "function": self.function, "source": self.source,
            "batch_size": self.batch_size, "window": self.window,
            "partial_failures": self.partial_failures, "enabled": self.enabled,
            "filter_policy": self.filter_policy, "events": list(self.events),
            "prefix": self.prefix, "suffix": self.suffix, "stream_type": self.stream_type,
            "starting_position": self.starting_position,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], stage: tuple[str, str] = ("", "")) -> Binding:
        return cls(
            kind=data["kind"], function=data["function"], source=data["source"],
            batch_size=int(data.get("batch_size", 10)), window=int(data.get("window", 0)),
            partial_failures=bool(data.get("partial_failures", True)),
            enabled=bool(data.get("enabled", True)), filter_policy=data.get("filter_policy"),
            events=tuple(data.get("events") or ()), prefix=data.get("prefix"),
            suffix=data.get("suffix"), stream_type=data.get("stream_type", "dynamodb"),
            starting_position=data.get("starting_position", "LATEST"), stage=stage,
        )

    def describe(self) -> str:
        return f"{self.kind} {self.source} -> {self.function}"


def resolve_source(service: Service, kind: str, written: str | Intrinsic) -> str:
    """A declared resource key → its physical name (aloft.naming, as the endpoint's resources
    are created: `{service}-{stage}-{key}` unless the resource sets `name`); an ARN or the plain
    name of an existing resource is kept as it is."""
    name = source_text(written, kind)
    if name.startswith("arn:"):
        return name
    res = service.resources
    names = ResourceNames(service.service, service.stage, Account("000000000000", "us-east-1"))
    if kind == "queue" and name in res.queues:
        q = res.queues[name]
        return names.queue(name, q.name, q.fifo)
    if kind == "topic" and name in res.topics:
        return names.topic(name, res.topics[name].name)
    if kind == "bucket" and name in res.buckets:
        return names.bucket(name, res.buckets[name].name)
    if kind == "stream" and name in res.tables:
        return names.table(name, res.tables[name].name)
    return name


def desired_bindings(service: Service) -> list[Binding]:
    """Every queue, topic, bucket and stream event of the service's functions."""
    out: list[Binding] = []
    stage = (service.service, service.stage)
    for name, fn in service.resolved_functions().items():
        physical = service.physical_name(name)
        for index, event in enumerate(fn.events):
            if event.queue is not None:
                q = event.queue
                out.append(Binding("queue", physical, resolve_source(service, "queue", q.name),
                                   batch_size=q.batch_size, window=q.window,
                                   partial_failures=q.partial_failures, enabled=q.enabled,
                                   stage=stage))
            elif event.topic is not None:
                t = event.topic
                policy = json.dumps(t.filter_policy, sort_keys=True) if t.filter_policy else None
                out.append(Binding("topic", physical, resolve_source(service, "topic", t.name),
                                   batch_size=1, filter_policy=policy, stage=stage))
            elif event.bucket is not None:
                b = event.bucket
                out.append(Binding("bucket", physical, resolve_source(service, "bucket", b.name),
                                   batch_size=1, events=tuple(b.events), prefix=b.prefix,
                                   suffix=b.suffix, stage=stage))
            elif event.stream is not None:
                s = event.stream
                stream = source_text(s.name, "stream")
                _check_table_stream(service, name, index, s.type, stream)
                source = (resolve_source(service, "stream", stream) if s.type == "dynamodb"
                          else stream)
                out.append(Binding("stream", physical, source, batch_size=s.batch_size,
                                   window=s.window, partial_failures=s.partial_failures,
                                   enabled=s.enabled, stream_type=s.type,
                                   starting_position=s.starting_position, stage=stage))
    return out


def _check_table_stream(service: Service, function: str, index: int, kind: str,
                        name: str) -> None:
    """A stream event on a declared table that has no stream could never deliver anything."""
    table = service.resources.tables.get(name) if kind == "dynamodb" else None
    if table is not None and not table.stream:
        raise ConfigError(
            f"function {function!r} reads the stream of table {name!r}, which has none",
            where=Location(file=str(service.config_file) if service.config_file else None,
                           key_path=f"functions.{function}.events[{index}].stream",
                           function=function, stage=service.stage),
            fix=f"set `stream: true` (or a view type such as NEW_IMAGE) on resources.tables."
                f"{name}",
        )


def bindings_json(service: Service) -> list[dict[str, Any]]:
    """What the deployer stores in `Deployment.extra["sources"]`."""
    return [b.to_json() for b in desired_bindings(service)]


def bindings_from_extras(
    stages: Iterable[tuple[tuple[str, str], dict[str, Any]]],
) -> list[Binding]:
    """Bindings of the current deployments: ((service, stage), Deployment.extra) pairs."""
    out: list[Binding] = []
    for stage, extra in stages:
        out.extend(Binding.from_json(item, stage) for item in extra.get(EXTRA_KEY, ()))
    return out
