"""serverless-lift's `constructs` as aloft resources and functions, and `${construct:...}`.

A `queue` construct is an aloft queue with a dead-letter queue (after `maxRetries` receives)
and a worker function `{name}Worker` reading it; `storage` is a versioned bucket;
`database/dynamodb-single-table` is a table keyed PK/SK. `${construct:jobs.queueUrl}` and its
siblings become CloudFormation references to those resources (`!Ref jobs`,
`!GetAtt jobs.Arn`), which the stage model resolves like any other. `webhook` and the website
constructs have no aloft equivalent yet: each is named in a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aloft.config.builder import Builder
from aloft.config.source import KeyPath
from aloft.errors import ConfigError

LIFT = "serverless-lift"

_VARIABLES: dict[str, dict[str, Any]] = {
    "queue": {"queueUrl": ("Ref", None), "queueArn": ("GetAtt", "Arn"),
              "queueName": ("GetAtt", "QueueName"), "dlqUrl": ("Ref", "-dlq"),
              "dlqArn": ("GetAtt", "-dlq")},
    "storage": {"bucketName": ("Ref", None), "bucketArn": ("GetAtt", "Arn")},
    "database/dynamodb-single-table": {"tableName": ("Ref", None),
                                       "tableArn": ("GetAtt", "Arn"),
                                       "tableStreamArn": ("GetAtt", "StreamArn")},
}
_UNSUPPORTED = {
    "webhook": "an HTTP endpoint that puts requests on an EventBridge bus: write an http "
               "route on a function that handles them",
    "static-website": "a CloudFront + S3 website: serve the files with `static:`",
    "single-page-app": "a CloudFront + S3 single-page app: serve the files with `static:`",
    "server-side-website": "a CloudFront distribution in front of the API: serve the assets "
                           "with `static:`",
}
_WORKER_KEYS = {"handler", "timeout", "memorySize", "environment", "reservedConcurrency",
                "description", "layers", "runtime", "iamRoleStatements", "architecture"}


@dataclass(frozen=True)
class Lift:
    """The constructs of a serverless.yml: name -> its settings (with `type`)."""

    constructs: Mapping[str, Mapping[str, Any]]

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> Lift:
        raw = doc.get("constructs")
        found = {str(k): v for k, v in raw.items() if isinstance(v, dict)} \
            if isinstance(raw, dict) else {}
        return cls(found)

    # -- ${construct:name.property} ------------------------------------------------------

    def variable(self, address: str, path: KeyPath) -> Any:
        """The value of `${construct:name.property}`: a CloudFormation reference."""
        name, _, prop = address.partition(".")
        construct = self.constructs.get(name)
        if construct is None:
            known = ", ".join(self.constructs) or "none"
            raise ConfigError(f"`${{construct:{address}}}`: there is no construct {name!r} "
                              f"(constructs: {known})",
                              fix="check the construct's name under `constructs:`")
        kind = str(construct.get("type"))
        props = _VARIABLES.get(kind)
        if props is None or prop not in props:
            known = ", ".join(props) if props else "none that aloft reads"
            raise ConfigError(f"`${{construct:{address}}}`: a {kind} construct has no property "
                              f"{prop!r} aloft knows ({known})",
                              fix=f"use one of: {known}")
        fn, attribute = props[prop]
        target = name
        if attribute == "-dlq":
            target, attribute = f"{name}-dlq", ("Arn" if fn == "GetAtt" else None)
        if fn == "Ref":
            return {"Ref": target}
        return {"Fn::GetAtt": [target, attribute]}

    # -- resources and functions ------------------------------------------------------

    def convert(self, out: Builder, kinds: dict[str, str]) -> None:
        for name, construct in self.constructs.items():
            at: KeyPath = ("constructs", name)
            kind = str(construct.get("type"))
            if kind == "queue":
                self._queue(out, name, construct, at)
                kinds[name] = "queues"
            elif kind == "storage":
                out.put(("resources", "buckets", name), {"versioning": True}, at)
                self._extra(out, construct, {"type"}, at, "encryption is set by aloft")
                kinds[name] = "buckets"
            elif kind == "database/dynamodb-single-table":
                table: dict[str, Any] = {"hash_key": "PK", "range_key": "SK",
                                         "stream": "NEW_AND_OLD_IMAGES"}
                out.put(("resources", "tables", name), table, at)
                if construct.get("gsiCount") or construct.get("localSecondaryIndexes"):
                    out.warn(at, "aloft creates tables without secondary indexes yet")
                self._extra(out, construct, {"type", "gsiCount", "localSecondaryIndexes"}, at,
                            "not supported by aloft; ignored")
                kinds[name] = "tables"
            elif kind in _UNSUPPORTED:
                out.warn(at, f"serverless-lift's {kind} construct ({_UNSUPPORTED[kind]}) is "
                         "not supported by aloft yet")
            else:
                out.warn(at, f"construct type {kind!r} is not supported by aloft; ignored")

    def _queue(self, out: Builder, name: str, construct: Mapping[str, Any], at: KeyPath) -> None:
        worker = construct.get("worker") if isinstance(construct.get("worker"), dict) else {}
        assert isinstance(worker, dict)
        timeout = worker.get("timeout", 6)
        queue: dict[str, Any] = {
            # lift's visibility timeout: six times the worker's timeout (AWS's advice)
            "visibility_timeout": int(timeout) * 6 if isinstance(timeout, int) else 36,
            "dead_letter": True,
            "max_receives": construct.get("maxRetries", 3),
            "retention": 345600,
        }
        if construct.get("fifo"):
            queue["fifo"] = True
        out.put(("resources", "queues", name), queue, at)
        self._extra(out, construct, {"type", "worker", "maxRetries", "fifo", "batchSize",
                                     "maxBatchingWindow", "alarm"}, at,
                    "not supported by aloft; ignored")
        if "alarm" in construct:
            out.warn((*at, "alarm"), "aloft sends no alarm e-mails; `aloft dlq` lists the "
                     "failed messages")
        if not worker.get("handler"):
            out.warn(at, "a queue construct needs `worker.handler`; no worker is deployed")
            return
        fn = f"{name}Worker"
        path: KeyPath = ("functions", fn)
        out.put((*path, "handler"), _handler(worker["handler"]), (*at, "worker", "handler"))
        keys = {"timeout": "timeout", "memorySize": "memory", "environment": "environment",
                "reservedConcurrency": "concurrency", "description": "description",
                "layers": "layers", "runtime": "runtime", "architecture": "architecture",
                "iamRoleStatements": "permissions"}
        for key, value in worker.items():
            if key in keys:
                out.put((*path, keys[key]), value, (*at, "worker", key))
            elif key != "handler":
                out.warn((*at, "worker", key), "not supported by aloft; ignored")
        event = {"queue": {"name": name, "batch_size": construct.get("batchSize", 1),
                           "window": construct.get("maxBatchingWindow", 0),
                           "partial_failures": True}}
        out.put((*path, "events"), [event], at)

    def _extra(self, out: Builder, construct: Mapping[str, Any], known: set[str], at: KeyPath,
               why: str) -> None:
        for key in construct:
            if key not in known:
                out.warn((*at, key), "lift's extensions are not applied" if key == "extensions"
                         else why)


def _handler(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    module, _, func = value.rpartition(".")
    return f"{module.replace('/', '.')}.{func}" if module else value
