"""serverless.yml function events as aloft events.

`http` (REST API, payload 1.0) and `httpApi` (HTTP API, payload 2.0) become routes, with `cors`
(true or an object) kept; `schedule`, `sqs`, `sns`, `s3`, `stream`, `eventBridge` and `alb`
become their aloft kinds. An event is converted to zero or more aloft events; what aloft cannot
express becomes a warning, and `websocket` / `cloudwatchLog` are refused with what to do.
References to resources of this service (`Fn::GetAtt: [JobsQueue, Arn]`, `Ref: Topic`) become
the resource's key; other CloudFormation values are kept for the stage model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aloft.config.builder import Builder, items, resource_name
from aloft.config.intrinsics import function_name
from aloft.config.serverless_auth import http_api_route, rest_route
from aloft.config.serverless_resources import logical_id
from aloft.config.source import KeyPath
from aloft.errors import ConfigError

Converted = list[dict[str, Any]]

_REFUSED = {
    "websocket": ("websocket events are not supported yet: aloft has no WebSocket API",
                  "serve the socket from a long-running host, or keep this function on the "
                  "Serverless Framework until aloft supports WebSocket APIs"),
    "cloudwatchLog": ("cloudwatchLog events (log subscription filters) are not supported yet",
                      "forward the logs with a subscription you create yourself, or call the "
                      "function from a schedule that reads them"),
}
_UNSUPPORTED = {
    "cloudwatchEvent": "write it as an `eventBridge` event (same pattern)",
    "cognitoUserPool": "Cognito triggers are not supported by aloft",
    "alexaSkill": "Alexa triggers are not supported by aloft",
    "alexaSmartHome": "Alexa triggers are not supported by aloft",
    "iot": "IoT rules are not supported by aloft",
    "iotFleetProvisioning": "IoT provisioning hooks are not supported by aloft",
    "cloudFront": "Lambda@Edge is not supported by aloft",
    "kafka": "Kafka event sources are not supported by aloft",
    "msk": "MSK event sources are not supported by aloft",
    "activemq": "Amazon MQ event sources are not supported by aloft",
    "rabbitmq": "Amazon MQ event sources are not supported by aloft",
}
_HTTP_KEYS = {
    "authorizer": None,  # read below
    "private": None,
    "integration": None,  # read below
    "request": "request validation and mapping are not applied; validate in your handler",
    "response": "response mapping is not applied; the handler's response is returned",
    "async": "the route invokes the function synchronously",
    "operationId": None,
    "summary": None,
    "description": None,
    "documentation": None,
}
_CORS_HEADERS = ["Content-Type", "X-Amz-Date", "Authorization", "X-Api-Key",
                 "X-Amz-Security-Token", "X-Amz-User-Agent", "X-Amzn-Trace-Id"]
"""The Serverless Framework's allowed headers for `cors: true`."""


@dataclass
class EventContext:
    """What event conversion needs besides the event: the resources, and what it found."""

    out: Builder
    resource_kinds: dict[str, str]
    stage: str = "dev"
    rest_api: bool = False
    http_api: bool = False
    created: set[str] = field(default_factory=set)
    route_cors: list[tuple[dict[str, Any], KeyPath]] = field(default_factory=list)
    """The `cors:` objects of http events and where they were written (one CORS per API)."""
    authorizers: dict[str, tuple[dict[str, Any], KeyPath]] = field(default_factory=dict)
    """REST APIs' authorizers, declared on their http events (aloft's `authorizers`)."""

    def warn_extra(self, event: dict[str, Any], known: set[str], at: KeyPath) -> None:
        for key in event:
            if key not in known:
                self.out.warn((*at, key), "not supported by aloft; ignored")


def convert_event(ctx: EventContext, event: Any, at: KeyPath) -> Converted:
    if not isinstance(event, dict) or len(event) != 1:
        ctx.out.warn(at, "an event is a mapping with one key (its type); ignored")
        return []
    (kind, body), = event.items()
    if kind in _REFUSED:
        message, fix = _REFUSED[kind]
        raise RefusedEvent(message, fix, (*at, kind))
    converter = _EVENTS.get(str(kind))
    if converter is None:
        why = _UNSUPPORTED.get(str(kind), "not supported by aloft")
        ctx.out.warn((*at, kind), f"`{kind}` events: {why}; ignored")
        return []
    return converter(ctx, body, (*at, kind))


