"""The desired state of a stage on AWS: the stage model and the built artifact, translated into
`specs` records. Pure: names, grants, environments and triggers come from aloft.stage."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Protocol

from aloft.aws import albs, auth
from aloft.aws import specs as s
from aloft.aws import static as static_files
from aloft.aws.cdn import CDN_CACHE_CONTROL
from aloft.aws.names import HANDLER, Names
from aloft.aws.policy import role_policy
from aloft.config import route_cors
from aloft.config.models import APP_FUNCTION, PER_FUNCTION, Cors, Service
from aloft.config.source import format_path
from aloft.errors import ConfigError, Location
from aloft.stage import late as lt
from aloft.stage import records as r
from aloft.stage import stage_of
from aloft.stage.names import stage_prefix


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
    @property
    def tasks(self) -> bool: ...


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def rule_permission(rule: s.RuleSpec, rule_arn: str) -> s.Permission:
    """The statement on the stage alias that lets an EventBridge rule invoke it."""
    return s.Permission(rule.function, f"aloft-rule-{_h(rule.name)}", "events.amazonaws.com",
                        rule_arn)


def _where(service: Service, key_path: str, function: str | None = None) -> Location:
    return Location(file=str(service.config_file) if service.config_file else None,
                    key_path=key_path, function=function, stage=service.stage)


def resources(stage: r.Stage, names: Names) -> s.Resources:
    res = stage.resources
    return s.Resources(
        buckets=tuple(s.BucketSpec(b.key, b.name, b.public, b.versioning) for b in res.buckets),
        queues=(*(s.QueueSpec(q.key, q.name, q.visibility_timeout, q.retention, q.dead_letter,
                              q.max_receives, q.fifo) for q in res.queues),
                s.QueueSpec("aloft-failed", names.failure_queue, 30, 1209600)),
        topics=tuple(s.TopicSpec(t.key, t.name) for t in res.topics),
        tables=tuple(s.TableSpec(t.key, t.name, t.hash_key, t.hash_type, t.range_key,
                                 t.range_type, t.stream, t.ttl) for t in res.tables),
        parameters=tuple(s.ParameterSpec(p.key, p.name, p.value, p.secure, p.description)
                         for p in res.parameters),
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


def _routes(service: Service, stage: r.Stage, kind: str) -> list[s.RouteSpec]:
    """The API's route keys: an HTTP API serves the app at `$default`."""
    routes: dict[str, s.RouteSpec] = {}
    # the stage's routes end with the app's catch-all (`ANY /`, `ANY /{proxy+}`)
    app = list(stage.routes[-2:]) if service.has_app else []
    events = stage.routes[:-2] if service.has_app else stage.routes
    if app and kind == "http":
        routes["$default"] = s.RouteSpec("$default", APP_FUNCTION, app[0].payload,
                                         **auth.route_auth(app[0].auth))  # type: ignore[arg-type]
    else:
        routes.update((x.key, s.RouteSpec(x.key, APP_FUNCTION, _payload(kind, x.payload),
                                          **auth.route_auth(x.auth)))  # type: ignore[arg-type]
                      for x in app)
    for x in events:
        if x.key in routes and routes[x.key].function != x.function:
            raise ConfigError(
                f"route {x.key!r} is served by both {routes[x.key].function!r} and "
                f"{x.function!r}",
                where=_where(service, f"functions.{x.function}.events", x.function),
                fix="give each route (method and path) to one function",
            )
        routes[x.key] = s.RouteSpec(x.key, x.function, _payload(kind, x.payload),
                                    **auth.route_auth(x.auth))  # type: ignore[arg-type]
    return sorted(routes.values(), key=lambda x: x.key)


def _payload(kind: str, payload: r.Payload) -> r.Payload:
    return "1.0" if kind == "rest" else payload


