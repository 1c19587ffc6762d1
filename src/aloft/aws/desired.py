"""The desired state of a stage: the Service and its built artifact, as `specs` records. Pure."""

from __future__ import annotations

import hashlib
import json
from typing import Protocol

from aloft.aws import specs as s
from aloft.aws import static as static_files
from aloft.aws.names import HANDLER, Names
from aloft.aws.policy import role_policy
from aloft.config import route_cors
from aloft.config.intrinsics import Intrinsic
from aloft.config.models import APP_FUNCTION, Cors, Function, Service
from aloft.config.source import format_path
from aloft.config.unresolved import source_text, text_environment
from aloft.errors import ConfigError, Location
from aloft.naming import resource_environment


class Artifact(Protocol):
    @property
    def path(self) -> object: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...


class Built(Protocol):
    """What deploying needs of aloft.package's Manifest."""

    @property
    def code(self) -> Artifact: ...
    @property
    def layer(self) -> Artifact | None: ...


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def rule_permission(rule: s.RuleSpec, rule_arn: str) -> s.Permission:
    """The statement on the stage alias that lets an EventBridge rule invoke it."""
    return s.Permission(rule.function, f"aloft-rule-{_h(rule.name)}", "events.amazonaws.com",
                        rule_arn)


def _where(service: Service, key_path: str, function: str | None = None) -> Location:
    return Location(file=str(service.config_file) if service.config_file else None,
                    key_path=key_path, function=function, stage=service.stage)


def resources(service: Service, names: Names) -> s.Resources:
    res = service.resources
    queues: list[s.QueueSpec] = []
    for key, q in res.queues.items():
        dlq: str | None = None
        if q.dead_letter is True:
            dlq = names.queue(f"{key}-dlq", None, q.fifo)
            queues.append(s.QueueSpec(f"{key}-dlq", dlq, q.visibility_timeout, 1209600,
                                      fifo=q.fifo))
        elif isinstance(q.dead_letter, str):
            if q.dead_letter not in res.queues:
                raise ConfigError(
                    f"dead_letter {q.dead_letter!r} is not a queue of this service",
                    where=_where(service, f"resources.queues.{key}.dead_letter"),
                    fix=f"declare it under resources.queues, or use `dead_letter: true`; queues: "
                        f"{', '.join(res.queues)}",
                )
            other = res.queues[q.dead_letter]
            dlq = names.queue(q.dead_letter, other.name, other.fifo)
        queues.append(s.QueueSpec(key, names.queue(key, q.name, q.fifo), q.visibility_timeout,
                                  q.retention, dlq, q.max_receives, q.fifo))
    queues.append(s.QueueSpec("aloft-failed", names.failure_queue, 30, 1209600))
    return s.Resources(
        buckets=tuple(s.BucketSpec(k, names.bucket(k, b.name), b.public, b.versioning)
                      for k, b in res.buckets.items()),
        queues=tuple(queues),
        topics=tuple(s.TopicSpec(k, names.topic(k, t.name)) for k, t in res.topics.items()),
        tables=tuple(
            s.TableSpec(k, names.table(k, t.name), t.hash_key, t.hash_type, t.range_key,
                        t.range_type,
                        ("NEW_AND_OLD_IMAGES" if t.stream is True else (t.stream or None)),
                        t.ttl)
            for k, t in res.tables.items()),
        parameters=tuple(
            s.ParameterSpec(k, names.parameter(k, p.name), p.value, p.secure, p.description or "")
            for k, p in res.parameters.items()),
    )


def _cors_spec(c: Cors | None) -> s.CorsSpec | None:
    if c is None or not c.enabled:
        return None
    return s.CorsSpec(tuple(c.origins), tuple(c.methods), tuple(c.headers),
                      tuple(c.expose_headers), c.credentials, c.max_age)


def _route_cors(service: Service, found: Cors | route_cors.Conflict | None) -> s.CorsSpec | None:
    """The one CORS configuration the routes' own `cors:` and the service's come to."""
    if isinstance(found, route_cors.Conflict):
        raise ConfigError(found.message, fix=found.fix, where=_where(
            service, format_path(found.where) or "cors", found.function))
    return _cors_spec(found)


def _source_arn(names: Names, service: Service, kind: str, written: str | Intrinsic) -> str:
    """The ARN an event source names: a declared resource key, a bare name or an ARN."""
    name = source_text(written, kind)
    if name.startswith("arn:"):
        return name
    res = service.resources
    if kind == "queue":
        q = res.queues.get(name)
        return names.queue_arn(names.queue(name, q.name, q.fifo) if q else name)
    if kind == "topic":
        t = res.topics.get(name)
        return names.topic_arn(names.topic(name, t.name) if t else name)
    if kind == "dynamodb":
        tb = res.tables.get(name)
        table = names.table(name, tb.name) if tb else name
        return s.ref(f"stream:{table}")
    return names.account.arn("kinesis", f"stream/{name}")


