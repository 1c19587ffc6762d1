"""ASGI apps: a raw ASGI callable and FastAPI, lifespan once per instance, scope contents."""

from __future__ import annotations

import json
from typing import Any

from aloft.runtime import handler as runtime
from aloft.runtime.asgi import AsgiApp
from aloft.runtime.sources.http import HttpApiV2
from tests.unit.runtime.runtime_helpers import FIXTURE_EVENTS, load_event, user_module

RAW_ASGI = '''
import json
STARTUPS = []
SHUTDOWNS = []
SCOPES = []

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                STARTUPS.append(1)
                scope["state"]["db"] = "connected"
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                SHUTDOWNS.append(1)
                await send({"type": "lifespan.shutdown.complete"})
                return
    SCOPES.append(scope)
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"].endswith("/boom"):
        raise RuntimeError("asgi boom")
    payload = json.dumps({"path": scope["path"], "root_path": scope["root_path"],
                          "query": scope["query_string"].decode(), "body": body.decode(),
                          "client": scope["client"][0], "db": scope["state"].get("db")})
    await send({"type": "http.response.start", "status": 201, "headers": [
        (b"content-type", b"application/json"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]})
    await send({"type": "http.response.body", "body": payload.encode(), "more_body": True})
    await send({"type": "http.response.body", "body": b""})
'''

NO_LIFESPAN = '''
async def app(scope, receive, send):
    assert scope["type"] == "http", "no lifespan support"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"plain"})
'''

SILENT = '''
async def app(scope, receive, send):
    if scope["type"] == "http":
        await receive()
'''

FASTAPI_APP = '''
from contextlib import asynccontextmanager
from fastapi import FastAPI, Request

EVENTS = []

@asynccontextmanager
async def lifespan(app):
    EVENTS.append("startup")
    yield
    EVENTS.append("shutdown")

app = FastAPI(lifespan=lifespan)

@app.get("/items/{item_id}")
async def item(item_id: int, request: Request, q: str = ""):
    return {"item_id": item_id, "q": q, "root_path": request.scope["root_path"],
            "url": str(request.url), "has_event": "aws.event" in request.scope}
'''


def test_raw_asgi_app_lifespan_once_and_scope(deploy: Any) -> None:
    instance = deploy({"rawasgi": RAW_ASGI}, app="rawasgi:app")
    module = user_module("rawasgi")
    assert isinstance(instance.app, AsgiApp)
    assert module.STARTUPS == [1]  # ran in init, before any request
    event = load_event("v2_stage_prefix.json")
    context = object()
    results = [runtime.handler(event, context) for _ in range(3)]
    assert module.STARTUPS == [1]  # not per request
    result = results[-1]
    assert result["statusCode"] == 201
    assert result["cookies"] == ["a=1", "b=2"]
    seen = json.loads(result["body"])
    assert seen == {
        "path": "/prod/items/42", "root_path": "/prod", "query": "expand=true", "body": "",
        "client": "203.0.113.9", "db": "connected",
    }
    scope = module.SCOPES[-1]
    assert scope["aws.event"] is event and scope["aws.context"] is context
    assert (b"x-forwarded-proto", b"https") in scope["headers"]
    runtime.reset()
    assert module.SHUTDOWNS == [1]


def test_asgi_app_crash_gives_500(deploy: Any) -> None:
    deploy({"rawasgi": RAW_ASGI}, app="rawasgi:app")
    event = load_event("v2_gzip.json") | {"rawPath": "/boom"}
    result = runtime.handler(event, None)
    assert result["statusCode"] == 500
    assert json.loads(result["body"]) == {"message": "Internal Server Error"}


def test_app_without_lifespan_is_served(deploy: Any) -> None:
    instance = deploy({"nolife": NO_LIFESPAN}, app="nolife:app")
    assert isinstance(instance.app, AsgiApp) and not instance.app.lifespan_supported
    result = runtime.handler(load_event("v2_head.json") | {"requestContext": {
        "stage": "$default", "http": {"method": "GET", "sourceIp": "1.2.3.4"}}}, None)
    assert (result["statusCode"], result["body"]) == (200, "plain")


def test_response_less_app_gives_500(deploy: Any, capsys: Any) -> None:
    deploy({"silent": SILENT}, app="silent:app")
    result = runtime.handler(load_event("v2_gzip.json"), None)
    assert result["statusCode"] == 500
    assert "without sending http.response.start" in capsys.readouterr().err


def test_asgi_head_drops_body(deploy: Any) -> None:
    deploy({"rawasgi": RAW_ASGI}, app="rawasgi:app")
    result = runtime.handler(load_event("v2_head.json"), None)
    assert result["statusCode"] == 201 and result["body"] == ""


def test_fastapi_app(deploy: Any) -> None:
    deploy({"fastapp": FASTAPI_APP}, app="fastapp:app")
    module = user_module("fastapp")
    assert module.EVENTS == ["startup"]
    event = load_event("v2_stage_prefix.json")
    event["rawQueryString"] = "q=hello%20world"
    result = runtime.handler(event, None)
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"]) == {
        "item_id": 42, "q": "hello world", "root_path": "/prod",
        "url": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/items/42?q=hello%20world",
        "has_event": True,
    }
    missing = runtime.handler(event | {"rawPath": "/prod/nothing"}, None)
    assert missing["statusCode"] == 404
    runtime.handler(event, None)
    assert module.EVENTS == ["startup"]
    runtime.reset()
    assert module.EVENTS == ["startup", "shutdown"]


