"""The gateway's socket-free core over an in-memory registry and a scripted pool."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from aloft.access_log import parse
from aloft.local.http.gateway import Gateway
from aloft.local.instances.awake import Spinner
from aloft.local.instances.worker.event_builders import event_from_packed
from aloft.local.store.metrics import Metrics
from aloft.local.types import (
    CorsPolicy,
    FunctionVersion,
    HttpRequest,
    HttpResponse,
    InvokeResult,
    Route,
    StageRoutes,
)
from tests.waiting import wait_until_async


def fv(name: str, **kw: Any) -> FunctionVersion:
    base = dict(function=name, version=1, code_dir=Path("/nowhere"), layer_dir=None, memory=128,
                timeout=3, concurrency=None, keep_alive=60)
    base.update(kw)
    return FunctionVersion(**base)  # type: ignore[arg-type]


class FakeRegistry:
    def __init__(self, stages: list[StageRoutes], versions: dict[str, FunctionVersion]) -> None:
        self._stages = {s.base_path: s for s in stages}
        self._versions = versions

    def stage_for_path(self, path: str) -> tuple[StageRoutes, str] | None:
        parts = path.split("/", 3)
        if len(parts) < 3 or f"/{parts[1]}/{parts[2]}" not in self._stages:
            return None
        return self._stages[f"/{parts[1]}/{parts[2]}"], "/" + (parts[3] if len(parts) > 3 else "")

    def stage_for_host(self, key: str) -> StageRoutes | None:
        return next((s for s in self._stages.values() if s.host == f"{key}.localhost"), None)

    def current(self, function: str) -> FunctionVersion | None:
        return self._versions.get(function)

    def stages(self) -> list[StageRoutes]:
        return list(self._stages.values())


@dataclass
class Sink:
    lines: list[str] = field(default_factory=list)
    streams: list[str | None] = field(default_factory=list)  # each entry's

    def write(self, function: str, version: int, request_id: str | None, text: str,
              stream: str | None = None) -> None:
        self.lines.append(text)
        self.streams.append(stream)


STREAM = "2026/12/06/[1]" + "ab" * 16  # the instance's, as the pool names it


class ScriptedPool:
    """Answers each invocation with what `script` returns for the event (status, payload)."""

    def __init__(self) -> None:
        self.log_sink = Sink()
        self.metrics = Metrics()
        self.spinner = Spinner(lambda: 0, spin=0.0)  # never polls
        self.events: list[dict[str, Any]] = []
        self.answer: tuple[str, Any] = ("ok", {"statusCode": 200, "body": "hi"})
        self.delay = 0.0
        self.report: str | None = None  # the END/REPORT entry a real pool leaves to the gateway
        self.traces: list[str | None] = []  # each invocation's _X_AMZN_TRACE_ID

    async def invoke(self, fv: FunctionVersion, event: bytes, *, request_id: str | None = None,
                     http: bool = False, trace: str | None = None) -> InvokeResult:
        self.traces.append(trace)
        # The gateway forwards HTTP requests packed; the instance builds the event (as here).
        self.events.append(event_from_packed(event, request_id or "r") if http
                           else json.loads(event))
        if self.delay:
            await asyncio.sleep(self.delay)
        status, payload = self.answer
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return InvokeResult(request_id or "r", status, data, 1.0,  # type: ignore[arg-type]
                            report=self.report, log_stream=STREAM)


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.css").write_text("body{}")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    (tmp_path.parent / "secret.txt").write_text("secret")
    return tmp_path


@pytest.fixture
def setup(static_dir: Path) -> tuple[Gateway, ScriptedPool]:
    stage = StageRoutes(
        "svc", "dev",
        (Route("ANY", "/", "svc-dev-app"), Route("ANY", "/{proxy+}", "svc-dev-app"),
         Route("GET", "/items/{id}", "svc-dev-items"), Route("GET", "/rest/{p+}", "svc-dev-v1"),
         Route("GET", "/slow", "svc-dev-slow")),
        cors=CorsPolicy(origins=("https://ok.example",), methods=("GET", "POST"),
                        expose_headers=("x-id",)),
        static_path="/static", static_dir=static_dir,
    )
    other = StageRoutes("svc", "prod", (Route("GET", "/x", "svc-prod-x"),))
    versions = {"svc-dev-app": fv("svc-dev-app"), "svc-dev-items": fv("svc-dev-items"),
                "svc-dev-v1": fv("svc-dev-v1", payload="1.0"),
                "svc-dev-slow": fv("svc-dev-slow", timeout=60)}
    pool = ScriptedPool()
    gateway = Gateway(FakeRegistry([stage, other], versions), pool,  # type: ignore[arg-type]
                      max_body=1000, timeout=0.2)
    return gateway, pool


def call(gateway: Gateway, method: str, path: str, query: str = "", body: bytes = b"",
         headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    request = HttpRequest(method, path, query, headers or [("host", "127.0.0.1:8750")], body)
    return asyncio.run(gateway.handle(request))


def header(response: HttpResponse, name: str) -> str | None:
    return next((v for k, v in response.headers if k.lower() == name), None)


def test_routes_to_the_function_with_a_v2_event(setup: tuple[Gateway, ScriptedPool]) -> None:
    gateway, pool = setup
    response = call(gateway, "GET", "/svc/dev/items/7", "a=1")
    assert response.status == 200 and response.body == b"hi"
    event = pool.events[-1]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}"
    assert event["pathParameters"] == {"id": "7"}
    assert event["rawPath"] == "/svc/dev/items/7"
    assert event["requestContext"]["stage"] == "dev"
    assert header(response, "apigw-requestid") == event["requestContext"]["requestId"]
    call(gateway, "GET", "/svc/dev")
    assert pool.events[-1]["routeKey"] == "ANY /"


def test_each_request_gets_a_trace_id(setup: tuple[Gateway, ScriptedPool]) -> None:
    """API Gateway starts a trace (or continues the caller's): the event's x-amzn-trace-id
    header, the response's, and the invocation's _X_AMZN_TRACE_ID share its Root."""
    gateway, pool = setup
    first = call(gateway, "GET", "/svc/dev/items/1")
    second = call(gateway, "GET", "/svc/dev/rest/x")
    roots = []
    for response, event, trace in zip((first, second), pool.events[-2:], pool.traces[-2:],
                                      strict=True):
        sent = header(response, "x-amzn-trace-id")
        assert sent is not None and re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", sent)
        in_event = (event["headers"].get("x-amzn-trace-id")
                    or event["headers"].get("X-Amzn-Trace-Id"))
        assert in_event == sent
        assert trace is not None and trace.startswith(sent + ";Parent=")
        assert trace.endswith(";Sampled=0")
        roots.append(sent)
    assert roots[0] != roots[1]
    assert pool.events[-1]["multiValueHeaders"]["X-Amzn-Trace-Id"] == [roots[1]]
    caller = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    response = call(gateway, "GET", "/svc/dev/items/2",
                    headers=[("host", "127.0.0.1"), ("x-amzn-trace-id", caller)])
    assert header(response, "x-amzn-trace-id") == "Root=1-5759e988-bd862e3fe1be46a994272793"
    assert pool.events[-1]["headers"]["x-amzn-trace-id"] == \
        "Root=1-5759e988-bd862e3fe1be46a994272793"
    trace = pool.traces[-1]
    assert trace is not None and trace.endswith(";Sampled=1")
    assert "Parent=53995c3f42cd8ad8" not in trace  # a new segment of the caller's trace
    call(gateway, "GET", "/svc/dev/items/3",
         headers=[("host", "127.0.0.1"), ("x-amzn-trace-id", "Root=not-a-trace")])
    assert "not-a-trace" not in str(pool.traces[-1])


def test_v1_event_for_payload_1_0(setup: tuple[Gateway, ScriptedPool]) -> None:
    gateway, pool = setup
    call(gateway, "GET", "/svc/dev/rest/a/b")
    event = pool.events[-1]
    assert event["version"] == "1.0" and event["resource"] == "/rest/{p+}"
    assert event["path"] == "/rest/a/b" and event["pathParameters"] == {"p": "a/b"}


def test_unknown_route_and_stage(setup: tuple[Gateway, ScriptedPool]) -> None:
    gateway, _ = setup
    response = call(gateway, "POST", "/svc/prod/x")
    assert response.status == 404
    assert json.loads(response.body)["routes"] == ["GET /svc/prod/x"]
    response = call(gateway, "GET", "/nope/dev/x")
    assert response.status == 404
    assert json.loads(response.body)["stages"] == ["http://127.0.0.1:8750/svc/dev/",
                                                   "http://127.0.0.1:8750/svc/prod/"]


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (("error", {"errorMessage": "boom"}), 502),
        (("crash", {"errorMessage": "x"}), 502),
        (("init_error", {"errorMessage": "x"}), 502),
        (("timeout", {"errorMessage": "x"}), 504),
        (("ok", {"statusCode": "nope"}), 502),
        (("ok", b"not json"), 502),
    ],
)
def test_failures_map_to_api_gateway_statuses(setup: tuple[Gateway, ScriptedPool],
                                              answer: tuple[str, Any], status: int) -> None:
    gateway, pool = setup
    pool.answer = answer
    response = call(gateway, "GET", "/svc/dev/")
    assert response.status == status
    if status == 502:
        assert json.loads(response.body) == {"message": "Internal Server Error"}
    if answer[0] == "ok":
        assert "malformed Lambda proxy response" in pool.log_sink.lines[-2]
    line = parse(pool.log_sink.lines[-1])  # then the request line, with the gateway's status
    assert line is not None and line.status == status
    summary = pool.metrics.summary("svc-dev-app")
    assert (summary["4xx"], summary["5xx"]) == (0, 1)


def test_each_answer_from_a_function_gets_a_request_line_and_counts(
    setup: tuple[Gateway, ScriptedPool],
) -> None:
    gateway, pool = setup
    for status in (200, 201, 404, 404, 500):
        pool.answer = ("ok", {"statusCode": status, "body": "x"})
        assert call(gateway, "POST", "/svc/dev/orders/7", "token=secret").status == status
    lines = [parse(text) for text in pool.log_sink.lines]
    assert [(x.method, x.path, x.status) for x in lines if x] == [
        ("POST", "/svc/dev/orders/7", s) for s in (200, 201, 404, 404, 500)]
    assert all(x is not None and x.latency_ms >= 0 for x in lines)
    assert not any("secret" in text for text in pool.log_sink.lines)  # no query string
    summary = pool.metrics.summary("svc-dev-app")
    # a function's own 500 is a 5xx, not a function error (it answered)
    assert (summary["4xx"], summary["5xx"], summary["errors"]) == (2, 1, 0)
    # the gateway's own answers without a function (no route, a static file) get no line
    pool.log_sink.lines.clear()
    assert call(gateway, "GET", "/svc/prod/nothing").status == 404
    assert call(gateway, "GET", "/svc/dev/static/logo.png").status == 200
    assert pool.log_sink.lines == []


def test_throttled_is_429(setup: tuple[Gateway, ScriptedPool]) -> None:
    gateway, pool = setup
    body = {"Reason": "ConcurrentInvocationLimitExceeded", "Type": "User",
            "message": "Rate Exceeded."}
    pool.answer = ("throttled", body)
    response = call(gateway, "GET", "/svc/dev/")
    assert response.status == 429 and json.loads(response.body) == body
    assert header(response, "x-amzn-errortype") == "TooManyRequestsException"


def test_the_request_line_follows_the_report_in_one_entry(
    setup: tuple[Gateway, ScriptedPool],
) -> None:
    gateway, pool = setup
    pool.report = "END RequestId: r\nREPORT RequestId: r\tDuration: 1.00 ms"
    assert call(gateway, "GET", "/svc/dev/").status == 200
    report, line = pool.log_sink.lines[-1].rsplit("\n", 1)
    assert report == pool.report and parse(line) is not None
    assert pool.log_sink.streams[-1] == STREAM  # in the stream of the instance that ran it


def test_past_the_gateway_timeout_the_504_line_comes_first_then_the_report(
    setup: tuple[Gateway, ScriptedPool],
) -> None:
    gateway, pool = setup
    pool.delay = 0.4  # the function's timeout (60 s) is longer than the gateway's (0.2 s here)
    pool.report = "END RequestId: r\nREPORT RequestId: r\tDuration: 400.00 ms"

    async def scenario() -> tuple[list[str], list[str]]:
        response = await gateway.handle(HttpRequest("GET", "/svc/dev/slow", "", []))
        assert response.status == 504
        answered = list(pool.log_sink.lines)
        await wait_until_async(lambda: len(pool.log_sink.lines) > len(answered), timeout=5,
                               message="the function's end")
        return answered, list(pool.log_sink.lines)

    answered, ended = asyncio.run(scenario())
    line = parse(answered[-1])
    assert line is not None and line.status == 504 and line.latency_ms >= 200
    assert ended == [*answered, pool.report]
    assert pool.log_sink.streams[-1] == STREAM  # the late report: the instance's stream too


def test_body_limit_and_gateway_timeout(setup: tuple[Gateway, ScriptedPool]) -> None:
    gateway, pool = setup
    assert call(gateway, "POST", "/svc/dev/", body=b"x" * 1001).status == 413
    pool.delay = 0.5  # the function's timeout (60 s) is longer than the gateway's (0.2 s here)
    assert call(gateway, "GET", "/svc/dev/slow").status == 504


def test_binary_response_and_request(setup: tuple[Gateway, ScriptedPool]) -> None:
    gateway, pool = setup
    pool.answer = ("ok", {"statusCode": 200, "isBase64Encoded": True,
                          "body": base64.b64encode(b"\x00\xff").decode()})
    response = call(gateway, "POST", "/svc/dev/up", body=b"\x00\xff",
                    headers=[("content-type", "application/octet-stream")])
    assert response.body == b"\x00\xff"
    assert pool.events[-1]["isBase64Encoded"] is True


def test_cors(setup: tuple[Gateway, ScriptedPool]) -> None:
    gateway, pool = setup
    ok = [("origin", "https://ok.example"), ("access-control-request-method", "POST"),
          ("access-control-request-headers", "content-type")]
    response = call(gateway, "OPTIONS", "/svc/dev/items/1", headers=ok)
    assert response.status == 204
    assert header(response, "access-control-allow-origin") == "https://ok.example"
    assert header(response, "access-control-allow-methods") == "GET, POST"
    assert header(response, "access-control-max-age") == "600"
    assert not pool.events  # answered by the gateway
    bad = [("origin", "https://evil.example"), ("access-control-request-method", "GET")]
    response = call(gateway, "OPTIONS", "/svc/dev/", headers=bad)
    assert header(response, "access-control-allow-origin") is None
    response = call(gateway, "GET", "/svc/dev/", headers=[("origin", "https://ok.example")])
    assert header(response, "access-control-allow-origin") == "https://ok.example"
    assert header(response, "access-control-expose-headers") == "x-id"


def test_static_files(setup: tuple[Gateway, ScriptedPool]) -> None:
    gateway, pool = setup
    response = call(gateway, "GET", "/svc/dev/static/css/site.css")
    assert response.status == 200 and response.body == b"body{}"
    assert header(response, "content-type") == "text/css; charset=utf-8"
    etag = header(response, "etag")
    assert etag
    again = call(gateway, "GET", "/svc/dev/static/css/site.css",
                 headers=[("if-none-match", etag)])
    assert again.status == 304 and again.body == b""
    assert header(call(gateway, "GET", "/svc/dev/static/logo.png"), "content-type") == "image/png"
    for sneaky in ("/svc/dev/static/../secret.txt", "/svc/dev/static/%2e%2e/secret.txt",
                   "/svc/dev/static/css/../../secret.txt", "/svc/dev/static/missing.css"):
        assert call(gateway, "GET", sneaky).status == 404, sneaky
    assert call(gateway, "POST", "/svc/dev/static/logo.png").status == 405
    assert not pool.events


def route_cors_gateway(stage_cors: CorsPolicy | None) -> tuple[Gateway, ScriptedPool]:
    """A stage whose routes override its CORS: /open (cors: true), /closed (cors: false), /plain
    (the stage's), and the app's catch-all."""
    stage = StageRoutes(
        "svc", "dev",
        (Route("GET", "/open", "svc-dev-fn", cors=True),
         Route("POST", "/open", "svc-dev-fn"),
         Route("GET", "/closed", "svc-dev-fn", cors=False),
         Route("GET", "/plain", "svc-dev-fn"),
         Route("ANY", "/{proxy+}", "svc-dev-app")),
        cors=stage_cors,
    )
    pool = ScriptedPool()
    versions = {"svc-dev-fn": fv("svc-dev-fn"), "svc-dev-app": fv("svc-dev-app")}
    gateway = Gateway(FakeRegistry([stage], versions), pool)  # type: ignore[arg-type]
    return gateway, pool


def preflight_for(method: str) -> list[tuple[str, str]]:
    return [("origin", "https://app.example"), ("access-control-request-method", method),
            ("access-control-request-headers", "x-token")]


ORIGIN = [("origin", "https://app.example")]


def test_route_cors_true_on_a_stage_without_cors_gets_the_default_policy() -> None:
    gateway, pool = route_cors_gateway(None)
    response = call(gateway, "OPTIONS", "/svc/dev/open", headers=preflight_for("GET"))
    assert response.status == 204 and not pool.events  # answered by the gateway
    assert header(response, "access-control-allow-origin") == "*"
    assert header(response, "access-control-allow-methods") == "GET, OPTIONS"
    assert header(response, "access-control-allow-headers") == "x-token"
    response = call(gateway, "GET", "/svc/dev/open", headers=ORIGIN)
    assert response.status == 200 and header(response, "access-control-allow-origin") == "*"
    # The other routes keep the stage's (no) CORS, preflights and actual requests alike: the
    # POST /open preflight is routed to the app like any OPTIONS request.
    response = call(gateway, "OPTIONS", "/svc/dev/open", headers=preflight_for("POST"))
    assert header(response, "access-control-allow-origin") is None
    assert pool.events[-1]["requestContext"]["http"]["method"] == "OPTIONS"
    assert pool.events[-1]["routeKey"] == "ANY /{proxy+}"
    for path in ("/svc/dev/closed", "/svc/dev/plain", "/svc/dev/other"):
        response = call(gateway, "GET", path, headers=ORIGIN)
        assert response.status == 200 and header(response, "access-control-allow-origin") is None


def test_route_cors_false_opts_out_of_the_stage_policy() -> None:
    gateway, pool = route_cors_gateway(CorsPolicy(origins=("https://app.example",)))
    response = call(gateway, "OPTIONS", "/svc/dev/closed", headers=preflight_for("GET"))
    # no approval from the gateway: the OPTIONS request goes where the routes send it
    assert header(response, "access-control-allow-origin") is None
    assert pool.events[-1]["routeKey"] == "ANY /{proxy+}"
    response = call(gateway, "GET", "/svc/dev/closed", headers=ORIGIN)
    assert response.status == 200 and header(response, "access-control-allow-origin") is None
    events = len(pool.events)
    for path, method in (("/svc/dev/plain", "GET"), ("/svc/dev/open", "GET"),
                         ("/svc/dev/other", "DELETE")):
        response = call(gateway, "OPTIONS", path, headers=preflight_for(method))
        assert header(response, "access-control-allow-origin") == "https://app.example", path
        # cors: true on a stage with CORS is the stage's policy (methods `*` echo the method),
        # not the default one ("GET, OPTIONS")
        assert header(response, "access-control-allow-methods") == method
        response = call(gateway, method, path, headers=ORIGIN)
        assert header(response, "access-control-allow-origin") == "https://app.example", path
    assert len(pool.events) == events + 3  # the preflights were answered by the gateway


def test_a_stage_without_any_cors_keeps_the_hot_path() -> None:
    plain = StageRoutes("svc", "dev", (Route("GET", "/a", "f", cors=False),))
    assert not plain.extras and plain.cors_overrides
    assert StageRoutes("svc", "dev", (Route("GET", "/a", "f", cors=True),)).extras
    assert StageRoutes("svc", "dev", (Route("GET", "/a", "f"),), cors=CorsPolicy()).extras
    assert not StageRoutes("svc", "dev", (Route("GET", "/a", "f"),)).extras


def test_request_ids_are_version_4_uuids() -> None:
    import uuid

    from aloft.local.instances.pool import new_request_id

    ids = [new_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for rid in ids:
        parsed = uuid.UUID(rid)
        assert str(parsed) == rid
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


# -- the stage's own host: `{stage}.{service}.localhost`, the app at the root -------------------

AT_HOST = [("host", "dev.svc.localhost:8750")]


def test_at_the_stage_host_the_app_is_at_the_root(setup: tuple[Gateway, ScriptedPool]) -> None:
    gateway, pool = setup
    response = call(gateway, "GET", "/items/7", "a=1", headers=AT_HOST)
    assert response.status == 200
    event = pool.events[-1]
    # As API Gateway's `$default` stage gives it: no prefix anywhere.
    assert event["rawPath"] == "/items/7" and event["requestContext"]["http"]["path"] == "/items/7"
    assert event["requestContext"]["stage"] == "$default"
    assert event["routeKey"] == "GET /items/{id}" and event["pathParameters"] == {"id": "7"}
    assert event["headers"]["host"] == "dev.svc.localhost:8750"
    call(gateway, "GET", "/", headers=[("host", "DEV.Svc.LocalHost:8750")])  # any case
    assert pool.events[-1]["routeKey"] == "ANY /" and pool.events[-1]["rawPath"] == "/"


def test_at_the_stage_host_a_path_like_the_prefix_is_the_apps(
        setup: tuple[Gateway, ScriptedPool]) -> None:
    gateway, pool = setup
    call(gateway, "GET", "/svc/dev/items/7", headers=AT_HOST)
    event = pool.events[-1]
    assert event["routeKey"] == "ANY /{proxy+}" and event["rawPath"] == "/svc/dev/items/7"


def test_a_rest_route_at_the_stage_host_has_no_prefix(
        setup: tuple[Gateway, ScriptedPool]) -> None:
    gateway, pool = setup
    call(gateway, "GET", "/rest/a/b", headers=AT_HOST)
    event = pool.events[-1]
    assert event["version"] == "1.0" and event["path"] == "/rest/a/b"
    assert event["requestContext"]["path"] == "/rest/a/b"  # as behind a custom domain
    assert event["requestContext"]["stage"] == "dev"


def test_static_files_and_their_404_at_the_stage_host(
        setup: tuple[Gateway, ScriptedPool]) -> None:
    gateway, _pool = setup
    response = call(gateway, "GET", "/static/css/site.css", headers=AT_HOST)
    assert response.status == 200 and response.body == b"body{}"
    missing = call(gateway, "GET", "/nothing-routed-here", headers=[
        ("host", "prod.svc.localhost:8750")])
    assert missing.status == 404
    assert json.loads(missing.body)["routes"] == ["GET /x"]  # the stage's, without a prefix


def test_an_unknown_stage_host_lists_the_stages_hosts(
        setup: tuple[Gateway, ScriptedPool]) -> None:
    gateway, pool = setup
    response = call(gateway, "GET", "/", headers=[("host", "qa.svc.localhost:8750")])
    assert response.status == 404 and not pool.events
    data = json.loads(response.body)
    assert data["message"] == "No stage is deployed at this host"
    assert data["stages"] == ["http://dev.svc.localhost:8750/", "http://prod.svc.localhost:8750/"]
    by_path = json.loads(call(gateway, "GET", "/nope/dev/").body)
    assert by_path["stages"] == ["http://127.0.0.1:8750/svc/dev/", "http://127.0.0.1:8750/svc/prod/"]
