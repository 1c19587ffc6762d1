"""Planning: the steps that turn the actual state of a stage into the desired one. Pure.

`plan_deploy(desired, actual)` and `plan_undeploy(desired, actual)` return lists of `steps`
records (rollback's plan is in plan_rollback.py); nothing here touches AWS, so plans are tested
over in-memory `ActualState`s.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from aloft.aws import albs, cdn
from aloft.aws import plan_changes as pc
from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.auth import AUTHORIZER_SID
from aloft.aws.plan_auth import authorizer_changes, usage_plan_steps
from aloft.aws.record import StateRecord
from aloft.aws.state import ActualState
from aloft.aws.static import REFERER_REF
from aloft.stage import late as lt

T = TypeVar("T")
_REF = re.compile(r"\$\{([^}]+)\}")


def fill(value: T, refs: Mapping[str, str]) -> T:
    """`value` with every known `${ref}` replaced, through dataclasses, tuples and strings."""
    if isinstance(value, str):
        return _REF.sub(lambda m: refs.get(m.group(1), m.group(0)), value)  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(fill(v, refs) for v in value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: fill(getattr(value, f.name), refs) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)
    return value


def _record(d: s.Desired, a: ActualState) -> StateRecord:
    r = d.resources
    return dataclasses.replace(
        a.record,
        functions=tuple(f.name for f in d.functions),
        rules=tuple(x.name for x in d.rules),
        topics_subscribed=tuple(dict.fromkeys(x.topic_arn for x in d.subscriptions)),
        notification_buckets=tuple(b for b, _ in d.notifications),
        buckets={x.key: x.name for x in r.buckets},
        queues={x.key: x.name for x in r.queues},
        topics={x.key: x.name for x in r.topics},
        tables={x.key: x.name for x in r.tables},
        parameters={x.key: x.name for x in r.parameters if x.value is not None},
        api=None,  # set when applied (the id of a new API is not known yet)
        bucket_created=a.record.bucket_created or (d.create_bucket and not a.bucket_exists),
        static_bucket=d.static.bucket if d.static else None,
        roles=tuple(x.name for x in d.roles),
        albs=tuple(x.name for x in d.albs),
    )


def _alias_arn(d: s.Desired, f: s.FunctionSpec) -> str:
    return d.alias_arn(f.physical)


def plan_deploy(desired: s.Desired, actual: ActualState, *,
                health_check: bool = True) -> list[st.Step]:
    """The steps that make `actual` into `desired`; empty when nothing changed. Each version
    published is health-checked before its alias points at it (unless `health_check` is
    False)."""
    a = actual
    # The layer placeholder resolves to the published version holding exactly these deps.
    refs = {k: v for k, v in a.refs.items() if k != "layer"}
    for arn, sha in a.layers:
        if sha == desired.layer_sha256:
            refs["layer"] = arn
    d = fill(desired, refs)
    tags = d.tags
    out = _artifacts(d, a, refs)
    out += _roles(d, a, refs)
    out += _resources(d, a)
    out += plan_static(d, a)
    for name, retention in d.log_groups:
        if name not in a.log_groups:
            out.append(st.CreateLogGroup(name, retention, tags))
        elif a.log_groups[name] != retention:
            out.append(st.PutRetention(name, retention))

    alias_moves: list[st.Step] = []
    for f in d.functions:
        out += _function(d, a, f, alias_moves, health_check)
    api_steps = _api(d, a)
    out += api_steps
    out += usage_plan_steps(d, a, any(isinstance(x, st.CreateApi) for x in api_steps))
    out += _cdn(d, a)
    out += _permissions(d, a)
    out += _triggers(d, a)
    out += _albs(d, a)
    out += alias_moves
    out += _removals(d, a)
    if out:
        # A release is what `rollback` returns to: new versions, schedules or routes.
        current = a.record.current
        routes = release_routes(d)
        release = (any(isinstance(x, st.PublishVersion) for x in out)
                   or (current is not None and (current.rules != d.rules
                                                or current.routes != routes)))
        out.append(st.WriteState(d.bucket, d.state_key, _record(d, a).to_json(), release,
                                 d.rules, routes))
    return out


def _artifacts(d: s.Desired, a: ActualState, refs: Mapping[str, str]) -> list[st.Step]:
    """The deployment bucket, the code zip and the dependency layer."""
    out: list[st.Step] = []
    if d.create_bucket and not a.bucket_exists:
        out.append(st.CreateDeploymentBucket(d.bucket, d.tags))
    if d.code_key not in a.objects:
        out.append(st.UploadObject(d.code_key, d.bucket, d.code_path, d.code_size))
    if d.layer_sha256 and d.layer_key and d.layer_path and "layer" not in refs:
        if d.layer_key not in a.objects:
            out.append(st.UploadObject(d.layer_key, d.bucket, d.layer_path, d.layer_size))
        runtime = d.functions[0].config.runtime if d.functions else "python3.12"
        archs = tuple(sorted({f.architecture for f in d.functions})) or ("x86_64",)
        out.append(st.PublishLayer(d.layer_name, d.bucket, d.layer_key, d.layer_sha256,
                                   runtime, archs))
    return out


def _roles(d: s.Desired, a: ActualState, refs: Mapping[str, str]) -> list[st.Step]:
    """The stage key (its ARN is in the policies), then the roles and their policies."""
    out: list[st.Step] = []
    if d.secret_key is not None and lt.SECRET_KEY not in refs:
        out.append(st.CreateSecretKey(d.secret_key))
    for role in d.roles:
        if role.name not in a.roles:
            out.append(st.CreateRole(role.name, d.tags))
        if a.roles.get(role.name) != role.policy:
            out.append(st.PutRolePolicy(role.name, "aloft", role.policy))
    return out


def _cdn(d: s.Desired, a: ActualState) -> list[st.Step]:
    """The CloudFront distribution (`cdn: true`), made, brought to its spec or removed."""
    have = a.record.cdn
    if d.cdn is None:
        return [st.DeleteDistribution(have["id"], have.get("oac", ""), a.static_bucket or "")
                ] if have else []
    if have is None:
        return [st.CreateDistribution(d.cdn, d.tags)]
    if have.get("hash") != cdn.spec_hash(d.cdn, have.get("certificate") or None):
        return [st.UpdateDistribution(have["id"], d.cdn)]
    return []


def release_routes(d: s.Desired) -> tuple[s.RouteSpec, ...]:
    """The routes a release records (its HTTP or REST API's), () without an API."""
    return d.api.routes if d.api is not None else ()


def _resources(d: s.Desired, a: ActualState) -> list[st.Step]:
    out: list[st.Step] = []
    have = a.resources
    actual_buckets = {b.name: b for b in have.buckets}
    for b in d.resources.buckets:
        if b.name not in actual_buckets:
            out.append(st.CreateBucket(b, d.tags))
        elif actual_buckets[b.name].public != b.public:
            out.append(st.SetBucketPublic(b.name, b.public))
    actual_queues = {q.name: q for q in have.queues}
    # Dead-letter queues first: a redrive policy names an existing queue.
    for q in sorted(d.resources.queues, key=lambda q: q.dead_letter is not None):
        if q.name not in actual_queues:
            out.append(st.CreateQueue(q, d.tags))
        elif dataclasses.replace(actual_queues[q.name], key=q.key) != q:
            out.append(st.SetQueueAttributes(q))
    for t in d.resources.topics:
        if t.name not in {x.name for x in have.topics}:
            out.append(st.CreateTopic(t, d.tags))
    for tb in d.resources.tables:
        if tb.name not in {x.name for x in have.tables}:
            out.append(st.CreateTable(tb, d.tags))
    actual_params = {p.name: p for p in have.parameters}
    for p in d.resources.parameters:
        if p.value is None:
            continue
        cur = actual_params.get(p.name)
        if cur is None:
            out.append(st.PutParameter(p, d.tags))
        elif (cur.value, cur.secure) != (p.value, p.secure):
            out.append(st.PutParameter(p, (), overwrite=True))
    return out


def plan_static(d: s.Desired, a: ActualState) -> list[st.Step]:
    """The static bucket and its files: only what changed is uploaded (ETag = MD5). Also
    `aloft manage STAGE collectstatic`'s whole plan."""
    sp = d.static
    if sp is None:
        return []
    out: list[st.Step] = []
    have: Mapping[str, str] = {}
    if a.static_bucket != sp.bucket:
        out.append(st.CreateStaticBucket(sp.bucket, d.tags))
    else:
        have = a.static_objects
        if REFERER_REF not in a.refs:
            out.append(st.PutStaticPolicy(sp.bucket))
    upload = tuple(f for f in sp.files if have.get(f.key) != f.md5)
    delete = tuple(sorted(set(have) - {f.key for f in sp.files}))
    if upload or delete:
        out.append(st.SyncStatic(sp.bucket, sp.cache_control, upload, delete))
    return out


def _health(d: s.Desired, a: ActualState, f: s.FunctionSpec) -> st.HealthCheck:
    rest = d.api is not None and d.api.kind == "rest"
    cur = a.functions.get(f.name)
    first = not any(x.alias_version for x in a.functions.values())
    return st.HealthCheck(f.name, f.physical, f.health_path, f.payload,
                          f"/{d.stage}" if rest else "", d.stage if rest else "$default",
                          cur.alias_version if cur else None, first)


def _function(d: s.Desired, a: ActualState, f: s.FunctionSpec,
              alias_moves: list[st.Step], health_check: bool) -> list[st.Step]:
    out: list[st.Step] = []
    cur = a.functions.get(f.name)
    checks = [_health(d, a, f)] if health_check else []
    publish = st.PublishVersion(f.name, f.physical, f.config.snap_start)
    if cur is None:
        out += [st.CreateFunction(f, d.bucket, d.tags), publish,
                *checks, st.CreateAlias(f.name, f.physical, d.stage)]
    else:
        changed = False
        if cur.code_sha256 != f.code_sha256 or cur.architecture != f.architecture:
            out.append(st.UpdateFunctionCode(f.physical, d.bucket, f.code_key, f.architecture,
                                             pc.code_changes(cur.code_sha256, f.code_sha256,
                                                             cur.architecture, f.architecture)))
            changed = True
        if cur.config != f.config:
            out.append(st.UpdateFunctionConfiguration(f.physical, f.config,
                                                      pc.config_changes(cur.config, f.config)))
            changed = True
        if changed:
            out += [publish, *checks]
        if cur.alias_version is None:
            if not changed:
                out += [publish, *checks]
            out.append(st.CreateAlias(f.name, f.physical, d.stage))
        elif changed:
            alias_moves.append(st.UpdateAlias(f.name, f.physical, d.stage, None,
                                              cur.alias_version))
    if (cur.concurrency if cur else None) != f.concurrency:
        out.append(st.PutConcurrency(f.physical, f.concurrency))
    if (cur.provisioned if cur else None) != f.provisioned:
        # once the alias points at the new version (alias_moves come last): allocated once
        alias_moves.append(st.PutProvisionedConcurrency(f.physical, d.stage, f.provisioned))
    if cur is None or cur.async_config != f.async_config:
        out.append(st.PutEventInvokeConfig(f.physical, d.stage, f.async_config))
    have_url = cur.url if cur else None
    if f.url is not None and have_url != f.url:
        cors = f.url if isinstance(f.url, s.CorsSpec) else None
        out.append(st.PutFunctionUrl(f.physical, d.stage, cors, have_url is not None))
    elif f.url is None and have_url is not None:
        out.append(st.DeleteFunctionUrl(f.physical, d.stage))
    return out


def _api(d: s.Desired, a: ActualState) -> list[st.Step]:
    out: list[st.Step] = []
    want, have = d.api, a.api
    if have is not None and (want is None or want.kind != have.kind):
        out.append(st.DeleteApi(have.id, have.kind))
        have = None
    if want is None:
        return out
    if have is None:
        out.append(st.CreateApi(want, d.stage, d.tags))
    elif want.kind == "http" and (have.routes != want.routes or have.cors != want.cors
                                  or have.authorizers != want.authorizers):
        old = {r.key: r for r in have.routes}
        new = {r.key: r for r in want.routes}
        # a route's AuthorizationType follows its authorizer's kind: made anew when it changes
        kinds = {x.name: x.kind for x in have.authorizers}
        retyped = {x.name for x in want.authorizers if kinds.get(x.name, x.kind) != x.kind}
        remove = tuple(k for k, r in old.items() if new.get(k) != r or r.authorizer in retyped)
        add = tuple(r for k, r in new.items() if old.get(k) != r or r.authorizer in retyped)
        changes = "; ".join(x for x in (pc.route_changes(have.routes, want.routes),
                                         pc.cors_changes(have.cors, want.cors),
                                         authorizer_changes(have.authorizers,
                                                            want.authorizers)) if x)
        out.append(st.UpdateHttpApi(have.id, want, remove, add, changes=changes))
    elif want.kind == "rest" and (have.routes != want.routes
                                  or have.authorizers != want.authorizers):
        out.append(st.PutRestRoutes(have.id, want, d.stage, "; ".join(
            x for x in (pc.route_changes(have.routes, want.routes),
                        authorizer_changes(have.authorizers, want.authorizers)) if x)))
    elif want.kind == "rest" and have.tracing != want.tracing:
        out.append(st.SetApiTracing(have.id, d.stage, want.tracing))
    return out


def _permissions(d: s.Desired, a: ActualState) -> list[st.Step]:
    out: list[st.Step] = []
    new_api = any(isinstance(x, st.CreateApi) for x in _api(d, a))
    for f in d.functions:
        cur = a.functions.get(f.name)
        have = cur.permissions if cur else frozenset()
        want = [p for p in d.permissions if p.function == f.name]
        for p in want:
            if p.sid in have and new_api and p.sid in ("aloft-api", AUTHORIZER_SID):
                out.append(st.RemovePermission(p.sid, f.physical, d.stage))
                out.append(st.AddPermission(p, f.physical, d.stage))
            elif p.sid not in have:
                out.append(st.AddPermission(p, f.physical, d.stage))
        for sid in sorted(have - {p.sid for p in want}):
            if sid.startswith("aloft-"):
                out.append(st.RemovePermission(sid, f.physical, d.stage))
    return out


def _triggers(d: s.Desired, a: ActualState) -> list[st.Step]:
    out: list[st.Step] = []
    physical = {f.name: f for f in d.functions}
    for r in d.rules:
        if a.rules.get(r.name) != r:
            out.append(st.PutRule(r, _alias_arn(d, physical[r.function]), r.name in a.rules,
                                  d.tags))
    for name, rule in a.rules.items():
        if name not in {r.name for r in d.rules}:
            out.append(st.DeleteRule(name, rule.bus))
    have = {(m.spec.function, m.spec.source_arn): m for m in a.mappings}
    for m in d.mappings:
        cur = have.pop((m.function, m.source_arn), None)
        if cur is None:
            out.append(st.CreateEventSourceMapping(m, _alias_arn(d, physical[m.function])))
        elif cur.spec != m:
            out.append(st.UpdateEventSourceMapping(cur.uuid, m))
    # Lambda keeps the mappings of a deleted function: delete them explicitly.
    out += [st.DeleteEventSourceMapping(cur.uuid) for cur in have.values()]
    subs = {(x.spec.function, x.spec.topic_arn): x for x in a.subscriptions}
    for sub in d.subscriptions:
        cur_sub = subs.pop((sub.function, sub.topic_arn), None)
        if cur_sub is None:
            out.append(st.Subscribe(sub, _alias_arn(d, physical[sub.function])))
        elif cur_sub.spec.filter_policy != sub.filter_policy:
            out.append(st.SetSubscriptionFilter(cur_sub.arn, sub.filter_policy))
    out += [st.Unsubscribe(x.arn) for x in subs.values()]
    want_notes = dict(d.notifications)
    for bucket in dict.fromkeys(list(want_notes) + list(a.notifications)):
        specs = want_notes.get(bucket, ())
        if tuple(a.notifications.get(bucket, ())) != specs:
            out.append(st.PutBucketNotifications(
                bucket, tuple((n, _alias_arn(d, physical[n.function])) for n in specs)))
    return out


def _albs(d: s.Desired, a: ActualState) -> list[st.Step]:
    """`alb` events: after the permissions (a target is registered only once its function
    may be invoked by the load balancer)."""
    out: list[st.Step] = []
    physical = {f.name: f for f in d.functions}
    for x in d.albs:
        cur, alias = a.albs.get(x.name), _alias_arn(d, physical[x.function])
        if cur is None:
            out.append(st.CreateAlbTarget(x, alias, d.tags))
        elif cur.fingerprint != albs.fingerprint(x) or cur.rule_arn is None:
            out.append(st.UpdateAlbTarget(x, cur.arn, cur.rule_arn, alias))
    out += [st.DeleteAlbTarget(name, cur.arn, cur.rule_arn) for name, cur in a.albs.items()
            if name not in {x.name for x in d.albs}]
    return out


def _removals(d: s.Desired, a: ActualState) -> list[st.Step]:
    """What the stage had and the config no longer declares."""
    out: list[st.Step] = []
    keep = {f.name for f in d.functions}
    for name, cur in a.functions.items():
        if name not in keep:
            out.append(st.DeleteFunction(cur.physical))
            log = f"/aws/lambda/{cur.physical}"
            if log in a.log_groups:
                out.append(st.DeleteLogGroup(log))
    r = d.resources
    out += [st.DeleteBucket(b.name) for b in a.resources.buckets
            if b.name not in {x.name for x in r.buckets}]
    out += [st.DeleteQueue(q.name) for q in a.resources.queues
            if q.name not in {x.name for x in r.queues}]
    out += [st.DeleteTopic(_topic_arn(d, t.name)) for t in a.resources.topics
            if t.name not in {x.name for x in r.topics}]
    out += [st.DeleteTable(t.name) for t in a.resources.tables
            if t.name not in {x.name for x in r.tables}]
    out += [st.DeleteParameter(p.name) for p in a.resources.parameters
            if p.name not in {x.name for x in r.parameters}]
    if a.static_bucket is not None and a.static_bucket != (d.static.bucket if d.static else None):
        out.append(st.DeleteBucket(a.static_bucket))
    # roles no function uses any more (after the functions moved to their new ones)
    out += [st.DeleteRole(name, "aloft") for name in a.roles
            if name not in {x.name for x in d.roles}]
    return out


def _topic_arn(d: s.Desired, name: str) -> str:
    return d.arn("sns", name)


def _trigger_removals(a: ActualState) -> list[st.Step]:
    """Whatever invokes the stage's functions besides its API (undeploy)."""
    out: list[st.Step] = [st.DeleteAlbTarget(name, cur.arn, cur.rule_arn)
                          for name, cur in a.albs.items()]
    out += [st.DeleteRule(name, rule.bus) for name, rule in a.rules.items()]
    out += [st.DeleteEventSourceMapping(m.uuid) for m in a.mappings]
    out += [st.Unsubscribe(x.arn) for x in a.subscriptions]
    out += [st.PutBucketNotifications(b, ()) for b in a.notifications]
    return out


def plan_undeploy(desired: s.Desired, actual: ActualState) -> list[st.Step]:
    """Delete everything the stage created: triggers first, then functions, then the rest."""
    a = actual
    out: list[st.Step] = []
    if a.record.cdn:
        have = a.record.cdn
        out.append(st.DeleteDistribution(have["id"], have.get("oac", ""),
                                         a.static_bucket or ""))
    if desired.domain and a.api is not None:
        out.append(st.DeleteDomainName(desired.domain))
    if a.usage_plan is not None:
        out.append(st.DeleteUsagePlan(a.usage_plan.id, a.usage_plan.key_ids))
    if a.api is not None:
        out.append(st.DeleteApi(a.api.id, a.api.kind))
    if a.static_bucket is not None:
        out.append(st.DeleteBucket(a.static_bucket))
    out += _trigger_removals(a)
    for cur in a.functions.values():
        out.append(st.DeleteFunction(cur.physical))
    names = {f.physical for f in a.functions.values()} | {
        f.physical for f in desired.functions}
    out += [st.DeleteLogGroup(g) for g in a.log_groups if g.removeprefix("/aws/lambda/") in names]
    out += [st.DeleteLayerVersion(arn) for arn, _ in a.layers]
    out += [st.DeleteRole(name, "aloft") for name in a.roles]
    out += [st.DeleteBucket(b.name) for b in a.resources.buckets]
    # Queues with a redrive policy before their dead-letter queues.
    out += [st.DeleteQueue(q.name) for q in sorted(a.resources.queues,
                                                     key=lambda q: q.dead_letter is None)]
    out += [st.DeleteTopic(_topic_arn(desired, t.name)) for t in a.resources.topics]
    out += [st.DeleteTable(t.name) for t in a.resources.tables]
    out += [st.DeleteParameter(p.name) for p in a.resources.parameters
            if p.name in a.record.parameters.values()
            or p.name in {x.name for x in desired.resources.parameters if x.value is not None}]
    if a.bucket_exists:
        if desired.create_bucket:
            out.append(st.DeleteBucket(desired.bucket))
        else:
            out.append(st.DeleteObjects(desired.bucket, f"aloft/{desired.service}/"
                                                        f"{desired.stage}/"))
    return out


def describe(steps: list[st.Step]) -> list[dict[str, Any]]:
    return [x.to_dict() for x in steps]
