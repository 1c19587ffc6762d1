"""What a route needs before its function runs, checked as API Gateway checks it: its
authorizer (JWT, or a Lambda authorizer invoked with the authorizer event, its answers cached
per identity for the authorizer's ttl), then its API key and usage plan.

API Gateway's answers: no identity source → 401 without invoking the authorizer; an
authorizer's deny → 403; an authorizer that fails, or answers what cannot be read → 500
(`raise Exception("Unauthorized")` → 401, as on Lambda); JWT: 401 for a token that fails a
check, 403 without the route's scope (with `WWW-Authenticate`); API keys: 403 without a valid
`x-api-key`, 429 past the plan's rate or quota. HTTP APIs and REST APIs word them differently;
the stage's `aws.api` says which.

Only stages with such a route pay for any of this: the gateway's hot path reads one flag.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aloft.local.http.api_keys import KeyMeter
from aloft.local.http.authorizer_answers import (
    Answer,
    MalformedAnswer,
    integration_context,
    judge,
    read_answer,
)
from aloft.local.http.authorizer_events import (
    cache_key,
    identity_values,
    request_event,
    route_arn,
    token_event,
)
from aloft.local.http.jwks import KeyCache, KeysUnavailable
from aloft.local.http.jwt_check import JwtRejected, claims_context, parse, verify
from aloft.local.http.routing import route_key
from aloft.local.types import (
    FunctionVersion,
    HttpRequest,
    HttpResponse,
    InvokeResult,
    Registry,
    Route,
    StageRoutes,
)
from aloft.stage.records import Authorizer

CACHE_LIMIT = 10_000  # cached answers per stage; the oldest half goes past it


class Invoker(Protocol):
    async def invoke(self, fv: FunctionVersion, event: bytes, *,
                     request_id: str | None = None) -> InvokeResult: ...


@dataclass(frozen=True)
class Passed:
    """The request may go on: what the integration's event carries of the checks."""

    authorizer: dict[str, Any] | None = None  # requestContext.authorizer
    api_key: tuple[str, str] | None = None  # (the key, its id): REST's identity.apiKey(Id)


@dataclass(frozen=True)
class Refused:
    """API Gateway's own answer, and why (for the function's log)."""

    response: HttpResponse
    reason: str


def _json(status: int, body: Any, *headers: tuple[str, str]) -> HttpResponse:
    return HttpResponse(status, [("content-type", "application/json"), *headers],
                        json.dumps(body).encode())


class Answers:
    """API Gateway's answers, in the words of the stage's API kind."""

    def __init__(self, api: str) -> None:
        self.rest = api == "rest"

    def _typed(self, status: int, body: Any, error_type: str,
               *headers: tuple[str, str]) -> HttpResponse:
        extra = (("x-amzn-errortype", error_type),) if self.rest else ()
        return _json(status, body, *extra, *headers)

    def unauthorized(self, *headers: tuple[str, str]) -> HttpResponse:
        return self._typed(401, {"message": "Unauthorized"}, "UnauthorizedException", *headers)

    def denied(self, explicit: bool) -> HttpResponse:
        if not self.rest:
            return _json(403, {"message": "Forbidden"})
        text = "User is not authorized to access this resource" + (
            " with an explicit deny" if explicit else "")
        return self._typed(403, {"Message": text}, "AccessDeniedException")

    def forbidden(self, *headers: tuple[str, str]) -> HttpResponse:
        return self._typed(403, {"message": "Forbidden"}, "ForbiddenException", *headers)

    def failed(self) -> HttpResponse:
        if self.rest:
            return self._typed(500, {"message": None}, "AuthorizerConfigurationException")
        return _json(500, {"message": "Internal Server Error"})

    def too_many(self, quota: bool) -> HttpResponse:
        text = "Limit Exceeded" if quota else "Too Many Requests"
        return self._typed(429, {"message": text}, "LimitExceededException" if quota
                           else "TooManyRequestsException")


