"""serverless.yml's authorizers and API keys as aloft's `authorizers`, a route's `authorizer`
and `private`, `api_keys` and `usage_plan`.

HTTP APIs declare their authorizers in `provider.httpApi.authorizers` (JWT: `issuerUrl`,
`audience`; Lambda: `functionName`, `enableSimpleResponses`, `payloadVersion`) and an `httpApi`
event names one (`authorizer: {name, scopes}`). REST APIs declare them on the `http` event
itself (`authorizer: fn` is a TOKEN authorizer of the function `fn`; or `{name, type,
identitySource, resultTtlInSeconds, identityValidationExpression}`); aloft gathers them into
`authorizers`. `provider.apiGateway.apiKeys` and `usagePlan` become `api_keys` and `usage_plan`.
IAM, Cognito and authorizers in other services (an `arn`) are warned and left out.
"""

from __future__ import annotations

from typing import Any

from aloft.config.builder import Builder, items
from aloft.config.source import KeyPath

_FOREIGN = ("aloft runs only authorizers that are functions of the service or JWT issuers; "
            "this route is deployed without it")


def _sources(value: Any) -> list[str]:
    texts = value if isinstance(value, list) else str(value).split(",")
    return [str(t).strip() for t in texts if str(t).strip()]


def http_api_authorizers(out: Builder, value: Any, at: KeyPath) -> None:
    """provider.httpApi.authorizers."""
    for name, spec in (value if isinstance(value, dict) else {}).items():
        here = (*at, name)
        if not isinstance(spec, dict):
            out.warn(here, "an authorizer is a mapping; ignored")
            continue
        kind = str(spec.get("type") or ("jwt" if "issuerUrl" in spec else "request")).lower()
        converted: dict[str, Any]
        if kind == "jwt":
            converted = {"type": "jwt", "issuer": spec.get("issuerUrl"),
                         "audience": spec.get("audience") or []}
        elif "functionName" in spec:
            converted = {"type": "request", "function": spec["functionName"]}
            if "enableSimpleResponses" in spec:
                converted["simple_responses"] = bool(spec["enableSimpleResponses"])
            if "payloadVersion" in spec:
                converted["payload"] = str(spec["payloadVersion"])
            if "resultTtlInSeconds" in spec:
                converted["ttl"] = spec["resultTtlInSeconds"]
            if "identitySource" not in spec:  # the Serverless Framework's: no cache key
                converted["identity_source"], converted["ttl"] = [], 0
        else:
            out.warn(here, f"authorizer {name!r}: {_FOREIGN}")
            continue
        if "identitySource" in spec:
            converted["identity_source"] = _sources(spec["identitySource"])
        for key in spec:
            if key not in ("type", "issuerUrl", "audience", "functionName", "identitySource",
                           "enableSimpleResponses", "payloadVersion", "resultTtlInSeconds",
                           "name"):
                out.warn((*here, key), "not supported by aloft; ignored")
        out.put(("authorizers", name), converted, here)


def http_api_route(out: Builder, value: Any, at: KeyPath) -> Any:
    """An httpApi event's `authorizer`: aloft's route `authorizer`, or None (warned)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "name" in value:
        scopes = value.get("scopes")
        return {"name": value["name"], **({"scopes": scopes} if scopes else {})}
    out.warn(at, _FOREIGN)
    return None


def rest_route(out: Builder, value: Any, at: KeyPath,
               gathered: dict[str, tuple[dict[str, Any], KeyPath]]) -> str | None:
    """An http event's `authorizer`: its name (the authorizer goes into `gathered`), or None
    for one aloft cannot run (warned)."""
    if isinstance(value, str):
        if value.startswith("arn:") or value.lower() == "aws_iam":
            out.warn(at, _FOREIGN)
            return None
        gathered.setdefault(value, ({"type": "token", "function": value}, at))
        return value
    if not isinstance(value, dict):
        out.warn(at, "an authorizer is a function name or a mapping; ignored")
        return None
    kind = str(value.get("type") or "token").lower()
    function = value.get("functionName") or (value.get("name") if "arn" not in value else None)
    name = value.get("name") or function
    if kind not in ("token", "request") or not function or not name:
        out.warn(at, _FOREIGN)
        return None
    spec: dict[str, Any] = {"type": kind, "function": function}
    if "identitySource" in value:
        spec["identity_source"] = _sources(value["identitySource"])
    elif kind == "request" and value.get("resultTtlInSeconds") == 0:
        spec["identity_source"] = []
    if "resultTtlInSeconds" in value:
        spec["ttl"] = value["resultTtlInSeconds"]
    if "identityValidationExpression" in value:
        spec["validation"] = value["identityValidationExpression"]
    for key in value:
        if key not in ("name", "type", "functionName", "identitySource", "resultTtlInSeconds",
                       "identityValidationExpression"):
            out.warn((*at, key), "not supported by aloft; ignored")
    gathered.setdefault(str(name), (spec, at))
    return str(name)


def put_gathered(out: Builder, gathered: dict[str, tuple[dict[str, Any], KeyPath]]) -> None:
    for name, (spec, at) in gathered.items():
        out.put(("authorizers", name), spec, at)


def api_keys(out: Builder, value: Any, at: KeyPath) -> None:
    """apiKeys: names, `{name, value, description}`, or keys grouped by usage plan."""
    keys: list[dict[str, Any]] = []
    for i, item in enumerate(items(value)):
        here = (*at, i)
        if isinstance(item, str):
            keys.append({"name": item})
        elif isinstance(item, dict) and "name" in item:
            keys.append({k: item[k] for k in ("name", "value", "description") if k in item})
            for key in item:
                if key not in ("name", "value", "description"):
                    out.warn((*here, key), "not supported by aloft; ignored")
        elif isinstance(item, dict):
            out.warn(here, "aloft has one usage plan: every key is metered by it")
            for grouped in item.values():
                keys += [{"name": k} if isinstance(k, str) else
                         {x: k[x] for x in ("name", "value", "description") if x in k}
                         for k in items(grouped) if isinstance(k, str | dict)]
    out.put(("api_keys",), keys, at)


def usage_plan(out: Builder, value: Any, at: KeyPath) -> None:
    plan = value
    if isinstance(value, list):
        out.warn(at, "aloft has one usage plan: the first is used")
        first = value[0] if value else {}
        plan = next(iter(first.values()), {}) if isinstance(first, dict) else {}
    if not isinstance(plan, dict):
        out.warn(at, "a usage plan is a mapping; ignored")
        return
    converted: dict[str, Any] = {}
    quota = plan.get("quota")
    if isinstance(quota, dict):
        converted["quota"] = {k: quota[k] for k in ("limit", "offset", "period") if k in quota}
    throttle = plan.get("throttle")
    if isinstance(throttle, dict):
        converted["throttle"] = {"rate_limit": throttle.get("rateLimit"),
                                 "burst_limit": throttle.get("burstLimit")}
    out.put(("usage_plan",), converted, at)
