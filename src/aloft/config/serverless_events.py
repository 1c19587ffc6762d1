"""serverless.yml function events (http, httpApi, schedule, sqs, sns, s3, stream) as aloft events.

An event is converted to zero or more aloft events; what aloft cannot express becomes a warning.
References to resources (`Fn::GetAtt: [JobsQueue, Arn]`, `Ref: Topic`) become the resource's key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aloft.config.builder import Builder, items, resource_name
from aloft.config.serverless_resources import logical_id
from aloft.config.source import KeyPath

Converted = list[dict[str, Any]]


@dataclass
class EventContext:
    """What event conversion needs besides the event: the resources, and what it found."""

    out: Builder
    resource_kinds: dict[str, str]
    rest_api: bool = False
    http_api: bool = False
    created: set[str] = field(default_factory=set)

    def warn_extra(self, event: dict[str, Any], known: set[str], at: KeyPath) -> None:
        for key in event:
            if key not in known:
                self.out.warn((*at, key), "not supported by aloft; ignored")


def convert_event(ctx: EventContext, event: Any, at: KeyPath) -> Converted:
    if not isinstance(event, dict) or len(event) != 1:
        ctx.out.warn(at, "an event is a mapping with one key (its type); ignored")
        return []
    (kind, body), = event.items()
    converter = _EVENTS.get(str(kind))
    if converter is None:
        ctx.out.warn((*at, kind), f"`{kind}` events are not supported by aloft; ignored")
        return []
    return converter(ctx, body, (*at, kind))


def _route(method: str, path: str) -> dict[str, Any]:
    path = path.strip()
    if not path.startswith("/"):
        path = "/" + path
    return {"method": "ANY" if method.strip() == "*" else method.strip().upper(), "path": path}


def _http(ctx: EventContext, body: Any, at: KeyPath) -> Converted:
    ctx.rest_api = True
    if isinstance(body, str):
        method, _, path = body.partition(" ")
        return [{"http": _route(method, path)}]
    if not isinstance(body, dict):
        ctx.out.warn(at, "an http event is `METHOD path` or {method, path}; ignored")
        return []
    ctx.warn_extra(body, {"path", "method", "cors", "integration"}, at)
    route = _route(str(body.get("method", "ANY")), str(body.get("path", "/")))
    if "cors" in body:
        route["cors"] = bool(body["cors"])
    return [{"http": route}]


def _http_api(ctx: EventContext, body: Any, at: KeyPath) -> Converted:
    ctx.http_api = True
    if body == "*":
        return [{"http": {"method": "ANY", "path": "/{proxy+}"}}]
    if isinstance(body, str):
        method, _, path = body.partition(" ")
        return [{"http": _route(method, path)}]
    if not isinstance(body, dict):
        ctx.out.warn(at, "an httpApi event is `METHOD path`, `*` or {method, path}; ignored")
        return []
    ctx.warn_extra(body, {"path", "method"}, at)
    path = str(body.get("path", "*"))
    return [{"http": _route(str(body.get("method", "*")), "/{proxy+}" if path == "*" else path)}]


def _schedule(ctx: EventContext, body: Any, at: KeyPath) -> Converted:
    if isinstance(body, str):
        return [{"schedule": body}]
    if not isinstance(body, dict):
        ctx.out.warn(at, "a schedule is `rate(...)`, `cron(...)` or {rate: ...}; ignored")
        return []
    ctx.warn_extra(body, {"rate", "enabled", "input", "name", "description"}, at)
    rates = body.get("rate")
    rates = rates if isinstance(rates, list) else [rates]
    out = []
    for rate in rates:
        schedule: dict[str, Any] = {"expression": rate}
        for key in ("enabled", "input", "description"):
            if key in body:
                schedule[key] = body[key]
        if "name" in body and len(rates) == 1:
            schedule["name"] = body["name"]
        out.append({"schedule": schedule})
    return out


def _reference(ctx: EventContext, value: Any, kinds: tuple[str, ...], at: KeyPath) -> str | None:
    """An ARN or name as written, or the key of the resource a `Ref`/`Fn::GetAtt` points at."""
    if isinstance(value, str):
        return value
    lid = logical_id(value)
    if lid is not None and ctx.resource_kinds.get(lid) in kinds:
        return lid
    ctx.out.warn(at, "refers to something that is not a resource aloft manages; ignored")
    return None


def _partial(body: dict[str, Any]) -> bool:
    return body.get("functionResponseType") == "ReportBatchItemFailures"


def _sqs(ctx: EventContext, body: Any, at: KeyPath) -> Converted:
    if not isinstance(body, dict):
        body = {"arn": body}
    ctx.warn_extra(body, {"arn", "batchSize", "maximumBatchingWindow", "functionResponseType",
                          "enabled"}, at)
    name = _reference(ctx, body.get("arn"), ("queues",), (*at, "arn"))
    if name is None:
        return []
    queue = {"name": name, "batch_size": body.get("batchSize", 10),
             "window": body.get("maximumBatchingWindow", 0),
             "partial_failures": _partial(body), "enabled": body.get("enabled", True)}
    return [{"queue": queue}]


def _sns(ctx: EventContext, body: Any, at: KeyPath) -> Converted:
    if not isinstance(body, dict):
        body = {"arn": body} if isinstance(body, str) and body.startswith("arn:") else {
            "topicName": body}
    ctx.warn_extra(body, {"arn", "topicName", "filterPolicy", "displayName"}, at)
    if "arn" in body:
        name = _reference(ctx, body["arn"], ("topics",), (*at, "arn"))
    else:
        # serverless creates a topic of that name; so does aloft, as a resource
        topic = str(body.get("topicName"))
        name = _created(ctx, "topics", topic, at)
    if name is None:
        return []
    entry: dict[str, Any] = {"name": name}
    if isinstance(body.get("filterPolicy"), dict):
        entry["filter_policy"] = body["filterPolicy"]
    return [{"topic": entry}]


def _created(ctx: EventContext, kind: str, physical: str, at: KeyPath) -> str:
    """The key of a resource serverless would create for an event (an existing one if known)."""
    for key, entry in ctx.out.get(("resources", kind), {}).items():
        if key == physical or (isinstance(entry, dict) and entry.get("name") == physical):
            return str(key)
    key = resource_name(physical)
    ctx.out.put(("resources", kind, key), {"name": physical}, at)
    ctx.created.add(key)
    return key


def _s3(ctx: EventContext, body: Any, at: KeyPath) -> Converted:
    if not isinstance(body, dict):
        body = {"bucket": body}
    ctx.warn_extra(body, {"bucket", "event", "rules", "existing", "forceDeploy"}, at)
    bucket = body.get("bucket")
    if isinstance(bucket, str):
        name = bucket if body.get("existing") else _created(ctx, "buckets", bucket, at)
    else:
        ref = _reference(ctx, bucket, ("buckets",), (*at, "bucket"))
        if ref is None:
            return []
        name = ref
    entry: dict[str, Any] = {"name": name}
    if body.get("event"):
        entry["events"] = [body["event"]]
    for rule in items(body.get("rules")):
        if isinstance(rule, dict):
            for key in ("prefix", "suffix"):
                if key in rule:
                    entry[key] = rule[key]
    return [{"bucket": entry}]


def _stream(ctx: EventContext, body: Any, at: KeyPath) -> Converted:
    if not isinstance(body, dict):
        body = {"arn": body}
    ctx.warn_extra(body, {"arn", "type", "batchSize", "startingPosition", "maximumBatchingWindow",
                          "enabled", "functionResponseType"}, at)
    arn = body.get("arn")
    name = _reference(ctx, arn, ("tables",), (*at, "arn"))
    if name is None:
        return []
    kind = body.get("type") or ("kinesis" if ":kinesis:" in str(arn) else "dynamodb")
    position = body.get("startingPosition", "LATEST")
    if position not in ("LATEST", "TRIM_HORIZON"):
        ctx.out.warn((*at, "startingPosition"), f"{position} is not supported; using LATEST")
        position = "LATEST"
    stream = {"type": kind, "name": name, "batch_size": body.get("batchSize", 100),
              "window": body.get("maximumBatchingWindow", 0), "starting_position": position,
              "partial_failures": _partial(body), "enabled": body.get("enabled", True)}
    return [{"stream": stream}]


_EVENTS = {
    "http": _http,
    "httpApi": _http_api,
    "schedule": _schedule,
    "sqs": _sqs,
    "sns": _sns,
    "s3": _s3,
    "stream": _stream,
}