def _static(service: Service, stage: r.Stage, names: Names, kind: str) -> s.StaticSpec | None:
    """`static:` served from the stage's bucket: on HTTP APIs only (REST APIs and function
    URLs keep serving the files from the code zip through the app)."""
    st = stage.static
    if st is None or kind != "http":
        return None
    if st.path == "/" or "{" in st.path or "}" in st.path:
        raise ConfigError(
            f"static path {st.path!r} cannot be a route prefix on AWS",
            where=_where(service, "static.path"),
            fix="serve the files under a prefix of their own, e.g. `path: /static`",
        )
    directory = Path(st.directory)
    if not directory.is_dir():  # as locally: no directory, nothing served (the app answers)
        return None
    files = static_files.scan(directory)
    if service.uses_cdn:  # CloudFront asks the bucket for the URL's path (aloft.aws.cdn)
        prefix = st.path.lstrip("/") + "/"
        return s.StaticSpec(names.static_bucket, names.account.region, st.path,
                            tuple(dataclasses.replace(f, key=prefix + f.key) for f in files),
                            CDN_CACHE_CONTROL, prefix)
    return s.StaticSpec(names.static_bucket, names.account.region, st.path, files)


def _cdn(service: Service, names: Names, api: s.ApiSpec | None,
         static: s.StaticSpec | None) -> s.CdnSpec | None:
    """`cdn: true`: CloudFront in front of the API and the static bucket."""
    if not service.uses_cdn:
        return None
    if api is None:
        raise ConfigError(
            "`cdn: true` needs an HTTP or REST API to put CloudFront in front of",
            where=_where(service, "cdn"),
            fix="give the stage an `app` or `http` events (a function URL has no CDN here), "
                "or remove `cdn`")
    region = names.account.region
    return s.CdnSpec(
        reference=f"aloft-{names.prefix}", comment=f"aloft {service.service} {service.stage}",
        api_domain=f"{lt.late(lt.API)}.execute-api.{region}.amazonaws.com",
        api_path=f"/{service.stage}" if api.kind == "rest" else "",
        static_bucket=f"{static.bucket}.s3.{region}.amazonaws.com" if static else None,
        static_path=static.path if static else None, domain=service.aws.domain)


def _api(service: Service, stage: r.Stage, names: Names, kind: s.ApiKind
         ) -> tuple[s.ApiSpec | None, list[s.RouteSpec], s.StaticSpec | None]:
    """(the HTTP or REST API, every route including a function URL's, the static files)."""
    # REST APIs leave CORS to the app (the spec is kept for the record); see route_cors.py
    cors = _route_cors(service, route_cors.aws_api_cors(service)) if kind == "http" \
        else _cors_spec(service.cors)
    routes = _routes(service, stage, kind)
    static = _static(service, stage, names, kind)
    if static is not None:
        for key in static.route_keys:
            if any(x.key == key for x in routes):
                raise ConfigError(
                    f"route {key!r} is both a function's and the static files'",
                    where=_where(service, "static.path"),
                    fix="move the static files or the route to another path",
                )
        routes = sorted([*routes, *(s.RouteSpec(k, s.STATIC_ROUTE, "1.0")
                                    for k in static.route_keys)], key=lambda x: x.key)
    api = s.ApiSpec(kind, names.api_name, tuple(routes), cors,
                    tracing=kind == "rest" and service.aws.tracing,
                    authorizers=auth.authorizers(stage.api_auth, routes, kind),
                    usage_plan=auth.usage_plan(stage.api_auth, routes, names, kind)) \
        if routes and kind != "url" else None
    return api, routes, static


def _rules(stage: r.Stage) -> list[s.RuleSpec]:
    """The schedules, then the `eventbridge` events' rules."""
    return [*(s.RuleSpec(x.name, x.expression, x.enabled, x.function, x.input, x.description)
              for x in stage.schedules),
            *(s.RuleSpec(x.name, "", x.enabled, x.function, x.input, x.description, x.pattern,
                         x.bus, x.input_path) for x in stage.event_rules)]


