"""What a deploy's health check decides, on every provider (the local cloud and aws read it).

A new version serves only once it initialised and its app answered the health path without a
5xx: a failing new version never replaces a serving one. One exception, the way Zappa deploys:
the *first* deploy of a stage publishes an app that initialised but answers its health path
with a 5xx (a Django project whose database is not migrated yet fails every page until
`aloft manage STAGE migrate`, which needs a deployed version to run in). The deploy says so, in
yellow, with the app's answer. A version that cannot initialise, or whose health request errs
or times out without an HTTP answer, is never published: nothing would run in it.

What is sent is the same on both providers: the app gets an HTTP GET of its health path, the
event API Gateway would send (`health_event`, built by the local gateway's own event builders:
payload 2.0 for HTTP APIs and function URLs, 1.0 for REST APIs); a function with a handler gets
the keep-warm ping (`INIT_PING`), which the runtime answers without calling user code: its
check is that it initialises.

Pure: a provider runs the check its own way and asks `verdict` what the answer means.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

ANSWER_SHOWN = 1500
"""Characters of the app's answer a warning or an error quotes."""
INIT_PING: dict[str, str] = {"aloft": "keep_warm"}
"""What a handler's health check sends: the runtime answers `{"warm": true}` once the
function's code is imported, without calling it (aloft.runtime.sources.envelopes.KeepWarm)."""
USER_AGENT = "aloft-health-check"


class Verdict(Enum):
    HEALTHY = "healthy"  # serves
    PUBLISHED_UNHEALTHY = "published-unhealthy"  # a first deploy's 5xx: serves, with a warning
    FAILED = "failed"  # never serves; what served keeps serving


@dataclass(frozen=True)
class HealthAnswer:
    """What a new version answered its health check's `GET path`: an HTTP status, or None
    when no HTTP answer came (the function raised, crashed or timed out); `text`: the body,
    or the error."""

    function: str  # the logical name (`app`)
    version: int
    path: str
    status: int | None
    text: str = ""


def verdict(answer: HealthAnswer, *, first_deploy: bool) -> Verdict:
    """`first_deploy`: the stage serves nothing yet (no version of any of its functions)."""
    if answer.status is not None and answer.status < 500:
        return Verdict.HEALTHY
    if first_deploy and answer.status is not None:
        return Verdict.PUBLISHED_UNHEALTHY
    return Verdict.FAILED


def _quoted(text: str) -> str:
    text = text.strip()
    if len(text) > ANSWER_SHOWN:
        text = text[:ANSWER_SHOWN] + " …"
    return text or "(an empty body)"


def unhealthy_warning(answer: HealthAnswer, stage: str) -> str:
    """The yellow line of a first deploy published although its app answered a 5xx."""
    return (f"version {answer.version} of {answer.function!r} answered GET {answer.path} with "
            f"{answer.status}: published anyway, as stage {stage}'s first deploy (Zappa's rule: "
            f"e.g. a database not migrated yet; `aloft manage {stage} migrate` runs in it now). "
            f"Later deploys whose health check fails keep the previous version serving. The "
            f"app answered:\n{_quoted(answer.text)}")


def failure_message(answer: HealthAnswer, still: str) -> str:
    """A DeployError's message for a failed health check; `still`: what serves now."""
    got = answer.status if answer.status is not None else "no HTTP answer"
    return (f"version {answer.version} of {answer.function!r} failed its health check (GET "
            f"{answer.path} answered {got}); {still}:\n{_quoted(answer.text)}")


FAILURE_FIX = ("fix the error above, or set `health_path` (or `local.health_path`) to a path "
               "that answers without a 5xx, and deploy again")


def health_event(payload: Literal["1.0", "2.0"], path: str, *, base_path: str = "",
                 stage: str = "$default", host: str = "127.0.0.1",
                 api_id: str = "local") -> dict[str, Any]:
    """A GET of `path` as API Gateway sends it to the function: `base_path` is the part of the
    request's path before the app's (the local cloud's `/{service}/{stage}`, a REST API's
    `/{stage}`), `stage` the API's stage."""
    # The local gateway's builders (standard library only, pure): one definition of API
    # Gateway's events for the gateway, the CLI's events and the health check.
    from aloft.local.instances.worker.event_builders import (
        ForwardedRequest,
        build_http_event,
        build_rest_event,
    )

    base = base_path.rstrip("/")
    path = "/" + path.lstrip("/")
    request = ForwardedRequest("GET", base + path, "", [("host", host),
                                                       ("user-agent", USER_AGENT)], b"",
                               "127.0.0.1")
    rid = "health-check"
    if payload == "1.0":
        return build_rest_event(
            request, resource="/{proxy+}", path=path,
            path_parameters={"proxy": path.lstrip("/")} if path != "/" else None,
            stage=stage, request_id=rid, api_id=api_id)
    return build_http_event(request, route_key="ANY /{proxy+}", path_parameters=None,
                            stage=stage, request_id=rid, api_id=api_id)


def http_status(payload: bytes) -> int | None:
    """The `statusCode` of a proxy integration's response; None when it is not one."""
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("statusCode"), int):
        return int(data["statusCode"])
    return None


def payload_text(payload: bytes) -> str:
    """A function's answer as a person reads it: an error object's trace and `type: message`,
    an HTTP response's body, or the JSON itself (at most 4000 characters)."""
    try:
        data = json.loads(payload)
    except ValueError:
        return payload.decode("utf-8", "replace")[:4000]
    if isinstance(data, dict) and "errorMessage" in data:
        trace = data.get("stackTrace") or []
        lines = [str(x) for x in trace] if isinstance(trace, list) else [str(trace)]
        return "\n".join([*lines, f"{data.get('errorType', 'Error')}: {data['errorMessage']}"])
    if isinstance(data, dict) and "body" in data:
        return str(data["body"])[:4000]
    return json.dumps(data)[:4000]