class RefusedEvent(ConfigError):
    """An event kind aloft cannot deploy, with the key path where it was written (the reader
    adds the file and line)."""

    def __init__(self, message: str, fix: str, path: KeyPath) -> None:
        super().__init__(message, fix=fix)
        self.path = path


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
    for key in body:
        if key in ("path", "method", "cors"):
            continue
        if key == "integration":
            if str(body[key]).lower() not in ("lambda-proxy", "aws_proxy", "lambda_proxy"):
                ctx.out.warn((*at, key), "only the lambda-proxy integration is supported: the "
                             "handler receives API Gateway's proxy event")
        elif key in _HTTP_KEYS:
            if _HTTP_KEYS[key]:
                ctx.out.warn((*at, key), str(_HTTP_KEYS[key]))
        else:
            ctx.out.warn((*at, key), "not supported by aloft; ignored")
    route = _route(str(body.get("method", "ANY")), str(body.get("path", "/")))
    if "authorizer" in body:
        name = rest_route(ctx.out, body["authorizer"], (*at, "authorizer"), ctx.authorizers)
        if name is not None:
            route["authorizer"] = name
    if body.get("private"):
        route["private"] = True
    cors = body.get("cors")
    if isinstance(cors, dict):
        route["cors"] = True
        ctx.route_cors.append((cors, (*at, "cors")))
    elif "cors" in body:
        route["cors"] = bool(cors)
    return [{"http": route}]


def rest_cors(cors: dict[str, Any]) -> dict[str, Any]:
    """An http event's `cors:` object as aloft's `cors:`."""
    origins = cors.get("origins") or cors.get("origin") or "*"
    out: dict[str, Any] = {
        "origins": origins if isinstance(origins, list) else [origins],
        "headers": cors.get("headers", _CORS_HEADERS),
        "credentials": bool(cors.get("allowCredentials", False)),
    }
    if "maxAge" in cors:
        out["max_age"] = cors["maxAge"]
    if "methods" in cors:
        out["methods"] = cors["methods"]
    return out


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
    for key in body:
        if key not in ("path", "method", "authorizer"):
            ctx.out.warn((*at, key), "not supported by aloft; ignored")
    path = str(body.get("path", "*"))
    route = _route(str(body.get("method", "*")), "/{proxy+}" if path == "*" else path)
    if "authorizer" in body:
        found = http_api_route(ctx.out, body["authorizer"], (*at, "authorizer"))
        if found is not None:
            route["authorizer"] = found
    return [{"http": route}]


def _schedule(ctx: EventContext, body: Any, at: KeyPath) -> Converted:
    if isinstance(body, str):
        return [{"schedule": body}]
    if not isinstance(body, dict):
        ctx.out.warn(at, "a schedule is `rate(...)`, `cron(...)` or {rate: ...}; ignored")
        return []
    for key in body:
        if key in ("inputPath", "inputTransformer"):
            ctx.out.warn((*at, key), "the function receives the scheduled event (or `input`)")
        elif key == "method":
            if body[key] != "eventBus":
                ctx.out.warn((*at, key), "aloft schedules with EventBridge rules")
        elif key == "timezone":
            ctx.out.warn((*at, key), "aloft's cron expressions are in UTC")
        elif key not in ("rate", "enabled", "input", "name", "description"):
            ctx.out.warn((*at, key), "not supported by aloft; ignored")
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


def _reference(ctx: EventContext, value: Any, kinds: tuple[str, ...], at: KeyPath) -> Any:
    """An ARN or name as written, the key of the resource a `Ref`/`Fn::GetAtt` points at, or
    another CloudFormation value (kept for the stage model)."""
    if isinstance(value, str):
        return value
    lid = logical_id(value)
    if lid is not None and ctx.resource_kinds.get(lid) in kinds:
        return lid
    if function_name(value) is not None:
        return value
    ctx.out.warn(at, "an ARN is text or a CloudFormation function; ignored")
    return None


