"""What an aws update changes, as a person reads it in `aloft deploy --plan` (aloft.changes):
`memory 256 → 512`, `environment +API_URL=***, -DEBUG`, `routes +GET /items, -POST /old`.
Pure."""

from __future__ import annotations

import dataclasses
from typing import Any

from aloft.aws import specs as s
from aloft.changes import ARROW, environment_changes


def _short(value: Any) -> str:
    """A value in a few characters: a layer's or role's ARN by its last part."""
    if value is None or value == "":
        return "none"
    text = str(value)
    if text == s.ref("layer"):
        return "the new dependency layer"
    if text.startswith("arn:"):
        return text.split(":", 6)[-1].split("/")[-1]
    return text


def _items(old: tuple[str, ...], new: tuple[str, ...]) -> str:
    added = [f"+{_short(x)}" for x in new if x not in old]
    removed = [f"-{_short(x)}" for x in old if x not in new]
    return ", ".join(added + removed) or "order changed"


def config_changes(old: s.FunctionConfig, new: s.FunctionConfig) -> str:
    """Each setting of a function that differs, old → new."""
    out = []
    for f in dataclasses.fields(s.FunctionConfig):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a == b:
            continue
        label = f.name.replace("_", " ")
        if f.name == "environment":
            out.append(f"environment {environment_changes(dict(a), dict(b))}")
        elif isinstance(a, tuple):
            out.append(f"{label} {_items(a, b)}")
        else:
            out.append(f"{label} {_short(a)} {ARROW} {_short(b)}")
    return "; ".join(out)


def code_changes(old_sha256: str, new_sha256: str, old_arch: str, new_arch: str) -> str:
    out = []
    if old_sha256 != new_sha256:
        out.append(f"code {old_sha256[:8] or 'none'} {ARROW} {new_sha256[:8]}")
    if old_arch != new_arch:
        out.append(f"architecture {old_arch} {ARROW} {new_arch}")
    return "; ".join(out)


def route_changes(old: tuple[s.RouteSpec, ...], new: tuple[s.RouteSpec, ...]) -> str:
    """`+GET /a, ~POST /b (worker → app), -GET /c`: routes added, changed, removed."""
    a, b = {r.key: r for r in old}, {r.key: r for r in new}
    out = [f"+{k}" for k in b if k not in a]
    for k in b:
        if k in a and a[k] != b[k]:
            was, now = a[k], b[k]
            what = [f"{was.function} {ARROW} {now.function}"] if was.function != now.function \
                else []
            what += [f"{name.replace('_', ' ')} {_short(x)} {ARROW} {_short(y)}"
                     for name in ("payload", "authorizer", "scopes", "api_key")
                     if (x := getattr(was, name)) != (y := getattr(now, name))]
            out.append(f"~{k} ({', '.join(what)})")
    out += [f"-{k}" for k in a if k not in b]
    return "routes " + ", ".join(out) if out else ""


def cors_changes(old: s.CorsSpec | None, new: s.CorsSpec | None) -> str:
    if old == new:
        return ""
    if old is None or new is None:
        return f"cors {'off' if old is None else 'on'} {ARROW} {'on' if old is None else 'off'}"
    diffs = [f"{f.name.replace('_', ' ')} {_short(getattr(old, f.name))} {ARROW} "
             f"{_short(getattr(new, f.name))}" for f in dataclasses.fields(s.CorsSpec)
             if getattr(old, f.name) != getattr(new, f.name)]
    return "cors " + ", ".join(diffs)