def _routes(service: Service, functions: dict[str, Function], kind: str) -> list[s.RouteSpec]:
    routes: dict[str, s.RouteSpec] = {}
    if service.has_app:
        app = functions[APP_FUNCTION]
        keys = ["$default"] if kind == "http" else ["ANY /", "ANY /{proxy+}"]
        for key in keys:
            routes[key] = s.RouteSpec(key, APP_FUNCTION, "1.0" if kind == "rest" else app.payload)
    for name, fn in functions.items():
        for ev in fn.events:
            if ev.http is None:
                continue
            key = f"{ev.http.method} {ev.http.path}"
            if key in routes and routes[key].function != name:
                raise ConfigError(
                    f"route {key!r} is served by both {routes[key].function!r} and {name!r}",
                    where=_where(service, f"functions.{name}.events", name),
                    fix="give each route (method and path) to one function",
                )
            routes[key] = s.RouteSpec(key, name, "1.0" if kind == "rest" else fn.payload)
    return sorted(routes.values(), key=lambda r: r.key)


def _static(service: Service, names: Names, kind: str) -> s.StaticSpec | None:
    """`static:` served from the stage's bucket: on HTTP APIs only (REST APIs and function
    URLs keep serving the files from the code zip through the app)."""
    st = service.static
    if st is None or kind != "http":
        return None
    path = "/" + st.path.strip("/")
    if path == "/" or "{" in path or "}" in path:
        raise ConfigError(
            f"static path {st.path!r} cannot be a route prefix on AWS",
            where=_where(service, "static.path"),
            fix="serve the files under a prefix of their own, e.g. `path: /static`",
        )
    directory = service.root / st.directory
    if not directory.is_dir():  # as locally: no directory, nothing served (the app answers)
        return None
    files = static_files.scan(directory)
    return s.StaticSpec(names.static_bucket, names.account.region, path, files)


