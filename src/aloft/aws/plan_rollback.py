"""Planning a rollback: the steps that make a stage serve an earlier release again (its
function versions, API routes and schedule rules). Pure, like plan.py."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.desired import rule_permission
from aloft.aws.record import Release
from aloft.aws.state import ActualApi, ActualState


def plan_rollback(desired: s.Desired, actual: ActualState, target: Release,
                  now: float) -> tuple[list[st.Step], list[str]]:
    """(steps, notes) that make the stage serve `target` again: its function versions, its
    API routes and its schedule rules, recorded as a new release that repeats it. A rule the
    user disabled with `aloft unschedule` (disabled now, enabled in the current release) stays
    disabled; a rule or route of a function the stage no longer has cannot come back (a note
    says so). HTTP API routes come back before anything is deleted (a REST API's are rebuilt
    with the deletions), so a failure before the deletions leaves the stage as it was."""
    d, a = desired, actual
    out: list[st.Step] = []
    notes: list[str] = []
    for name, version in target.functions.items():
        cur = a.functions.get(name)
        if cur is not None and cur.alias_version != version:
            out.append(st.UpdateAlias(name, cur.physical, d.stage, version, cur.alias_version))
    route_adds, route_deletes = _rollback_routes(d, a, target, notes)
    out += route_adds
    record_rules = a.record.rules
    if target.rules is None:
        notes.append(f"release {target.number} was made before aloft recorded schedules per "
                     "release: the stage's schedule rules were left as they are")
    else:
        current = a.record.current
        declared = ({r.name: r.enabled for r in current.rules}
                    if current is not None and current.rules is not None else {})
        kept: list[str] = []
        for rule in target.rules:
            fn = a.functions.get(rule.function)
            if fn is None:
                notes.append(f"schedule {rule.name} of release {target.number} was not put "
                             f"back: function {rule.function} is no longer deployed")
                continue
            have = a.rules.get(rule.name)
            want = rule
            if have is not None and not have.enabled and declared.get(rule.name, True):
                want = dataclasses.replace(rule, enabled=False)  # the user's unschedule
            perm = rule_permission(rule, d.arn("events", "rule/" + "/".join(
                filter(None, (rule.bus_name, rule.name)))))
            if perm.sid not in fn.permissions:
                out.append(st.AddPermission(perm, fn.physical, d.stage))
            if have != want:
                out.append(st.PutRule(want, d.alias_arn(fn.physical), have is not None,
                                      d.tags))
            kept.append(rule.name)
        for name, have in a.rules.items():
            if name in kept:
                continue
            out.append(st.DeleteRule(name, have.bus))
            fn = a.functions.get(have.function)
            sid = rule_permission(have, "").sid
            if fn is not None and sid in fn.permissions:
                out.append(st.RemovePermission(sid, fn.physical, d.stage))
        record_rules = tuple(kept)
    out += route_deletes
    last = a.record.current
    release = Release((last.number if last else 0) + 1, dict(target.functions),
                      target.code_sha256, now, target.rules, target.routes)
    record = dataclasses.replace(a.record, rules=record_rules,
                                 releases=(*a.record.releases, release))
    out.append(st.WriteState(d.bucket, d.state_key, record.to_json(), False))
    return out, notes


def _rollback_routes(d: s.Desired, a: ActualState, target: Release,
                     notes: list[str]) -> tuple[list[st.Step], list[st.Step]]:
    """(adds, deletes) that give the API `target`'s routes. Adds: the `aloft-api`
    permission of a function that gets a route back, and (HTTP API) the routes the API lacks.
    Deletes: the routes `target` did not have, the re-pointed ones (deleted, then created), the
    integrations no route uses any more, and the permission of a function left without a
    route; a REST API gets all of `target`'s routes (and a deployment of the stage) in one
    step, there. The static files' routes follow the current config, like the files."""
    api = _target_api(a.api, target, notes)
    if api is None:
        return [], []
    change = _RouteChange.of(api, a, target, notes)
    if not (change.add or change.repoint or change.remove):
        return [], []
    spec = s.ApiSpec(api.kind, d.api.name if d.api else api.id, tuple(change.want.values()),
                     api.cors, tracing=api.tracing, authorizers=api.authorizers)
    adds = _route_permissions(d, a, api, (*change.add, *change.repoint))
    deletes: list[st.Step] = []
    if api.kind == "rest":
        # Like deploy: the REST API's routes are rebuilt whole and the stage redeployed. It
        # removes routes, so it goes with the deletions.
        deletes.append(st.PutRestRoutes(api.id, spec, d.stage))
    elif change.add:
        adds.append(st.UpdateHttpApi(api.id, spec, (), change.add, keep_cors=True))
    if api.kind == "http" and (change.repoint or change.remove):
        deletes.append(st.UpdateHttpApi(
            api.id, spec, (*change.remove, *(r.key for r in change.repoint)), change.repoint,
            keep_cors=True))
    return adds, deletes + change.unrouted(d, a)


