"""What triggers a stage's functions: routes, schedules (and their rule names), event source
bindings, EventBridge rules and load balancer targets. Pure.

Rule names, one rule for both providers: a schedule's rule is `{service}-{stage}-{name}` when it
has a `name`, else `{service}-{stage}-{function}-schedule`, with `-{i}` (its index among the
function's schedules) when the function has more than one; `eventbridge` rules alike with
`-eventbridge`. Names longer than 64 characters are cut with a hash suffix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Literal

from aloft.config.models import (
    APP_FUNCTION,
    AlbEvent,
    BucketEvent,
    Event,
    QueueEvent,
    Service,
    StreamEvent,
    TopicEvent,
)
from aloft.config.models import Function as FunctionConfig
from aloft.errors import ConfigError
from aloft.stage import late as lt
from aloft.stage import records as r
from aloft.stage.api_auth import route_auth
from aloft.stage.names import StageNames
from aloft.stage.values import Values, location

KEEP_WARM_INPUT = {"aloft": "keep_warm"}
"""The event a keep-warm ping carries (the runtime answers it without calling user code)."""


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def _events(service: Service) -> Iterator[tuple[str, FunctionConfig, int, Event]]:
    for name in service.all_function_names():
        fn = service.function(name)
        for index, event in enumerate(fn.events):
            yield name, fn, index, event


def _at(name: str, index: int) -> str:
    base = "app_events" if name == APP_FUNCTION else f"functions.{name}.events"
    return f"{base}[{index}]"


# -- routes ------------------------------------------------------------------------------------


def routes(service: Service, names: StageNames) -> tuple[r.Route, ...]:
    """`http` events first (most specific), then the app's catch-all."""
    out: list[r.Route] = []
    for name, fn, _, event in _events(service):
        if event.http is not None:
            out.append(r.Route(event.http.method, event.http.path, name, names.function(name),
                               fn.payload, event.http.cors,
                               route_auth(event.http.authorizer, event.http.private)))
    if service.has_app:
        app = service.function(APP_FUNCTION)
        physical = names.function(APP_FUNCTION)
        auth = route_auth(service.authorizer)
        out += [r.Route("ANY", "/", APP_FUNCTION, physical, app.payload, auth=auth),
                r.Route("ANY", "/{proxy+}", APP_FUNCTION, physical, app.payload, auth=auth)]
    return tuple(out)


# -- rules -------------------------------------------------------------------------------------


def rule_suffix(function: str, kind: str, index: int, count: int, name: str | None) -> str:
    """The part of a rule's name after `{service}-{stage}-` (see the module's docstring)."""
    if name:
        return name
    return f"{function}-{kind}" + (f"-{index}" if count > 1 else "")


def schedules(service: Service, names: StageNames) -> tuple[r.Schedule, ...]:
    out: list[r.Schedule] = []
    for name in service.all_function_names():
        found = [e.schedule for e in service.function(name).events if e.schedule is not None]
        for i, sched in enumerate(found):
            out.append(r.Schedule(
                name=names.rule(rule_suffix(name, "schedule", i, len(found), sched.name)),
                function=name, physical=names.function(name), expression=sched.expression,
                input=None if sched.input is None else _json(sched.input),
                enabled=sched.enabled,
                description=sched.description or f"aloft schedule of {name}",
                # the keep-warm plugin's schedule (aloft.plugins.builtin.keep_warm) pings
                keep_warm=sched.input == KEEP_WARM_INPUT,
            ))
    _unique(service, [s.name for s in out], "schedule")
    return tuple(out)


def event_rules(service: Service, names: StageNames, values: Values) -> tuple[r.EventRule, ...]:
    out: list[r.EventRule] = []
    for name in service.all_function_names():
        found = [(i, e.eventbridge) for i, e in enumerate(service.function(name).events)
                 if e.eventbridge is not None]
        for n, (index, ev) in enumerate(found):
            bus = None if ev.bus is None else values.text(
                ev.bus, f"{_at(name, index)}.eventbridge.bus", name)
            out.append(r.EventRule(
                name=names.rule(rule_suffix(name, "eventbridge", n, len(found), ev.name)),
                function=name, physical=names.function(name), pattern=_json(ev.pattern),
                bus=bus, input=None if ev.input is None else _json(ev.input),
                input_path=ev.input_path, enabled=ev.enabled,
                description=ev.description or f"aloft eventbridge rule of {name}",
            ))
    _unique(service, [e.name for e in out], "eventbridge rule")
    return tuple(out)


def _unique(service: Service, rules: list[str], what: str) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule in seen:
            raise ConfigError(
                f"two {what}s of stage {service.stage!r} are named {rule!r}",
                where=location(service, "functions"),
                fix="give each one its own `name:`",
            )
        seen.add(rule)


def alb_targets(service: Service, names: StageNames, values: Values) -> tuple[r.AlbTarget, ...]:
    out: list[r.AlbTarget] = []
    for name, _, index, event in _events(service):
        if event.alb is not None:
            listener = values.text(event.alb.listener, f"{_at(name, index)}.alb.listener", name)
            out.append(r.AlbTarget(name, names.function(name), listener or "",
                                   event.alb.priority, _alb_conditions(event.alb),
                                   event.alb.multi_value_headers))
    return tuple(out)


