"""HTTP requests as API Gateway events and function results as responses."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from aloft.local.http.proxy_integration import (
    MalformedResponse,
    build_http_event,
    build_rest_event,
    health_event,
    parse_http_response,
)
from aloft.local.types import FunctionVersion, HttpRequest
from tests.unit.runtime.runtime_helpers import load_event

REQUEST = HttpRequest(
    "POST",
    "/svc/dev/items/a%20b",
    "x=1&x=2&y=hello+world",
    [
        ("host", "127.0.0.1:8750"),
        ("user-agent", "curl/8"),
        ("content-type", "application/json"),
        ("x-multi", "a"),
        ("X-Multi", "b"),
        ("cookie", "a=1; b=2"),
    ],
    b'{"k": 1}',
    "10.0.0.9",
)


def v2(request: HttpRequest = REQUEST) -> dict:
    return build_http_event(request, route_key="POST /items/{id}", path_parameters={"id": "a b"},
                            stage="dev", request_id="rid", api_id="local", now=1583348638.390)


def test_http_api_v2_event() -> None:
    event = v2()
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /items/{id}"
    assert event["rawPath"] == "/svc/dev/items/a%20b"
    assert event["rawQueryString"] == "x=1&x=2&y=hello+world"
    assert event["queryStringParameters"] == {"x": "1,2", "y": "hello world"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "a,b"
    assert event["headers"]["x-forwarded-proto"] == "http"
    assert event["headers"]["x-forwarded-port"] == "8750"
    assert event["headers"]["x-forwarded-for"] == "10.0.0.9"
    assert event["pathParameters"] == {"id": "a b"}
    assert event["body"] == '{"k": 1}' and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["http"] == {"method": "POST", "path": "/svc/dev/items/a%20b",
                           "protocol": "HTTP/1.1", "sourceIp": "10.0.0.9", "userAgent": "curl/8"}
    assert ctx["stage"] == "dev" and ctx["requestId"] == "rid"
    assert ctx["time"] == "04/Mar/2020:19:03:58 +0000"
    assert ctx["timeEpoch"] == 1583348638390
    assert ctx["domainName"] == "127.0.0.1:8750" and ctx["accountId"] == "000000000000"
    # Same keys as an HTTP API event (optional authorizer/authentication aside).
    real = load_event("apigw_http_v2_jwt.json")
    assert set(event) <= set(real) | {"body"}
    assert set(ctx) <= set(real["requestContext"])


def test_binary_bodies_are_base64() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    request = HttpRequest("POST", "/svc/dev/up", "", [("content-type", "image/png")], png)
    event = v2(request)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == png
    invalid_text = HttpRequest("POST", "/svc/dev/up", "", [], b"\xff\xfe")
    assert v2(invalid_text)["isBase64Encoded"] is True
    empty = v2(HttpRequest("GET", "/svc/dev/", "", []))
    assert "body" not in empty and "queryStringParameters" not in empty


def test_rest_v1_event() -> None:
    event = build_rest_event(REQUEST, resource="/items/{id}", path="/items/a%20b",
                             path_parameters={"id": "a b"}, stage="dev", request_id="rid",
                             api_id="local", now=0)
    assert event["httpMethod"] == "POST"
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/a%20b"
    assert event["multiValueHeaders"]["X-Multi"] == ["a", "b"]
    assert event["headers"]["X-Multi"] == "b"
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": ["hello world"]}
    assert event["queryStringParameters"] == {"x": "2", "y": "hello world"}
    assert event["requestContext"]["path"] == "/svc/dev/items/a%20b"
    assert event["requestContext"]["identity"]["sourceIp"] == "10.0.0.9"
    assert event["pathParameters"] == {"id": "a b"}
    real = load_event("apigw_rest_proxy.json")
    assert set(event) == set(real)


def test_health_event() -> None:
    fv = FunctionVersion("svc-dev-app", 3, Path("/c"), None, 128, 3, None, 60,
                         {"ALOFT_BASE_PATH": "/svc/dev"})
    event = json.loads(health_event(fv, "/health"))
    assert event["rawPath"] == "/svc/dev/health"
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["stage"] == "dev"
    v1 = FunctionVersion("svc-dev-app", 3, Path("/c"), None, 128, 3, None, 60,
                         {"ALOFT_BASE_PATH": "/svc/dev"}, payload="1.0")
    event = json.loads(health_event(v1, "/"))
    assert event["httpMethod"] == "GET" and event["path"] == "/"


def test_parse_proxy_response() -> None:
    payload = json.dumps({
        "statusCode": 201,
        "headers": {"content-type": "text/plain", "x-n": 3, "x-b": True},
        "multiValueHeaders": {"x-m": ["1", "2"]},
        "cookies": ["a=1", "b=2"],
        "body": "created",
    }).encode()
    response = parse_http_response(payload, "2.0")
    assert response.status == 201
    assert response.body == b"created"
    assert ("x-n", "3") in response.headers and ("x-b", "true") in response.headers
    assert [v for k, v in response.headers if k == "x-m"] == ["1", "2"]
    assert [v for k, v in response.headers if k == "set-cookie"] == ["a=1", "b=2"]


def test_parse_base64_and_v2_defaults() -> None:
    payload = json.dumps({"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(),
                          "isBase64Encoded": True}).encode()
    assert parse_http_response(payload).body == b"\x00\x01"
    # HTTP API: a result without statusCode is a 200 JSON body, as is.
    plain = parse_http_response(b'{"hello": "world"}')
    assert plain.status == 200 and plain.body == b'{"hello": "world"}'
    assert ("content-type", "application/json") in plain.headers
    assert parse_http_response(b'"text"').body == b'"text"'


@pytest.mark.parametrize(
    ("payload", "version", "why"),
    [
        (b"not json", "2.0", "not JSON"),
        (b'"text"', "1.0", "not an object"),
        (b'{"body": "x"}', "1.0", "statusCode None"),
        (b'{"statusCode": 99}', "2.0", "statusCode 99"),
        (b'{"statusCode": "abc"}', "2.0", "statusCode 'abc'"),
        (b'{"statusCode": 200, "headers": {"a": [1]}}', "2.0", "header 'a'"),
        (b'{"statusCode": 200, "headers": []}', "2.0", "must be objects"),
        (b'{"statusCode": 200, "body": "@@", "isBase64Encoded": true}', "2.0", "not base64"),
        (b'{"statusCode": 200, "body": {"a": 1}}', "1.0", "not a string"),
        (b'{"statusCode": 200, "cookies": "a=1"}', "2.0", "cookies"),
    ],
)
def test_malformed_responses_say_why(payload: bytes, version: str, why: str) -> None:
    with pytest.raises(MalformedResponse, match=why):
        parse_http_response(payload, version)  # type: ignore[arg-type]


def test_http_result_frames_round_trip() -> None:
    from aloft.local.instances.worker import protocol as P
    from aloft.local.instances.worker.proxy_response import proxy_response

    status, headers, body = proxy_response(
        {"statusCode": 201, "headers": {"x-a": "é"}, "cookies": ["c=1"], "body": "ok"}, "2.0"
    )
    packed = P.pack_http(status, headers, body)
    assert P.unpack_http(b"xx" + packed, 2) == (201, [("x-a", "é"), ("set-cookie", "c=1")], b"ok")


@pytest.mark.parametrize("payload", ["2.0", "1.0"])
def test_the_instance_builds_the_same_event_from_the_packed_request(
    payload: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway forwards a request packed; the instance's event is the one API Gateway's
    builder makes of the request itself."""
    from aloft.local.instances.worker import event_builders

    monkeypatch.setattr(event_builders.time, "time", lambda: 1583348638.390)
    route = "/items/{id}" if payload == "1.0" else "POST /items/{id}"
    packed = event_builders.pack_request(
        REQUEST, payload=payload, route=route, path="/items/a%20b",
        path_parameters={"id": "a b"}, stage="dev", api_id="local")
    event = event_builders.event_from_packed(packed, "rid")
    if payload == "1.0":
        expected = build_rest_event(REQUEST, resource=route, path="/items/a%20b",
                                    path_parameters={"id": "a b"}, stage="dev",
                                    request_id="rid", api_id="local", now=1583348638.390)
    else:
        expected = v2()
    assert event == expected
    assert json.loads(json.dumps(event)) == event  # what a JSON round trip would have given


