"""A Lambda authorizer's answer, read and judged as API Gateway does (pure).

An answer is a simple response (HTTP APIs with `simple_responses`: `{"isAuthorized": bool,
"context": {...}}`) or an IAM policy (`{"principalId", "policyDocument": {"Statement": [...]},
"context"}`). A policy is judged against the request's method ARN every time, cached or not:
an explicit Deny that matches wins, then an Allow that matches; nothing matching is a deny.
An answer of another shape is the authorizer's fault (API Gateway answers 500).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from aloft.stage.records import Authorizer

Decision = Literal["allow", "deny", "implicit_deny"]


class MalformedAnswer(Exception):
    """The authorizer answered something API Gateway cannot read (why, for the log)."""


@dataclass(frozen=True)
class Statement:
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...]
    resources: tuple[str, ...]


@dataclass(frozen=True)
class Answer:
    authorized: bool | None  # a simple response's isAuthorized; None: judged by the policy
    statements: tuple[Statement, ...] = ()
    principal: str | None = None
    context: dict[str, Any] = field(default_factory=dict)


def _strings(value: Any, what: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) for v in items):
        raise MalformedAnswer(f"a policy statement's {what} is not text or a list of text")
    return tuple(items)


def _statements(document: Any) -> tuple[Statement, ...]:
    if not isinstance(document, dict):
        raise MalformedAnswer("policyDocument is not an object")
    found = document.get("Statement")
    items = found if isinstance(found, list) else [found]
    out = []
    for item in items:
        if not isinstance(item, dict) or item.get("Effect") not in ("Allow", "Deny"):
            raise MalformedAnswer("a policy statement needs Effect Allow or Deny")
        out.append(Statement(item["Effect"], _strings(item.get("Action"), "Action"),
                             _strings(item.get("Resource"), "Resource")))
    return tuple(out)


def read_answer(payload: bytes, authorizer: Authorizer) -> Answer:
    """The answer of `authorizer`'s function (its JSON result). MalformedAnswer otherwise."""
    try:
        data = json.loads(payload)
    except ValueError:
        raise MalformedAnswer("the answer is not JSON") from None
    if not isinstance(data, dict):
        raise MalformedAnswer("the answer is not an object")
    context = data.get("context")
    if context is not None and not isinstance(context, dict):
        raise MalformedAnswer("context is not an object")
    if authorizer.simple_responses:
        allowed = data.get("isAuthorized")
        if not isinstance(allowed, bool):
            raise MalformedAnswer("a simple response needs isAuthorized true or false")
        return Answer(allowed, context=dict(context or {}))
    principal = data.get("principalId")
    if authorizer.payload == "1.0" and not isinstance(principal, str):
        raise MalformedAnswer("the answer has no principalId")
    if "policyDocument" not in data:
        raise MalformedAnswer("the answer has no policyDocument")
    if authorizer.payload == "1.0":  # REST APIs take text, numbers and booleans only
        for key, value in (context or {}).items():
            if isinstance(value, dict | list):
                raise MalformedAnswer(f"context value {key!r} is not text, a number or a "
                                      "boolean")
    return Answer(None, _statements(data["policyDocument"]),
                  principal if isinstance(principal, str) else None, dict(context or {}))


@lru_cache(maxsize=1024)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _matches(globs: tuple[str, ...], value: str, ignore_case: bool = False) -> bool:
    return any(_pattern(g, ignore_case).fullmatch(value) for g in globs)


def judge(answer: Answer, arn: str) -> Decision:
    """Whether `answer` lets the request whose method ARN is `arn` through."""
    if answer.authorized is not None:
        return "allow" if answer.authorized else "deny"
    allowed = False
    for s in answer.statements:
        if _matches(s.actions, "execute-api:Invoke", ignore_case=True) \
                and _matches(s.resources, arn):
            if s.effect == "Deny":
                return "deny"
            allowed = True
    return "allow" if allowed else "implicit_deny"


def integration_context(answer: Answer, payload: str, latency_ms: int) -> dict[str, Any]:
    """`requestContext.authorizer` of the integration's event: HTTP APIs' payload 2.0 nests
    the context under `lambda`; REST APIs (1.0) flatten it beside the principal."""
    if payload == "2.0":
        inner = dict(answer.context)
        if answer.principal is not None:
            inner.setdefault("principalId", answer.principal)
        return {"lambda": inner}
    out: dict[str, Any] = {"principalId": answer.principal, **answer.context}
    out["integrationLatency"] = latency_ms
    return out