def _partial(body: dict[str, Any]) -> bool:
    return body.get("functionResponseType") == "ReportBatchItemFailures"


def _filters(ctx: EventContext, body: dict[str, Any], at: KeyPath) -> None:
    if "filterPatterns" in body:
        ctx.out.warn((*at, "filterPatterns"), "event filtering is not applied by aloft: the "
                     "function receives every record (filter in the handler)")


def _sqs(ctx: EventContext, body: Any, at: KeyPath) -> Converted:
    if not isinstance(body, dict):
        body = {"arn": body}
    _filters(ctx, body, at)
    ctx.warn_extra(body, {"arn", "batchSize", "maximumBatchingWindow", "functionResponseType",
                          "enabled", "filterPatterns"}, at)
    if "maximumConcurrency" in body:
        ctx.out.warn((*at, "maximumConcurrency"), "use the function's `reservedConcurrency`")
    name = _reference(ctx, body.get("arn"), ("queues",), (*at, "arn"))
    if name is None:
        return []
    queue = {"name": name, "batch_size": body.get("batchSize", 10),
             "window": body.get("maximumBatchingWindow", 0),
             "partial_failures": _partial(body), "enabled": body.get("enabled", True)}
    return [{"queue": queue}]


def _sns(ctx: EventContext, body: Any, at: KeyPath) -> Converted:
    if not isinstance(body, dict):
        body = {"arn": body} if (isinstance(body, str) and body.startswith("arn:")) or \
            function_name(body) else {"topicName": body}
    ctx.warn_extra(body, {"arn", "topicName", "filterPolicy", "displayName",
                          "filterPolicyScope"}, at)
    if "redrivePolicy" in body:
        ctx.out.warn((*at, "redrivePolicy"), "failed deliveries go to aloft's dead-letter list")
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
    if body.get("filterPolicyScope") == "MessageBody":
        ctx.out.warn((*at, "filterPolicyScope"), "aloft filters on message attributes only")
    return [{"topic": entry}]


def _created(ctx: EventContext, kind: str, physical: str, at: KeyPath) -> str:
    """The key of a resource serverless would create for an event (an existing one if known).
    A name that holds the stage (`${stage}`, when converting) gets the stage's key."""
    for key, entry in ctx.out.get(("resources", kind), {}).items():
        if key == physical or (isinstance(entry, dict) and entry.get("name") == physical):
            return str(key)
    key = resource_name(physical.replace("${stage}", ctx.stage))
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
        if not isinstance(ref, str):
            if ref is not None:
                ctx.out.warn((*at, "bucket"), "an s3 event names its bucket (text or `Ref` of "
                             "a bucket in resources); ignored")
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
    _filters(ctx, body, at)
    for key, why in (("parallelizationFactor", "aloft reads each shard with one invocation at "
                      "a time"), ("bisectBatchOnFunctionError", "a failing batch is retried "
                      "whole (or report batchItemFailures)"),
                     ("maximumRetryAttempts", "a failing batch is retried until it expires"),
                     ("destinations", "failed batches are not sent to a destination"),
                     ("tumblingWindowInSeconds", "tumbling windows are not supported"),
                     ("consumer", "aloft reads the stream without an enhanced fan-out consumer"),
                     ("maximumRecordAgeInSeconds", "records are read until they expire"),
                     ("startingPositionTimestamp", "AT_TIMESTAMP is not supported")):
        if key in body:
            ctx.out.warn((*at, key), why)
    known = {"arn", "type", "batchSize", "startingPosition", "maximumBatchingWindow", "enabled",
             "functionResponseType", "filterPatterns", "parallelizationFactor",
             "bisectBatchOnFunctionError", "maximumRetryAttempts", "destinations",
             "tumblingWindowInSeconds", "consumer", "maximumRecordAgeInSeconds",
             "startingPositionTimestamp"}
    ctx.warn_extra(body, known, at)
    arn = body.get("arn")
    name = _reference(ctx, arn, ("tables",), (*at, "arn"))
    if name is None:
        return []
    kind = body.get("type") or ("kinesis" if ":kinesis:" in str(arn) else "dynamodb")
    position = body.get("startingPosition", "LATEST" if kind == "dynamodb" else "TRIM_HORIZON")
    if position not in ("LATEST", "TRIM_HORIZON"):
        ctx.out.warn((*at, "startingPosition"), f"{position} is not supported; using LATEST")
        position = "LATEST"
    stream = {"type": kind, "name": name, "batch_size": body.get("batchSize", 100),
              "window": body.get("maximumBatchingWindow", 0), "starting_position": position,
              "partial_failures": _partial(body), "enabled": body.get("enabled", True)}
    return [{"stream": stream}]


