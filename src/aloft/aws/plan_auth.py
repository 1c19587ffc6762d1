"""Planning the REST API's usage plan and API keys (pure): put when the declared plan, its
keys or the stage it applies to differ from what is read back; deleted when none is declared."""

from __future__ import annotations

import dataclasses

from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.auth import key_matches, plan_matches
from aloft.aws.state import ActualState
from aloft.changes import ARROW


def usage_plan_steps(d: s.Desired, a: ActualState, new_api: bool) -> list[st.Step]:
    """After the API's steps: `new_api` when this plan creates the API (a new id: the plan
    moves to it)."""
    want = d.api.usage_plan if d.api is not None else None
    have = a.usage_plan
    if want is None:
        return [st.DeleteUsagePlan(have.id, have.key_ids)] if have is not None else []
    stages = ((a.api.id, d.stage),) if a.api is not None and not new_api else ()
    if have is None or have.stages != stages or not plan_matches(want, have.spec):
        changes = usage_plan_changes(have.spec if have else None, want)
        return [st.PutUsagePlan(want, d.stage, changes)]
    return []


def _value(v: object) -> str:
    return "none" if v is None or v == () else ", ".join(v) if isinstance(v, tuple) else str(v)


def authorizer_changes(old: tuple[s.AuthorizerSpec, ...],
                       new: tuple[s.AuthorizerSpec, ...]) -> str:
    """`authorizers +users, ~custom (ttl 300 → 60), -old` for `--plan`."""
    a, b = {x.name: x for x in old}, {x.name: x for x in new}
    out = [f"+{n}" for n in b if n not in a]
    for n in b:
        if n in a and a[n] != b[n]:
            what = [f"{f.name.replace('_', ' ')} {_value(x)} {ARROW} {_value(y)}"
                    for f in dataclasses.fields(s.AuthorizerSpec)
                    if (x := getattr(a[n], f.name)) != (y := getattr(b[n], f.name))]
            out.append(f"~{n} ({', '.join(what)})")
    out += [f"-{n}" for n in a if n not in b]
    return "authorizers " + ", ".join(out) if out else ""


def usage_plan_changes(old: s.UsagePlanSpec | None, new: s.UsagePlanSpec) -> str:
    """`throttle 10/20 → 5/5, quota 5000/MONTH → none, keys +shop-prod-a, -shop-prod-b`."""
    if old is None:
        return ""
    out = []
    for label, x, y in (
            ("throttle", (old.rate_limit, old.burst_limit), (new.rate_limit, new.burst_limit)),
            ("quota", (old.quota_limit, old.quota_period, old.quota_offset),
             (new.quota_limit, new.quota_period, new.quota_offset))):
        if x != y:
            show = ["none" if t[0] is None else "/".join(str(v) for v in t) for t in (x, y)]
            out.append(f"{label} {show[0]} {ARROW} {show[1]}")
    have = {k.name: k for k in old.keys}
    keys = [f"+{k.name}" for k in new.keys if k.name not in have]
    keys += [f"~{k.name} (new value)" for k in new.keys
             if k.name in have and not key_matches(k, have[k.name])]
    keys += [f"-{n}" for n in have if n not in {k.name for k in new.keys}]
    if keys:
        out.append("keys " + ", ".join(keys))
    return "; ".join(out)