class _StageState:
    """One deployed StageRoutes' caches: authorizer answers and API key usage."""

    def __init__(self, stage: StageRoutes, clock: Callable[[], float]) -> None:
        self.stage = stage
        auth = stage.api_auth
        self.answers_of = Answers(auth.api if auth else "http")
        self.cache: dict[tuple[str, ...], tuple[float, Answer]] = {}
        self.meter = KeyMeter(stage.api_key_values, auth.usage_plan if auth else None, clock)


class Guard:
    def __init__(self, registry: Registry, invoker: Invoker, *, api_id: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.registry = registry
        self.invoker = invoker
        self.api_id = api_id
        self.clock = clock
        self.keys = KeyCache()
        self._stages: dict[int, _StageState] = {}

    def _state(self, stage: StageRoutes) -> _StageState:
        # Keyed by identity: a deploy swaps the whole StageRoutes, and with it the caches.
        found = self._stages.get(id(stage))
        if found is not None and found.stage is stage:
            return found
        if len(self._stages) > 64:
            self._stages.clear()
        found = self._stages[id(stage)] = _StageState(stage, self.clock)
        return found

    async def check(self, request: HttpRequest, stage: StageRoutes, route: Route,
                    params: dict[str, str] | None, rest: str, request_id: str,
                    payload: str) -> Passed | Refused:
        """Whether the request to `route` (matched with `params`; `rest`: the path within the
        stage) may reach its function, whose event has `payload`'s format."""
        needs = route.auth
        if needs is None:
            return Passed()
        state = self._state(stage)
        context: dict[str, Any] | None = None
        if needs.authorizer is not None and stage.api_auth is not None:
            authorizer = stage.api_auth.authorizer(needs.authorizer)
            arn = route_arn(self.api_id, stage.stage, request.method, rest)
            if authorizer.kind == "jwt":
                found = await self._jwt(authorizer, request, needs.scopes, payload, state)
            else:
                found = await self._lambda(authorizer, request, route, params, rest, request_id,
                                           arn, payload, stage, state)
            if isinstance(found, Refused):
                return found
            context = found
        api_key = None
        if needs.api_key:
            value = request.header("x-api-key")
            verdict, name = state.meter.admit(value)
            answers = state.answers_of
            if verdict == "forbidden":
                why = "no x-api-key header" if value is None else "an unknown API key"
                return Refused(answers.forbidden(), f"API key: {why}: answered 403")
            if verdict != "ok":
                return Refused(answers.too_many(verdict == "quota"),
                               f"API key {name!r}: over the usage plan's "
                               f"{'quota' if verdict == 'quota' else 'rate'}: answered 429")
            assert value is not None and name is not None
            api_key = (value, name)
        return Passed(context, api_key)

    async def _jwt(self, authorizer: Authorizer, request: HttpRequest, scopes: tuple[str, ...],
                   payload: str, state: _StageState) -> dict[str, Any] | Refused:
        answers = state.answers_of
        found = identity_values(request, authorizer.identity, {})
        if found is None:
            return Refused(answers.unauthorized(), f"authorizer {authorizer.name!r}: no "
                           "identity source in the request: answered 401")
        token = found[0]
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        assert authorizer.issuer is not None
        try:
            kid = parse(token).header.get("kid")
            keys = await self.keys.keys(authorizer.jwks, authorizer.issuer,
                                        kid if isinstance(kid, str) else None)
            claims = verify(token, keys, issuer=authorizer.issuer,
                            audience=authorizer.audience, scopes=scopes, now=self.clock())
        except JwtRejected as exc:
            header = ("www-authenticate", exc.www_authenticate)
            response = answers.forbidden(header) if exc.scope else answers.unauthorized(header)
            return Refused(response, f"authorizer {authorizer.name!r}: {exc.description}: "
                           f"answered {exc.status}")
        except KeysUnavailable as exc:
            return Refused(answers.unauthorized(), f"authorizer {authorizer.name!r}: the "
                           f"issuer's keys cannot be read ({exc}): answered 401")
        context = claims_context(claims)
        return {"jwt": context} if payload == "2.0" else context

    async def _lambda(self, authorizer: Authorizer, request: HttpRequest, route: Route,
                      params: dict[str, str] | None, rest: str, request_id: str, arn: str,
                      payload: str, stage: StageRoutes, state: _StageState
                      ) -> dict[str, Any] | Refused:
        answers = state.answers_of
        name = f"authorizer {authorizer.name!r}"
        identity = identity_values(request, authorizer.identity, {
            "requestId": request_id, "httpMethod": request.method, "stage": stage.stage,
            "identity.sourceIp": request.client, "path": request.path})
        if identity is None:
            return Refused(answers.unauthorized(), f"{name}: no identity source in the "
                           "request: answered 401")
        if authorizer.kind == "token" and authorizer.validation is not None \
                and re.fullmatch(authorizer.validation, identity[0]) is None:
            return Refused(answers.unauthorized(), f"{name}: the token does not match the "
                           "authorizer's validation: answered 401")
        key = cache_key(authorizer, identity)
        now = self.clock()
        started = time.perf_counter()
        cached = state.cache.get(key) if key is not None else None
        if cached is not None and cached[0] > now:
            answer = cached[1]
        else:
            got = await self._ask(authorizer, request, route, params, rest, request_id, arn,
                                  stage, identity, state)
            if isinstance(got, Refused):
                return got
            answer = got
            if key is not None:
                if len(state.cache) >= CACHE_LIMIT:
                    for old in list(state.cache)[: CACHE_LIMIT // 2]:
                        del state.cache[old]
                state.cache[key] = (now + authorizer.ttl, answer)
        decision = judge(answer, arn)
        if decision != "allow":
            return Refused(answers.denied(decision == "deny"),
                           f"{name}: the answer denies {arn}: answered 403")
        latency = int((time.perf_counter() - started) * 1000)
        return integration_context(answer, payload, latency)

    async def _ask(self, authorizer: Authorizer, request: HttpRequest, route: Route,
                   params: dict[str, str] | None, rest: str, request_id: str, arn: str,
                   stage: StageRoutes, identity: tuple[str, ...], state: _StageState
                   ) -> Answer | Refused:
        """Invoke the authorizer function with its event and read its answer."""
        answers, name = state.answers_of, f"authorizer {authorizer.name!r}"
        assert authorizer.physical is not None
        fv = self.registry.current(authorizer.physical)
        if fv is None:
            return Refused(answers.failed(), f"{name}: its function {authorizer.function!r} "
                           "has no deployed version: answered 500")
        if authorizer.kind == "token":
            event = token_event(identity[0], arn)
        else:
            event = request_event(
                authorizer, request, route_path=route.path, route_key=route_key(route),
                path=rest, path_parameters=params, stage=stage.stage, request_id=request_id,
                api_id=self.api_id, arn=arn, identity=identity)
        result = await self.invoker.invoke(fv, json.dumps(event).encode())
        if result.status != "ok":
            message = _error_message(result.payload)
            if message == "Unauthorized":  # Lambda authorizers' way to say 401
                return Refused(answers.unauthorized(), f"{name}: Unauthorized: answered 401")
            return Refused(answers.failed(), f"{name}: the function failed ({message}): "
                           "answered 500")
        try:
            return read_answer(result.payload, authorizer)
        except MalformedAnswer as exc:
            return Refused(answers.failed(), f"{name}: {exc}: answered 500")


def _error_message(payload: bytes) -> str:
    try:
        data = json.loads(payload)
    except ValueError:
        return payload.decode(errors="replace")[:200]
    return str(data.get("errorMessage", "")) if isinstance(data, dict) else str(data)