def _alb_conditions(alb: AlbEvent) -> str:
    conditions: list[dict[str, object]] = []
    if alb.paths:
        conditions.append({"Field": "path-pattern", "Values": list(alb.paths)})
    if alb.methods:
        conditions.append({"Field": "http-request-method",
                           "Values": [m.upper() for m in alb.methods]})
    if alb.hosts:
        conditions.append({"Field": "host-header", "Values": list(alb.hosts)})
    for header, accepted in alb.headers.items():
        conditions.append({"Field": "http-header", "HttpHeaderConfig": {
            "HttpHeaderName": header, "Values": list(accepted)}})
    if alb.query:
        conditions.append({"Field": "query-string", "QueryStringConfig": {
            "Values": [{"Key": k, "Value": v} for k, v in alb.query.items()]}})
    return json.dumps(conditions)


# -- event source bindings ---------------------------------------------------------------------


def bindings(service: Service, names: StageNames, values: Values) -> tuple[r.Binding, ...]:
    """Every queue, topic, bucket and stream event of the service's functions."""
    out: list[r.Binding] = []
    for name, _, index, event in _events(service):
        where = _at(name, index)
        physical = names.function(name)
        if event.queue is not None:
            out.append(_queue(service, names, values, name, physical, event.queue, where))
        elif event.topic is not None:
            out.append(_topic(service, names, values, name, physical, event.topic, where))
        elif event.bucket is not None:
            out.append(_bucket(service, names, name, physical, event.bucket))
        elif event.stream is not None:
            out.append(_stream(service, names, values, name, physical, event.stream, where))
    return tuple(out)


def _arn(text: str) -> bool:
    """Written as an ARN, or as a value that gives one once deployed (`!ImportValue`)."""
    return text.startswith("arn:") or lt.is_late(text)


def _queue(service: Service, names: StageNames, values: Values, function: str, physical: str,
           q: QueueEvent, where: str) -> r.Binding:
    source = values.text(q.name, f"{where}.queue.name", function) or ""
    decl = service.resources.queues.get(source)
    if _arn(source):
        arn = source
    else:
        source = names.queue(source, decl.name, decl.fifo) if decl else source
        arn = names.queue_arn(source)
    return r.Binding("queue", function, physical, source, arn, batch_size=q.batch_size,
                     window=q.window, partial_failures=q.partial_failures, enabled=q.enabled)


def _topic(service: Service, names: StageNames, values: Values, function: str, physical: str,
           t: TopicEvent, where: str) -> r.Binding:
    source = values.text(t.name, f"{where}.topic.name", function) or ""
    decl = service.resources.topics.get(source)
    if _arn(source):
        arn = source
    else:
        source = names.topic(source, decl.name) if decl else source
        arn = names.topic_arn(source)
    policy = _json(t.filter_policy) if t.filter_policy else None
    return r.Binding("topic", function, physical, source, arn, batch_size=1,
                     filter_policy=policy)


def _bucket(service: Service, names: StageNames, function: str, physical: str,
            b: BucketEvent) -> r.Binding:
    decl = service.resources.buckets.get(b.name)
    bucket = names.bucket(b.name, decl.name) if decl else b.name
    return r.Binding("bucket", function, physical, bucket, names.bucket_arn(bucket),
                     batch_size=1, events=tuple(b.events), prefix=b.prefix, suffix=b.suffix)


def _stream(service: Service, names: StageNames, values: Values, function: str, physical: str,
            s: StreamEvent, where: str) -> r.Binding:
    written = values.text(s.name, f"{where}.stream.name", function) or ""
    kind: Literal["dynamodb", "kinesis"] = s.type
    if _arn(written) and not written.startswith("${" + lt.STREAM):
        source = arn = written
    elif kind == "kinesis":
        source, arn = written, names.kinesis_arn(written)
    else:
        late = lt.refs(written)
        # `!GetAtt Table.StreamArn`: the table's stream, as for a table's key
        table = lt.split(late[0])[1] if late and lt.split(late[0])[0] == lt.STREAM else written
        key = next((k for k, t in service.resources.tables.items()
                    if table in (k, names.table(k, t.name))), None)
        if key is not None:
            _check_table_stream(service, function, where, key)
            table = names.table(key, service.resources.tables[key].name)
        source, arn = table, lt.late(lt.STREAM, table)
    return r.Binding("stream", function, physical, source, arn, batch_size=s.batch_size,
                     window=s.window, partial_failures=s.partial_failures, enabled=s.enabled,
                     stream_type=kind, starting_position=s.starting_position)


def _check_table_stream(service: Service, function: str, where: str, key: str) -> None:
    """A stream event on a declared table that has no stream could never deliver anything."""
    if not service.resources.tables[key].stream:
        raise ConfigError(
            f"function {function!r} reads the stream of table {key!r}, which has none",
            where=location(service, f"{where}.stream", function),
            fix=f"set `stream: true` (or a view type such as NEW_IMAGE) on resources.tables."
                f"{key}",
        )