class _Triggers:
    """Event source mappings, subscriptions, bucket notifications, and the permissions on the
    stage aliases that let the API, the rules, the topics and the buckets invoke them."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.permissions: list[s.Permission] = []
        self.mappings: list[s.MappingSpec] = []
        self.subscriptions: list[s.SubscriptionSpec] = []
        self.notifications: dict[str, list[s.NotificationSpec]] = {}

    def api(self, api: s.ApiSpec | None, url_functions: set[str]) -> None:
        if api is not None:
            for fname in sorted({x.function for x in api.routes} - {s.STATIC_ROUTE}):
                self.permissions.append(s.Permission(
                    fname, "aloft-api", "apigateway.amazonaws.com",
                    self.names.api_source_arn(s.ref("api"))))
        for fname in sorted(url_functions):
            self.permissions.append(s.Permission(fname, "aloft-url", "*", None,
                                                 "lambda:InvokeFunctionUrl"))

    def binding(self, b: r.Binding) -> None:
        if b.kind in ("queue", "stream"):
            self.mappings.append(s.MappingSpec(
                b.function, b.arn, b.batch_size, b.window, b.partial_failures, b.enabled,
                b.starting_position))
        elif b.kind == "topic":
            self.subscriptions.append(s.SubscriptionSpec(b.function, b.arn, b.filter_policy))
            self.permissions.append(s.Permission(b.function, f"aloft-sns-{_h(b.arn)}",
                                                 "sns.amazonaws.com", b.arn))
        else:
            self.notifications.setdefault(b.source, []).append(
                s.NotificationSpec(b.function, b.events, b.prefix, b.suffix))
            perm = s.Permission(b.function, f"aloft-s3-{_h(b.source)}", "s3.amazonaws.com",
                                b.arn)
            if perm not in self.permissions:
                self.permissions.append(perm)

    def rules(self, rules: list[s.RuleSpec]) -> None:
        for rule in rules:
            self.permissions.append(rule_permission(
                rule, self.names.rule_arn(rule.name, rule.bus_name)))


def _check_snap_start(service: Service, fn: r.Function) -> None:
    """What Lambda refuses with SnapStart, said before anything is deployed."""
    if not fn.snap_start:
        return
    key = "snap_start" if fn.name == APP_FUNCTION else f"functions.{fn.name}.snap_start"
    why, fix = None, None
    if tuple(int(x) for x in fn.runtime.split(".")[:2]) < (3, 12):
        why = f"SnapStart needs Python 3.12 or later on Lambda; {fn.name} runs python{fn.runtime}"
        fix = "set `runtime: '3.12'` (or later), or remove `snap_start`"
    elif fn.ephemeral_storage > 512:
        why = (f"SnapStart takes at most 512 MB of /tmp; {fn.name} asks for "
               f"{fn.ephemeral_storage} (`ephemeral_storage`)")
        fix = "remove `ephemeral_storage` (512 MB), or `snap_start`"
    elif fn.provisioned_concurrency is not None:
        why = f"SnapStart and provisioned concurrency exclude each other ({fn.name})"
        fix = "keep one of `snap_start` and `provisioned_concurrency`"
    if why is not None:
        raise ConfigError(why, where=_where(service, key, fn.name), fix=fix)


def _function(service: Service, fn: r.Function, names: Names, built: Built, role_arn: str,
              url: s.CorsSpec | str | None, kind: s.ApiKind) -> s.FunctionSpec:
    _check_snap_start(service, fn)
    vpc = service.aws.vpc
    failure_arn = names.queue_arn(names.failure_queue)
    config = s.FunctionConfig(
        runtime=f"python{fn.runtime}", handler=HANDLER, role=role_arn, memory=fn.memory,
        timeout=fn.timeout, environment=tuple(sorted(fn.environment)),
        layers=((s.ref("layer"),) if built.layer else ()) + fn.layers,
        description=fn.description or f"aloft {service.service} {service.stage} {fn.name}",
        tracing="Active" if fn.tracing else "PassThrough",
        subnet_ids=tuple(vpc.subnet_ids) if vpc else (),
        security_group_ids=tuple(vpc.security_group_ids) if vpc else (),
        dead_letter=fn.dead_letter, ephemeral_storage=fn.ephemeral_storage,
        log_format="JSON" if fn.log_format == "json" else "Text", log_level=fn.log_level,
        snap_start=fn.snap_start,
    )
    a = fn.async_settings
    return s.FunctionSpec(
        name=fn.name, physical=fn.physical, config=config,
        architecture=fn.architecture or service.aws.architecture,
        code_sha256=built.code.sha256, code_key=names.code_key(built.code.sha256),
        concurrency=fn.concurrency,
        async_config=s.AsyncConfig(a.retries, a.max_event_age, a.on_failure or failure_arn,
                                   a.on_success),
        url=url,  # type: ignore[arg-type]
        health_path=service.health_path if fn.name == APP_FUNCTION else None,
        payload=_payload(kind, fn.payload),
        provisioned=fn.provisioned_concurrency or None,
    )


def desired(service: Service, built: Built, names: Names) -> s.Desired:
    """The stage as it should be once deployed with artifact `built`."""
    stage = stage_of(service, names.account, tasks=built.tasks)
    kind = service.aws.api
    api, routes, static = _api(service, stage, names, kind)
    url_functions = {x.function for x in routes} if kind == "url" else set()
    rules = _rules(stage)
    triggers = _Triggers(names)
    triggers.api(api, url_functions)
    triggers.permissions += auth.authorizer_permissions(api, names)
    for binding in stage.bindings:
        triggers.binding(binding)
    triggers.rules(rules)
    alb_specs = _albs(service, stage, names)
    acct = names.account
    triggers.permissions += [albs.permission(x, acct.arn("elasticloadbalancing",
                                                         f"targetgroup/{x.name}/*"))
                             for x in alb_specs]
    role_arn = service.aws.existing_role or names.role_arn
    roles = _roles(service, stage, names)
    arns = {fn.name: names.function_role_arn(fn.name) if service.aws.role == PER_FUNCTION
            else role_arn for fn in stage.functions}
    specs = [_function(service, fn, names, built, arns[fn.name],
                       (_route_cors(service, route_cors.aws_url_cors(service, fn.name)) or "none")
                       if fn.name in url_functions else None, kind)
             for fn in stage.functions]
    layer = built.layer
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
        roles=roles, role_arn=role_arn,
        functions=tuple(specs), api=api,
        permissions=tuple(triggers.permissions), rules=tuple(rules),
        mappings=tuple(triggers.mappings), subscriptions=tuple(triggers.subscriptions),
        notifications=tuple((b, tuple(n)) for b, n in sorted(triggers.notifications.items())),
        resources=resources(stage, names),
        log_groups=tuple((fn.log_group, service.aws.log_retention_days)
                         for fn in stage.functions),
        tags=tuple(sorted(names.tags(service.aws.tags).items())),
        domain=service.aws.domain,
        static=static,
        albs=tuple(alb_specs),
        secret_key=names.secret_key_alias if _uses_secret_key(stage) else None,
        cdn=_cdn(service, names, api, static),
    )


def _roles(service: Service, stage: r.Stage, names: Names) -> tuple[s.RoleSpec, ...]:
    """The stage's role, or each function's (`aws.role: per_function`); none when `aws.role`
    names the user's own."""
    if service.aws.existing_role:
        return ()
    if service.aws.role == PER_FUNCTION:
        if lt.late(lt.ROLE_ID) in json.dumps(dataclasses.asdict(stage), default=str):
            raise ConfigError(
                "the stage reads the role's id (`IamRoleLambdaExecution.RoleId`), but with "
                "`role: per_function` each function has a role of its own",
                where=_where(service, "aws.role"),
                fix="remove `role: per_function`, or name one function's role by its ARN")
        return tuple(s.RoleSpec(names.function_role_name(fn.name),
                                names.function_role_arn(fn.name),
                                role_policy(service, stage, names, fn))
                     for fn in stage.functions)
    return (s.RoleSpec(names.role_name, names.role_arn, role_policy(service, stage, names)),)


def _uses_secret_key(stage: r.Stage) -> bool:
    """A function may decrypt with the stage key, or a secure parameter is stored with it."""
    return (any(g.sid == "Decrypt" for g in stage.grants())
            or any(p.secure and p.value is not None for p in stage.resources.parameters))


def _albs(service: Service, stage: r.Stage, names: Names) -> list[s.AlbSpec]:
    out = []
    for target in stage.alb_targets:
        if not target.listener.startswith("arn:") and not lt.is_late(target.listener):
            raise ConfigError(
                f"the `alb` event of {target.function} needs its listener's ARN, not "
                f"{target.listener!r}", where=_where(service, f"functions.{target.function}",
                                                     target.function),
                fix="set `alb.listener` to the listener's ARN (or a `!Ref`/`!ImportValue` "
                    "that gives it)")
        out.append(albs.spec(target, stage_prefix(service.service, service.stage)))
    return out
