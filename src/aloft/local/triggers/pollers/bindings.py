"""Which resources feed which functions: the stage model's bindings (aloft.stage), stored with
the deployment (so a restart or a rollback finds them again) and read back from the registry."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from aloft.local.types import ACCOUNT_ID, LEGACY_ACCOUNT_ID
from aloft.stage import Stage

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
        # hashed with the legacy account id, so that homes made before the local cloud had its
        # own account keep their internal queues and checkpoints (store/state.py)
        source = self.source.replace(f":{ACCOUNT_ID}:", f":{LEGACY_ACCOUNT_ID}:")
        raw = f"{self.kind}|{self.function}|{self.stream_type}|{source}"
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


def desired_bindings(stage: Stage) -> list[Binding]:
    """Every queue, topic, bucket and stream event of the stage's functions (aloft.stage)."""
    where = (stage.service, stage.stage)
    return [Binding(b.kind, b.physical, b.source, batch_size=b.batch_size, window=b.window,
                    partial_failures=b.partial_failures, enabled=b.enabled,
                    filter_policy=b.filter_policy, events=b.events, prefix=b.prefix,
                    suffix=b.suffix, stream_type=b.stream_type,
                    starting_position=b.starting_position or "LATEST", stage=where)
            for b in stage.bindings]


def bindings_json(stage: Stage) -> list[dict[str, Any]]:
    """What the deployer stores in `Deployment.extra["sources"]`."""
    return [b.to_json() for b in desired_bindings(stage)]


def bindings_from_extras(
    stages: Iterable[tuple[tuple[str, str], dict[str, Any]]],
) -> list[Binding]:
    """Bindings of the current deployments: ((service, stage), Deployment.extra) pairs."""
    out: list[Binding] = []
    for stage, extra in stages:
        out.extend(Binding.from_json(item, stage) for item in extra.get(EXTRA_KEY, ()))
    return out