def _target_api(api: ActualApi | None, target: Release, notes: list[str]) -> ActualApi | None:
    """The API whose routes become `target`'s, or None (a note says why) when they cannot."""
    if target.routes is None:
        if api is not None:
            kind = "REST" if api.kind == "rest" else "HTTP"
            notes.append(f"release {target.number} has no recorded routes (made before aloft "
                         f"recorded {kind} API routes per release): the {kind} API's routes "
                         "were left as they are")
        return None
    # A release of an HTTP API (`$default`, or payload 2.0 events) cannot be served by the
    # REST API a stage switched to since.
    if api is None or (api.kind == "rest" and any(r.key == "$default" or r.payload != "1.0"
                                                  for r in target.routes)):
        if target.routes:
            now = "has a REST API now, not an HTTP API" if api else "has no API now"
            notes.append(f"the routes of release {target.number} were not put back: the stage "
                         f"{now}")
        return None
    return api


@dataclass(frozen=True)
class _RouteChange:
    """The routes `target` had against the API's: to add, to re-point, to remove."""

    have: dict[str, s.RouteSpec]
    static: set[str]  # the static files' route keys
    want: dict[str, s.RouteSpec]
    add: tuple[s.RouteSpec, ...]
    repoint: tuple[s.RouteSpec, ...]
    remove: tuple[str, ...]

    @classmethod
    def of(cls, api: ActualApi, a: ActualState, target: Release,
           notes: list[str]) -> _RouteChange:
        have = {r.key: r for r in api.routes}
        routes = target.routes or ()
        static = {r.key for r in (*api.routes, *routes) if r.function == s.STATIC_ROUTE}
        want: dict[str, s.RouteSpec] = {}
        authorizers = {x.name for x in api.authorizers}
        for r in routes:
            if r.key in static:
                continue
            if r.function not in a.functions:
                notes.append(f"route {r.key} of release {target.number} was not put back: "
                             f"function {r.function} is no longer deployed")
                continue
            if r.authorizer is not None and r.authorizer not in authorizers:
                notes.append(f"route {r.key} of release {target.number} was left as it is: "
                             f"the API no longer has its authorizer {r.authorizer!r} (deploy "
                             "a config that names it to bring it back)")
                if r.key in have:
                    want[r.key] = have[r.key]
                continue
            want[r.key] = r
        return cls(have, static, want,
                   add=tuple(r for k, r in want.items() if k not in have),
                   repoint=tuple(r for k, r in want.items() if k in have and have[k] != r),
                   remove=tuple(k for k in have if k not in static and k not in want))

    def unrouted(self, d: s.Desired, a: ActualState) -> list[st.Step]:
        """The `aloft-api` permission of each function the change leaves without a route."""
        routed = {r.function for r in self.want.values()} | {
            self.have[k].function for k in self.static if k in self.have}
        left = (*self.remove, *(r.key for r in self.repoint))
        out: list[st.Step] = []
        for name in dict.fromkeys(self.have[k].function for k in left):
            cur = a.functions.get(name)
            if name not in routed and cur is not None and "aloft-api" in cur.permissions:
                out.append(st.RemovePermission("aloft-api", cur.physical, d.stage))
        return out


def _route_permissions(d: s.Desired, a: ActualState, api: ActualApi,
                       routes: tuple[s.RouteSpec, ...]) -> list[st.Step]:
    """The `aloft-api` permission of each function that gets a route back and lacks it."""
    source = d.arn("execute-api", f"{api.id}/*")
    out: list[st.Step] = []
    for name in dict.fromkeys(r.function for r in routes):
        fn = a.functions[name]
        if "aloft-api" not in fn.permissions:
            perm = s.Permission(name, "aloft-api", "apigateway.amazonaws.com", source)
            out.append(st.AddPermission(perm, fn.physical, d.stage))
    return out