def _event_bridge(ctx: EventContext, body: Any, at: KeyPath) -> Converted:
    if not isinstance(body, dict):
        ctx.out.warn(at, "an eventBridge event is a mapping ({pattern: ...}); ignored")
        return []
    if "schedule" in body and "pattern" not in body:
        schedule = {"expression": body["schedule"], "enabled": body.get("enabled", True)}
        if "input" in body:
            schedule["input"] = body["input"]
        ctx.warn_extra(body, {"schedule", "enabled", "input", "name", "description"}, at)
        if "name" in body:
            schedule["name"] = body["name"]
        return [{"schedule": schedule}]
    for key, why in (("inputTransformer", "the function receives the whole event "
                      "(or `input` / `inputPath`)"),
                     ("retryPolicy", "aloft retries asynchronous events as Lambda does "
                      "(the function's maximumRetryAttempts)"),
                     ("deadLetterQueueArn", "set the function's `onError` / destinations")):
        if key in body:
            ctx.out.warn((*at, key), why)
    ctx.warn_extra(body, {"pattern", "eventBus", "input", "inputPath", "enabled", "name",
                          "description", "inputTransformer", "retryPolicy",
                          "deadLetterQueueArn"}, at)
    if not isinstance(body.get("pattern"), dict):
        ctx.out.warn(at, "an eventBridge event needs a `pattern` (or a `schedule`); ignored")
        return []
    entry: dict[str, Any] = {"pattern": body["pattern"]}
    bus = body.get("eventBus")
    if bus is not None and bus != "default":
        entry["bus"] = bus
    for key, target in (("input", "input"), ("inputPath", "input_path"),
                        ("enabled", "enabled"), ("name", "name"),
                        ("description", "description")):
        if key in body:
            entry[target] = body[key]
    return [{"eventbridge": entry}]


def _alb(ctx: EventContext, body: Any, at: KeyPath) -> Converted:
    if not isinstance(body, dict):
        ctx.out.warn(at, "an alb event is {listenerArn, priority, conditions}; ignored")
        return []
    ctx.warn_extra(body, {"listenerArn", "priority", "conditions", "multiValueHeaders",
                          "healthCheck", "targetGroupName", "authorizer"}, at)
    for key in ("healthCheck", "targetGroupName", "authorizer"):
        if key in body:
            ctx.out.warn((*at, key), "not set by aloft; the target group gets its defaults")
    entry: dict[str, Any] = {"listener": body.get("listenerArn"),
                             "priority": body.get("priority")}
    conditions = body.get("conditions") if isinstance(body.get("conditions"), dict) else {}
    assert isinstance(conditions, dict)
    for key, target in (("path", "paths"), ("method", "methods"), ("host", "hosts")):
        if key in conditions:
            value = conditions[key]
            entry[target] = value if isinstance(value, list) else [value]
    if isinstance(conditions.get("header"), dict):
        header = conditions["header"]
        entry["headers"] = {str(header.get("name")): list(items(header.get("values")))}
    if isinstance(conditions.get("query"), dict):
        entry["query"] = conditions["query"]
    if "ip" in conditions:
        ctx.out.warn((*at, "conditions", "ip"), "source-IP conditions are not set by aloft")
    if body.get("multiValueHeaders"):
        entry["multi_value_headers"] = True
    return [{"alb": entry}]


_EVENTS: dict[str, Callable[[EventContext, Any, KeyPath], Converted]] = {
    "http": _http,
    "httpApi": _http_api,
    "schedule": _schedule,
    "sqs": _sqs,
    "sns": _sns,
    "s3": _s3,
    "stream": _stream,
    "eventBridge": _event_bridge,
    "alb": _alb,
}
