"""The gateway's checks before a function runs (authorizers, API keys), over a scripted pool
whose authorizer function answers what a test sets: API Gateway's status codes, the
authorizer's event and its cache, and what reaches the integration's event."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from aloft.local.http.gateway import Gateway
from aloft.local.instances.awake import Spinner
from aloft.local.instances.worker.event_builders import event_from_packed
from aloft.local.store.metrics import Metrics
from aloft.local.types import FunctionVersion, HttpRequest, HttpResponse, InvokeResult, Route
from aloft.local.types import StageRoutes as Stage
from aloft.stage.records import (
    ApiAuth,
    ApiKey,
    Authorizer,
    IdentitySource,
    RouteAuth,
    UsagePlan,
)
from tests.jwt_tokens import AUDIENCE, ISSUER, SigningKey, claims, jwks
from tests.unit.local.http.test_gateway_core import FakeRegistry, Sink, fv

AUTH = (IdentitySource("header", "Authorization"),)
KEY = "partner-key-0123456789"


class Pool:
    """The app answers 200 with its event; the authorizer `svc-dev-auth` answers `verdict`."""

    def __init__(self) -> None:
        self.log_sink = Sink()
        self.metrics = Metrics()
        self.spinner = Spinner(lambda: 0, spin=0.0)  # never polls
        self.app_events: list[dict[str, Any]] = []
        self.auth_events: list[dict[str, Any]] = []
        self.verdict: tuple[str, Any] = ("ok", {"isAuthorized": True, "context": {"t": "x"}})

    async def invoke(self, fv: FunctionVersion, event: bytes, *, request_id: str | None = None,
                     http: bool = False, trace: str | None = None) -> InvokeResult:
        if fv.function == "svc-dev-auth":
            self.auth_events.append(json.loads(event))
            status, answer = self.verdict
            return InvokeResult("a", status, json.dumps(answer).encode(),  # type: ignore[arg-type]
                                1.0)
        self.app_events.append(event_from_packed(event, request_id or "r"))
        return InvokeResult(request_id or "r", "ok", b'{"statusCode": 200, "body": "ok"}', 1.0)


def gateway(api: str, authorizers: tuple[Authorizer, ...], routes: tuple[Route, ...],
            keys: dict[str, str] | None = None, plan: UsagePlan | None = None
            ) -> tuple[Gateway, Pool]:
    stage = Stage("svc", "dev", routes, api_auth=ApiAuth(
        api, authorizers, tuple(ApiKey(n, v) for n, v in (keys or {}).items()), plan),  # type: ignore[arg-type]
        api_key_values=keys or {})
    versions = {"svc-dev-app": fv("svc-dev-app"), "svc-dev-v1": fv("svc-dev-v1", payload="1.0"),
                "svc-dev-auth": fv("svc-dev-auth")}
    pool = Pool()
    return Gateway(FakeRegistry([stage], versions), pool), pool  # type: ignore[arg-type]


def call(g: Gateway, path: str, headers: dict[str, str] | None = None,
         method: str = "GET") -> HttpResponse:
    request = HttpRequest(method, path, "", [("host", "127.0.0.1"),
                                             *((k.lower(), v) for k, v in
                                               (headers or {}).items())])
    return asyncio.run(g.handle(request))


def body(response: HttpResponse) -> Any:
    return json.loads(response.body)


def header(response: HttpResponse, name: str) -> str | None:
    return next((v for k, v in response.headers if k == name), None)


def lambda_authorizer(**kw: Any) -> Authorizer:
    base: dict[str, Any] = {"name": "custom", "kind": "request", "identity": AUTH, "ttl": 300,
                            "function": "auth", "physical": "svc-dev-auth", "payload": "2.0",
                            "simple_responses": True}
    return Authorizer(**{**base, **kw})


def test_a_stage_without_checks_is_not_guarded() -> None:
    g, pool = gateway("http", (), (Route("GET", "/open", "svc-dev-app"),))
    stage = g.registry.stages()[0]
    assert not stage.guarded and not stage.extras
    assert call(g, "/svc/dev/open").status == 200 and pool.auth_events == []


def test_a_lambda_authorizer_allows_denies_and_caches_per_identity() -> None:
    g, pool = gateway("http", (lambda_authorizer(),), (
        Route("GET", "/notes/{id}", "svc-dev-app", auth=RouteAuth("custom")),
        Route("GET", "/open", "svc-dev-app")))
    assert call(g, "/svc/dev/open").status == 200 and pool.auth_events == []
    missing = call(g, "/svc/dev/notes/1")  # no identity source: 401, nothing invoked
    assert (missing.status, body(missing)) == (401, {"message": "Unauthorized"})
    assert pool.auth_events == [] and pool.app_events[-1]["rawPath"] == "/svc/dev/open"
    assert any("no identity source" in line for line in pool.log_sink.lines)
    ok = call(g, "/svc/dev/notes/1", {"Authorization": "alice"})
    assert ok.status == 200
    event = pool.auth_events[-1]
    assert (event["type"], event["identitySource"], event["routeKey"]) == (
        "REQUEST", ["alice"], "GET /notes/{id}")
    assert event["routeArn"].endswith(":local/dev/GET/notes/1")
    assert pool.app_events[-1]["requestContext"]["authorizer"] == {"lambda": {"t": "x"}}
    call(g, "/svc/dev/notes/2", {"Authorization": "alice"})  # cached for this identity
    assert len(pool.auth_events) == 1
    pool.verdict = ("ok", {"isAuthorized": False})
    denied = call(g, "/svc/dev/notes/1", {"Authorization": "bob"})
    assert (denied.status, body(denied)) == (403, {"message": "Forbidden"})
    assert len(pool.auth_events) == 2
    assert call(g, "/svc/dev/notes/1", {"Authorization": "alice"}).status == 200  # cached yes


def test_without_a_ttl_every_request_asks_and_failures_are_500_or_401() -> None:
    g, pool = gateway("http", (lambda_authorizer(ttl=0),), (
        Route("GET", "/n", "svc-dev-app", auth=RouteAuth("custom")),))
    for _ in range(2):
        assert call(g, "/svc/dev/n", {"Authorization": "a"}).status == 200
    assert len(pool.auth_events) == 2
    pool.verdict = ("error", {"errorMessage": "Unauthorized", "errorType": "Exception"})
    assert call(g, "/svc/dev/n", {"Authorization": "a"}).status == 401
    pool.verdict = ("error", {"errorMessage": "boom", "errorType": "ValueError"})
    failed = call(g, "/svc/dev/n", {"Authorization": "a"})
    assert (failed.status, body(failed)) == (500, {"message": "Internal Server Error"})
    pool.verdict = ("ok", {"allowed": True})
    assert call(g, "/svc/dev/n", {"Authorization": "a"}).status == 500
    assert any("simple response needs isAuthorized" in line for line in pool.log_sink.lines)


def test_rest_token_authorizers_answer_with_policies_and_rest_words() -> None:
    token = lambda_authorizer(kind="token", payload="1.0", simple_responses=False,
                              validation=r"Bearer .+")
    g, pool = gateway("rest", (token,), (
        Route("GET", "/orders/{id}", "svc-dev-v1", auth=RouteAuth("custom")),))
    resource = "arn:aws:execute-api:us-east-1:000000000000:local/dev/GET/orders/*"

    def policy(effect: str) -> dict[str, Any]:
        return {"principalId": "user-81", "context": {"plan": "gold"}, "policyDocument": {
            "Statement": [{"Effect": effect, "Action": "execute-api:Invoke",
                           "Resource": resource}]}}

    pool.verdict = ("ok", policy("Allow"))
    bad = call(g, "/svc/dev/orders/1", {"Authorization": "Basic xyz"})  # fails validation
    assert (bad.status, header(bad, "x-amzn-errortype")) == (401, "UnauthorizedException")
    assert pool.auth_events == []
    assert call(g, "/svc/dev/orders/1", {"Authorization": "Bearer t1"}).status == 200
    assert pool.auth_events[-1] == {
        "type": "TOKEN", "authorizationToken": "Bearer t1",
        "methodArn": "arn:aws:execute-api:us-east-1:000000000000:local/dev/GET/orders/1"}
    context = pool.app_events[-1]["requestContext"]["authorizer"]
    assert (context["principalId"], context["plan"]) == ("user-81", "gold")
    assert isinstance(context["integrationLatency"], int)
    pool.verdict = ("ok", policy("Deny"))
    denied = call(g, "/svc/dev/orders/1", {"Authorization": "Bearer t2"})
    assert denied.status == 403 and header(denied, "x-amzn-errortype") == "AccessDeniedException"
    assert body(denied) == {
        "Message": "User is not authorized to access this resource with an explicit deny"}
    pool.verdict = ("ok", {"principalId": "u"})  # no policy
    failed = call(g, "/svc/dev/orders/1", {"Authorization": "Bearer t3"})
    assert (failed.status, body(failed)) == (500, {"message": None})
    assert header(failed, "x-amzn-errortype") == "AuthorizerConfigurationException"


def test_jwt_authorizers_check_the_token_against_the_issuers_keys(tmp_path: Path) -> None:
    key = SigningKey.rsa()
    (tmp_path / "jwks.json").write_text(json.dumps(jwks(key)))
    users = Authorizer("users", "jwt", AUTH, 0, issuer=ISSUER, audience=(AUDIENCE,),
                       jwks=str(tmp_path / "jwks.json"), payload="2.0")
    g, pool = gateway("http", (users,), (
        Route("POST", "/notes", "svc-dev-app", auth=RouteAuth("users", ("notes:write",))),
        Route("GET", "/notes", "svc-dev-app", auth=RouteAuth("users")),
        Route("GET", "/v1", "svc-dev-v1", auth=RouteAuth("users"))))
    token = key.sign(claims(scope="notes:read"))
    assert call(g, "/svc/dev/notes").status == 401
    ok = call(g, "/svc/dev/notes", {"Authorization": f"Bearer {token}"})
    assert ok.status == 200
    jwt = pool.app_events[-1]["requestContext"]["authorizer"]["jwt"]
    assert jwt["claims"]["sub"] == "u-1234" and jwt["scopes"] == ["notes:read"]
    assert call(g, "/svc/dev/v1", {"Authorization": token}).status == 200
    assert pool.app_events[-1]["requestContext"]["authorizer"]["claims"]["iss"] == ISSUER
    scope = call(g, "/svc/dev/notes", {"Authorization": f"Bearer {token}"}, method="POST")
    assert scope.status == 403 and 'error="insufficient_scope"' in str(
        header(scope, "www-authenticate"))
    expired = call(g, "/svc/dev/notes", {"Authorization": key.sign(claims(exp=1))})
    assert expired.status == 401
    assert header(expired, "www-authenticate") == (
        'Bearer scope="" error="invalid_token" error_description="the token has expired"')
    # a rotated key: the file changes, the gateway reads it again
    rotated = SigningKey.ec("ec-2")
    (tmp_path / "jwks.json").write_text(json.dumps(jwks(rotated)))
    assert call(g, "/svc/dev/notes", {"Authorization": rotated.sign(claims())}).status == 200
    assert pool.auth_events == []  # no function is an authorizer here


def test_api_keys_and_the_usage_plan() -> None:
    g, pool = gateway("rest", (), (
        Route("GET", "/private", "svc-dev-v1", auth=RouteAuth(api_key=True)),
        Route("GET", "/public", "svc-dev-v1")),
        keys={"partner": KEY}, plan=UsagePlan(rate_limit=0.001, burst_limit=2))
    assert call(g, "/svc/dev/public").status == 200
    missing = call(g, "/svc/dev/private")
    assert (missing.status, body(missing)) == (403, {"message": "Forbidden"})
    assert header(missing, "x-amzn-errortype") == "ForbiddenException"
    assert call(g, "/svc/dev/private", {"x-api-key": "wrong-key-0123456789"}).status == 403
    assert call(g, "/svc/dev/private", {"x-api-key": KEY}).status == 200
    identity = pool.app_events[-1]["requestContext"]["identity"]
    assert (identity["apiKey"], identity["apiKeyId"]) == (KEY, "partner")
    assert call(g, "/svc/dev/private", {"x-api-key": KEY}).status == 200
    over = call(g, "/svc/dev/private", {"x-api-key": KEY})
    assert (over.status, body(over)) == (429, {"message": "Too Many Requests"})


@pytest.mark.parametrize("api", ["http", "rest"])
def test_refusals_are_logged_with_their_request_line(api: str) -> None:
    g, pool = gateway(api, (lambda_authorizer(payload="1.0", simple_responses=False),), (
        Route("GET", "/n", "svc-dev-app", auth=RouteAuth("custom")),))
    response = call(g, "/svc/dev/n")
    assert response.status == 401 and header(response, "apigw-requestid")
    assert any(line.startswith("Gateway: authorizer 'custom': no identity source")
               for line in pool.log_sink.lines)
    assert any(line.startswith("REQUEST GET /svc/dev/n 401") for line in pool.log_sink.lines)