def test_asgi_unicode_path_and_base_path(deploy: Any) -> None:
    deploy({"rawasgi": RAW_ASGI}, app="rawasgi:app", env={"ALOFT_BASE_PATH": "/svc/dev"})
    event = load_event("v2_unicode_path.json") | {"rawPath": "/svc/dev/caf%C3%A9/%E2%9C%93"}
    seen = json.loads(runtime.handler(event, None)["body"])
    assert seen["path"] == "/svc/dev/café/✓"
    assert seen["root_path"] == "/svc/dev"
    assert seen["query"] == "q=%C3%BC"
    scope = user_module("rawasgi").SCOPES[-1]
    assert scope["raw_path"] == "/svc/dev/café/✓".encode()
    assert scope["server"] == ("abc123.execute-api.eu-west-1.amazonaws.com", 443)


def test_asgi_request_body_and_content_type(deploy: Any) -> None:
    deploy({"rawasgi": RAW_ASGI}, app="rawasgi:app")
    event = load_event("v2_empty_post.json") | {"body": '{"a": 1}'}
    seen = json.loads(runtime.handler(event, None)["body"])
    assert seen["body"] == '{"a": 1}'
    headers = dict(user_module("rawasgi").SCOPES[-1]["headers"])
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"content-length"] == b"8"


DISCONNECT = '''
import asyncio

SEEN = []

async def app(scope, receive, send):
    assert (await receive())["type"] == "http.request"

    async def watch():  # as StreamingResponse listens for the client going away
        SEEN.append((await receive())["type"])

    watcher = asyncio.get_running_loop().create_task(watch())
    await asyncio.sleep(0)  # the watcher waits: the response is not complete yet
    SEEN.append("waiting" if not watcher.done() else "early")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"one", "more_body": True})
    await asyncio.sleep(0)
    await send({"type": "http.response.body", "body": b"two"})
    await watcher
    SEEN.append((await receive())["type"])  # after the response: disconnected at once
'''


def test_receive_after_the_body_waits_for_the_response_to_complete(deploy: Any) -> None:
    deploy({"disconnect": DISCONNECT}, app="disconnect:app")
    module = user_module("disconnect")
    for _ in range(2):  # the second request on the same loop behaves the same
        module.SEEN.clear()
        result = runtime.handler(load_event("v2_gzip.json"), None)
        assert (result["statusCode"], result["body"]) == (200, "onetwo")
        assert module.SEEN == ["waiting", "http.disconnect", "http.disconnect"]


HEADERS_APP = '''
import asyncio

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    path = scope["path"]
    if path.endswith("/sleep"):  # waits on the loop's timer: the loop must run for it
        await asyncio.sleep(0.01)
    status = 600 if path.endswith("/bad") else 202
    body = bytes(range(256)) if path.endswith("/binary") else "héllo".encode()
    kind = b"application/octet-stream" if path.endswith("/binary") else b"text/plain"
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"Content-Type", kind), (b"X-Many", b"1"), (b"set-cookie", b"a=1"),
        (b"x-many", b"2"), (b"Set-Cookie", b"b=2")]})
    await send({"type": "http.response.body", "body": body})
'''


def test_handle_http_answers_what_api_gateway_makes_of_the_result(deploy: Any) -> None:
    """The local cloud's shortcut (the HttpResponse, no result dict) gives what API Gateway
    reads from the dict: the same status, headers and body bytes, text or binary."""
    from aloft.local.instances.worker.proxy_response import checked_status, proxy_response

    instance = deploy({"headersapp": HEADERS_APP}, app="headersapp:app")
    base = load_event("v2_stage_prefix.json")
    instance.handle(base, None)  # the first request finds the event's source
    for path in ("/prod/items", "/prod/binary", "/prod/sleep"):
        event = base | {"rawPath": path}
        expected = proxy_response(instance.handle(event, None), "2.0")
        answer = instance.handle_http(event, None)
        assert (checked_status(answer.status), answer.headers, answer.body) == expected
    assert expected[1] == [("content-type", "text/plain"), ("x-many", "1, 2"),
                           ("set-cookie", "a=1"), ("set-cookie", "b=2")]
    assert expected[2] == "héllo".encode()
    bad = instance.handle_http(base | {"rawPath": "/prod/bad"}, None)
    assert bad.status == 600  # the caller refuses it (502), as API Gateway would


def test_request_scope_is_the_environs_scope(deploy: Any) -> None:
    """An HTTP API request's scope made without the WSGI environ (the local cloud's path) is
    the scope made from it: headers (merged as environ keys merge them, in order), paths,
    query, server, client, for each v2 fixture and variants of it."""
    instance = deploy({"rawasgi": RAW_ASGI}, app="rawasgi:app")
    app = instance.app
    assert isinstance(app, AsgiApp)
    events = [json.loads(p.read_text()) for p in sorted(FIXTURE_EVENTS.glob("v2_*.json"))]
    first = events[0]
    events += [
        first | {"headers": {"host": "[::1]", "x_forwarded_for": "9.9.9.9, 1.1.1.1",
                             "X-Forwarded-For": "8.8.8.8", "content-length": "3",
                             "x-forwarded-port": "8443", "cookie": "c=0"},
                 "cookies": ["a=1", "b=2"], "body": "abc", "rawQueryString": "q=é"},
        first | {"headers": {}, "rawPath": "/prod/caf%C3%A9/%E2%82%AC"},
        first | {"headers": {"x-forwarded-proto": "http"}, "body": "aGk=",
                 "isBase64Encoded": True},
    ]
    for event in events:
        for base_path in ("", "/svc/dev", "/prod"):
            request, cookie = HttpApiV2.request(event, None, base_path)
            assert app.request_scope(request, cookie) == app.scope(
                HttpApiV2.environ(event, None, base_path)), (event, base_path)