def test_header_lines_go_to_the_wire_as_the_gateway_would_write_them() -> None:
    """A response's headers as an instance encodes them for the wire (RESULT_HTTP_LINES): the
    same bytes as the gateway's own encoding of them; anything it would treat otherwise (a
    hop-by-hop header, CR or LF, non latin-1) is left to it (None)."""
    from aloft.local.http.server import encode_response
    from aloft.local.instances.worker import protocol as P
    from aloft.local.types import HttpResponse

    headers = [("Content-Type", "text/plain"), ("X-A", "é"), ("content-length", "2")]
    packed = P.http_lines(201, headers, b"ok")
    assert packed is not None
    status, size = P.LINES_HEAD.unpack_from(packed)
    start = P.LINES_HEAD.size
    lines = HttpResponse(status, [], packed[start + size:], packed[start:start + size])
    lines.add_header("apigw-requestid", "r1")
    plain = HttpResponse(201, [*headers, ("apigw-requestid", "r1")], b"ok")
    assert encode_response(lines) == encode_response(plain)
    assert encode_response(lines, head=True) == encode_response(plain, head=True)
    assert lines.headers == [("content-type", "text/plain"), ("x-a", "é"),
                             ("apigw-requestid", "r1")]  # decoded when read
    assert lines.head == b"" and encode_response(lines) == encode_response(plain)
    for odd in ([("content-length", "5")], [("Connection", "close")], [("x-b", "1\r\nx: 2")],
                [("x-c", "€")]):
        assert P.http_lines(200, odd, b"ok") is None, odd