def desired(service: Service, built: Built, names: Names) -> s.Desired:
    """The stage as it should be once deployed with artifact `built`."""
    acct = names.account
    functions = service.resolved_functions()
    res = resources(service, names)
    res_env = resource_environment(service, names)
    failure_arn = names.queue_arn(names.failure_queue)
    layer = built.layer
    kind = service.aws.api
    # REST APIs leave CORS to the app (the spec is kept for the record); see route_cors.py
    cors = _route_cors(service, route_cors.aws_api_cors(service)) if kind == "http" \
        else _cors_spec(service.cors)

    routes = _routes(service, functions, kind)
    static = _static(service, names, kind)
    if static is not None:
        for key in static.route_keys:
            if any(r.key == key for r in routes):
                raise ConfigError(
                    f"route {key!r} is both a function's and the static files'",
                    where=_where(service, "static.path"),
                    fix="move the static files or the route to another path",
                )
        routes = sorted([*routes, *(s.RouteSpec(k, s.STATIC_ROUTE, "1.0")
                                    for k in static.route_keys)], key=lambda r: r.key)
    url_functions = {r.function for r in routes} if kind == "url" else set()
    api = None
    if routes and kind != "url":
        api = s.ApiSpec(kind, names.api_name, tuple(routes), cors)

    permissions: list[s.Permission] = []
    rules: list[s.RuleSpec] = []
    mappings: list[s.MappingSpec] = []
    subs: list[s.SubscriptionSpec] = []
    notes: dict[str, list[s.NotificationSpec]] = {}
    if api is not None:
        for fname in sorted({r.function for r in api.routes} - {s.STATIC_ROUTE}):
            permissions.append(s.Permission(fname, "aloft-api", "apigateway.amazonaws.com",
                                            names.api_source_arn(s.ref("api"))))
    for fname in sorted(url_functions):
        permissions.append(s.Permission(fname, "aloft-url", "*", None,
                                        "lambda:InvokeFunctionUrl"))

    # keep-warm arrives as a schedule event of the app (aloft.plugins.builtin.keep_warm)
    for fname, fn in functions.items():
        scheds = [ev.schedule for ev in fn.events if ev.schedule is not None]
        for i, sched in enumerate(scheds):
            suffix = sched.name or (f"{fname}-schedule" + (f"-{i}" if len(scheds) > 1 else ""))
            rules.append(s.RuleSpec(
                names.rule(suffix), sched.expression, sched.enabled, fname,
                None if sched.input is None else json.dumps(sched.input, sort_keys=True),
                sched.description or f"aloft schedule of {fname}"))
        for ev in fn.events:
            if ev.queue is not None:
                q = ev.queue
                mappings.append(s.MappingSpec(
                    fname, _source_arn(names, service, "queue", q.name), q.batch_size, q.window,
                    q.partial_failures, q.enabled, None))
            elif ev.stream is not None:
                st = ev.stream
                mappings.append(s.MappingSpec(
                    fname, _source_arn(names, service, st.type, st.name), st.batch_size,
                    st.window, st.partial_failures, st.enabled, st.starting_position))
            elif ev.topic is not None:
                arn = _source_arn(names, service, "topic", ev.topic.name)
                policy = (json.dumps(ev.topic.filter_policy, sort_keys=True)
                          if ev.topic.filter_policy else None)
                subs.append(s.SubscriptionSpec(fname, arn, policy))
                permissions.append(s.Permission(fname, f"aloft-sns-{_h(arn)}",
                                                "sns.amazonaws.com", arn))
            elif ev.bucket is not None:
                b = ev.bucket
                decl = service.resources.buckets.get(b.name)
                bucket = names.bucket(b.name, decl.name) if decl else b.name
                notes.setdefault(bucket, []).append(
                    s.NotificationSpec(fname, tuple(b.events), b.prefix, b.suffix))
                perm = s.Permission(fname, f"aloft-s3-{_h(bucket)}", "s3.amazonaws.com",
                                    f"arn:{acct.partition}:s3:::{bucket}")
                if perm not in permissions:
                    permissions.append(perm)
    for rule in rules:
        permissions.append(rule_permission(rule, acct.arn("events", f"rule/{rule.name}")))

    role_arn = service.aws.role or names.role_arn
    role = None
    if not service.aws.role:
        role = s.RoleSpec(names.role_name, names.role_arn,
                          role_policy(service, names, [m.source_arn for m in mappings]))
    vpc = service.aws.vpc
    specs: list[s.FunctionSpec] = []
    for fname, fn in functions.items():
        env = {**res_env, **text_environment(fn.environment), "ALOFT_FUNCTION": fname}
        config = s.FunctionConfig(
            runtime=f"python{service.runtime}",
            handler=HANDLER,
            role=role_arn,
            memory=fn.memory or 512,
            timeout=fn.timeout or 30,
            environment=tuple(sorted(env.items())),
            layers=((s.ref("layer"),) if layer else ()) + tuple(fn.layers),
            description=fn.description or f"aloft {service.service} {service.stage} {fname}",
            tracing="Active" if service.aws.tracing else "PassThrough",
            subnet_ids=tuple(vpc.subnet_ids) if vpc else (),
            security_group_ids=tuple(vpc.security_group_ids) if vpc else (),
        )
        url: s.CorsSpec | str | None = None
        if fname in url_functions:
            url = _route_cors(service, route_cors.aws_url_cors(service, fname)) or "none"
        specs.append(s.FunctionSpec(
            name=fname, physical=names.function(fname), config=config,
            architecture=fn.architecture or service.aws.architecture,
            code_sha256=built.code.sha256, code_key=names.code_key(built.code.sha256),
            concurrency=fn.concurrency,
            async_config=s.AsyncConfig(fn.retries, fn.max_event_age, failure_arn),
            url=url,  # type: ignore[arg-type]
        ))
    retention = service.aws.log_retention_days
    return s.Desired(
        service=service.service, stage=service.stage, region=acct.region,
        account_id=acct.account_id, partition=acct.partition,
        bucket=names.deployment_bucket, create_bucket=service.aws.bucket is None,
        code_key=names.code_key(built.code.sha256), code_path=str(built.code.path),
        code_size=built.code.size, code_sha256=built.code.sha256,
        layer_key=names.layer_key(layer.sha256) if layer else None,
        layer_path=str(layer.path) if layer else None,
        layer_size=layer.size if layer else 0,
        layer_sha256=layer.sha256 if layer else None,
        layer_name=names.layer_name,
        role=role, role_arn=role_arn,
        functions=tuple(specs), api=api,
        permissions=tuple(permissions), rules=tuple(rules), mappings=tuple(mappings),
        subscriptions=tuple(subs),
        notifications=tuple((b, tuple(n)) for b, n in sorted(notes.items())),
        resources=res,
        log_groups=tuple((names.log_group(f), retention) for f in functions),
        tags=tuple(sorted(names.tags(service.aws.tags).items())),
        domain=service.aws.domain,
        static=static,
    )
