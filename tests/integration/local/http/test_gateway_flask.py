"""The gateway in front of a real pool: a Flask app through aloft's runtime, plain functions."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aloft.local.http.gateway import Gateway
from aloft.local.instances.pool import InstancePool
from aloft.local.types import FunctionVersion, HttpRequest, HttpResponse, Route, StageRoutes
from tests.integration.local.dataplane_helpers import (
    SITE_PACKAGES,
    LoopThread,
    RecordingSink,
    build_artifact,
    function_version,
)

APP = '''
from flask import Flask, Response, jsonify, request

app = Flask(__name__)
agents = []


@app.get("/")
def index():
    agents.append(request.user_agent.string)
    return "<h1>hello</h1>"


@app.get("/agents")
def seen():
    return jsonify(agents)


@app.get("/hello/<name>")
@app.get("/v1/hello/<name>")
def hello(name):
    return jsonify(name=name, path=request.path, root=request.script_root,
                   q=request.args.getlist("q"), url=request.url)


@app.post("/echo")
def echo():
    return Response(request.get_data(), content_type=request.content_type)


@app.get("/cookies")
def cookies():
    response = jsonify(got=request.cookies)
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response
'''

FNS = '''
import os, time


def plain(event, context):
    path = event.get("rawPath") or event.get("path")
    return {"path": path, "params": event.get("pathParameters")}


def crash(event, context):
    os._exit(1)


def slow(event, context):
    time.sleep(event.get("queryStringParameters", {}).get("s") and 3 or 0.5)
    return {"statusCode": 200, "body": "slow"}


def bad(event, context):
    return {"statusCode": "two hundred"}
'''


class StaticRegistry:
    def __init__(self, stage: StageRoutes, versions: dict[str, FunctionVersion]) -> None:
        self.stage, self.versions = stage, versions

    def stage_for_path(self, path: str) -> tuple[StageRoutes, str] | None:
        base = self.stage.base_path
        if path == base or path.startswith(base + "/"):
            return self.stage, path[len(base):] or "/"
        return None

    def current(self, function: str) -> FunctionVersion | None:
        return self.versions.get(function)

    def stages(self) -> list[StageRoutes]:
        return [self.stage]


@pytest.fixture(scope="module")
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture(scope="module")
def gateway(loop: LoopThread, sink: RecordingSink, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Gateway]:
    root = tmp_path_factory.mktemp("gw")
    code = build_artifact(root / "code", {"app.py": APP, "fns.py": FNS},
                          {"app": None, "plain": "fns.plain", "crash": "fns.crash",
                           "slow": "fns.slow", "bad": "fns.bad"}, app="app:app")
    versions = {
        "svc-dev-app": function_version(code, "app", layer_dir=SITE_PACKAGES),
        "svc-dev-v1": function_version(code, "app", layer_dir=SITE_PACKAGES, payload="1.0",
                                       physical="svc-dev-v1"),
        "svc-dev-plain": function_version(code, "plain"),
        "svc-dev-crash": function_version(code, "crash"),
        "svc-dev-slow": function_version(code, "slow", timeout=1, concurrency=1),
        "svc-dev-bad": function_version(code, "bad"),
    }
    stage = StageRoutes("svc", "dev", (
        Route("ANY", "/", "svc-dev-app"), Route("ANY", "/{proxy+}", "svc-dev-app"),
        Route("ANY", "/v1/{proxy+}", "svc-dev-v1"),
        Route("GET", "/plain/{id}", "svc-dev-plain"), Route("GET", "/crash", "svc-dev-crash"),
        Route("GET", "/slow", "svc-dev-slow"), Route("GET", "/bad", "svc-dev-bad"),
    ))

    async def make() -> Gateway:
        pool = InstancePool(sink, account_concurrency=5, throttle_wait=0.1)
        return Gateway(StaticRegistry(stage, versions), pool)

    gw = loop.run(make())
    yield gw
    loop.run(gw.pool.close())


def get(loop: LoopThread, gateway: Gateway, path: str, query: str = "", method: str = "GET",
        body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    hdrs = [("host", "127.0.0.1:8750"), *(headers or [])]
    return loop.run(gateway.handle(HttpRequest(method, path, query, hdrs, body)))


def header(response: HttpResponse, name: str) -> list[str]:
    return [v for k, v in response.headers if k.lower() == name]


def test_flask_app_through_the_runtime(loop: LoopThread, gateway: Gateway) -> None:
    response = get(loop, gateway, "/svc/dev/")
    assert response.status == 200 and response.body == b"<h1>hello</h1>"
    assert header(response, "content-type") == ["text/html; charset=utf-8"]
    response = get(loop, gateway, "/svc/dev/hello/ann", "q=1&q=2")
    data = json.loads(response.body)
    assert data["name"] == "ann" and data["path"] == "/hello/ann"
    assert data["root"] == "/svc/dev"  # the stage prefix is SCRIPT_NAME
    assert data["q"] == ["1", "2"]
    assert data["url"].startswith("http://127.0.0.1:8750/svc/dev/hello/ann")


def test_the_template_primes_the_app_before_forking(loop: LoopThread, gateway: Gateway) -> None:
    # Instances forked from the template inherit what its priming request left behind.
    agents = json.loads(get(loop, gateway, "/svc/dev/agents").body)
    assert agents[0] == "aloft-snapshot-prime"


def test_binary_body_round_trip(loop: LoopThread, gateway: Gateway) -> None:
    payload = bytes(range(256)) * 4
    response = get(loop, gateway, "/svc/dev/echo", method="POST", body=payload,
                   headers=[("content-type", "application/octet-stream")])
    assert response.status == 200 and response.body == payload


def test_large_bodies(loop: LoopThread, gateway: Gateway) -> None:
    payload = bytes(range(256)) * (5 * 4096)  # 5 MB each way, base64 in the event and result
    response = get(loop, gateway, "/svc/dev/echo", method="POST", body=payload,
                   headers=[("content-type", "application/octet-stream")])
    assert response.status == 200 and response.body == payload


def test_cookies(loop: LoopThread, gateway: Gateway) -> None:
    response = get(loop, gateway, "/svc/dev/cookies", headers=[("cookie", "x=1; y=2")])
    assert json.loads(response.body)["got"] == {"x": "1", "y": "2"}
    assert sorted(c.split(";")[0] for c in header(response, "set-cookie")) == ["a=1", "b=2"]


def test_rest_v1_payload(loop: LoopThread, gateway: Gateway) -> None:
    response = get(loop, gateway, "/svc/dev/v1/hello/bob", "q=3&q=4")
    assert response.status == 200, response.body
    data = json.loads(response.body)
    assert data["q"] == ["3", "4"] and data["root"] == "/svc/dev"


def test_plain_function_result(loop: LoopThread, gateway: Gateway) -> None:
    response = get(loop, gateway, "/svc/dev/plain/42")
    assert response.status == 200
    assert json.loads(response.body) == {"path": "/svc/dev/plain/42", "params": {"id": "42"}}


def test_failures(loop: LoopThread, gateway: Gateway, sink: RecordingSink) -> None:
    assert get(loop, gateway, "/svc/dev/crash").status == 502
    response = get(loop, gateway, "/svc/dev/bad")
    assert response.status == 502
    assert any("malformed Lambda proxy response" in line[3] for line in sink.lines)
    assert get(loop, gateway, "/svc/dev/slow", "s=1").status == 504
    assert get(loop, gateway, "/nowhere/x").status == 404


def test_throttle_is_429(loop: LoopThread, gateway: Gateway) -> None:
    async def two() -> list[HttpResponse]:
        requests = [HttpRequest("GET", "/svc/dev/slow", "", [("host", "h")]) for _ in range(2)]
        return list(await asyncio.gather(*(gateway.handle(r) for r in requests)))

    statuses = sorted(r.status for r in loop.run(two()))
    assert statuses == [200, 429]


PRIMED_APP = '''
import os

from flask import Flask, jsonify, request

app = Flask(__name__)
calls = []


@app.get("/")
def index():
    calls.append(["/", request.query_string.decode(), request.user_agent.string])
    return "side effect"


@app.get("/health")
def health():
    calls.append(["/health", request.query_string.decode(), request.user_agent.string])
    return "ok"


@app.get("/calls")
def seen():
    return jsonify(calls=calls, told=os.environ.get("ALOFT_PRIME_PATH"))
'''


def _v2_event(path: str) -> bytes:
    return json.dumps({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"host": "127.0.0.1"},
        "requestContext": {"http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                                    "sourceIp": "127.0.0.1", "userAgent": "test"},
                           "stage": "$default", "requestId": "r", "routeKey": "$default"},
        "isBase64Encoded": False,
    }).encode()


async def _pool(sink: RecordingSink) -> InstancePool:
    return InstancePool(sink)


@pytest.mark.parametrize(("prime", "expected"), [
    ("/health?deep=1", [["/health", "deep=1", "aloft-snapshot-prime"]]),
    ("/", [["/", "", "aloft-snapshot-prime"]]),
])
def test_the_template_primes_with_the_health_path(
    loop: LoopThread, tmp_path: Path, prime: str, expected: list[list[str]]
) -> None:
    """A template primes its app with the service's health path (`health_path`), not `/`: the
    deploy calls that path anyway, and a user whose `/` does something at every call (a write,
    a mail) keeps it from running at each template start by setting a harmless health path."""
    code = build_artifact(tmp_path / "code", {"app.py": PRIMED_APP}, {"app": None}, app="app:app")
    fv: FunctionVersion = dataclasses.replace(
        function_version(code, "app", layer_dir=SITE_PACKAGES), prime_path=prime)
    sink = RecordingSink()
    pool = loop.run(_pool(sink))
    try:
        result = loop.run(pool.invoke(fv, _v2_event("/calls")))
    finally:
        loop.run(pool.close())
    assert result.status == "ok", (result.payload, sink.lines)
    answer = json.loads(json.loads(result.payload)["body"])
    # what the template served before the fork, and nothing else
    assert answer["calls"] == expected
    assert answer["told"] is None  # the platform's word to the template, not the function's
