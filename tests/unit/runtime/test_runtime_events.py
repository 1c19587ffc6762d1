"""Every kind of AWS event aloft supports goes through the entry point, on the project's own
fixtures (tests/fixtures/events/, written from AWS's documented shapes): HTTP ones reach a
Flask app as the right WSGI request, the others reach a recording function untouched."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from aloft.runtime import handler as runtime
from aloft.runtime.errors import UnsupportedEvent
from aloft.runtime.sources import SOURCES, infer
from tests.unit.runtime.runtime_helpers import (
    ECHO_APP,
    FIXTURE_EVENTS,
    RECORDER,
    load_event,
    user_module,
)

REST = "https://r3st4p1id.execute-api.eu-west-1.amazonaws.com"
HTTP = "https://h77p4p1id.execute-api.eu-west-1.amazonaws.com"
URL = "https://abcdefghijklmnopqrstuvwxyz0123.lambda-url.eu-west-1.on.aws"
ALB = "web-alb-1234567890.eu-west-1.elb.amazonaws.com"

# file -> (source, method, SCRIPT_NAME, PATH_INFO, QUERY_STRING, REMOTE_ADDR, body, url,
#          the response's headers key)
HTTP_EVENTS: dict[str, tuple[str, str, str, str, str, str, str, str, str]] = {
    # On the execute-api domain a REST API's stage is in front of the path: the app is
    # mounted there.
    "apigw_rest_proxy.json": (
        "apigateway-v1", "GET", "/prod", "/orders/42", "status=open&status=shipped&limit=5",
        "198.51.100.23", "", f"{REST}/prod/orders/42?status=open&status=shipped&limit=5",
        "multiValueHeaders",
    ),
    "apigw_rest_authorized.json": (
        "apigateway-v1", "POST", "", "/carts/7/items", "", "203.0.113.77",
        '{"sku": "tea-001", "qty": 2}', "https://api.example.org/carts/7/items",
        "multiValueHeaders",
    ),
    "apigw_http_v2_jwt.json": (
        "apigateway-v2", "POST", "", "/notes", "draft=true&tag=a&tag=b", "192.0.2.61",
        '{"title": "groceries", "n": 3}', f"{HTTP}/notes?draft=true&tag=a&tag=b", "headers",
    ),
    "apigw_http_v2_lambda_authorizer.json": (
        "apigateway-v2", "GET", "", "/reports/2024", "format=csv", "192.0.2.62", "",
        f"{HTTP}/reports/2024?format=csv", "headers",
    ),
    "function_url.json": (
        "function-url", "GET", "", "/", "", "198.51.100.90", "", f"{URL}/", "headers",
    ),
    "function_url_iam.json": (
        "function-url", "POST", "", "/hooks/build", "ref=main", "198.51.100.91",
        "build please", f"{URL}/hooks/build?ref=main", "headers",
    ),
    "alb.json": (
        "alb", "PUT", "", "/profile", "lang=fr&q=a%20b", "203.0.113.5",
        "name=Ada&city=Paris", f"http://{ALB}/profile?lang=fr&q=a%20b", "headers",
    ),
    "alb_multi_value.json": (
        "alb", "GET", "", "/search", "tag=x&tag=y&page=2", "203.0.113.6", "",
        f"https://{ALB}/search?tag=x&tag=y&page=2", "multiValueHeaders",
    ),
}

OTHER_EVENTS: dict[str, str] = {
    "authorizer_token.json": "authorizer",
    "authorizer_request.json": "authorizer",
    "authorizer_http_v2.json": "authorizer",
    "cloudwatch_logs.json": "cloudwatch-logs",
    "dynamodb_stream.json": "dynamodb",
    "eventbridge.json": "eventbridge",
    "kinesis.json": "kinesis",
    "s3.json": "s3",
    "s3_eventbridge.json": "eventbridge",
    "s3_via_sqs.json": "sqs",
    "scheduled_rule.json": "schedule",
    "sns.json": "sns",
    "sns_via_sqs.json": "sqs",
    "sqs.json": "sqs",
    "sqs_dlq.json": "sqs",
}


def test_every_event_kind_aloft_supports_has_a_fixture() -> None:
    covered = {infer(json.loads(p.read_text())) for p in FIXTURE_EVENTS.glob("*.json")}
    assert set(SOURCES) <= covered
    named = {HTTP_EVENTS[n][0] for n in HTTP_EVENTS} | set(OTHER_EVENTS.values())
    assert {s.name for s in SOURCES} - named == {"keep-warm-rule"}  # see test_runtime_dispatch


@pytest.mark.parametrize("name", sorted(HTTP_EVENTS))
def test_http_event_reaches_the_app(name: str, deploy: Any) -> None:
    source, method, script, path, query, remote, body, url, headers_key = HTTP_EVENTS[name]
    deploy({"echo": ECHO_APP}, app="echo:app")
    event = load_event(name)
    context = object()
    assert infer(event) is not None and infer(event).name == source  # type: ignore[union-attr]

    result = runtime.handler(event, context)

    assert result["statusCode"] == 200
    assert result["isBase64Encoded"] is False
    assert headers_key in result
    seen = json.loads(result["body"])
    assert (seen["method"], seen["path_info"], seen["query"]) == (method, path, query)
    assert seen["script_name"] == script
    assert seen["remote_addr"] == remote
    assert seen["body"] == body
    assert seen["url"] == url
    environ = user_module("echo").LAST["environ"]
    assert environ["SERVER_NAME"].lower() == urlsplit(url).hostname
    assert environ["wsgi.url_scheme"] == urlsplit(url).scheme
    assert environ["aloft.event"] is event
    assert environ["aloft.context"] is context
    assert environ["CONTENT_LENGTH"] == str(len(body.encode()))
    if source in ("apigateway-v2", "function-url"):
        assert result["headers"]["content-type"] == "application/json"
        assert result["headers"]["content-length"] == str(len(result["body"]))
    elif headers_key == "multiValueHeaders":
        assert result["multiValueHeaders"]["Content-Type"] == ["application/json"]
    else:
        assert result["headers"]["Content-Type"] == "application/json"
    if source == "alb":
        assert result["statusDescription"] == "200 OK"


def _seen(name: str) -> dict[str, Any]:
    return json.loads(runtime.handler(load_event(name), None)["body"])  # type: ignore[no-any-return]


def test_rest_headers_query_and_authorizer_reach_the_app(deploy: Any) -> None:
    deploy({"echo": ECHO_APP}, app="echo:app")
    seen = _seen("apigw_rest_proxy.json")
    assert seen["headers"]["x-tag"] == "red, blue"  # a multi-value header, joined
    assert seen["headers"]["cloudfront-viewer-country"] == "FR"
    assert seen["args"] == {"status": ["open", "shipped"], "limit": ["5"]}
    assert seen["remote_user"] is None

    authorized = _seen("apigw_rest_authorized.json")
    assert authorized["remote_user"] == "user-81"
    assert authorized["headers"]["content-type"] == "application/json"
    environ = user_module("echo").LAST["environ"]
    assert environ["aloft.authorizer"]["plan"] == "gold"


def test_http_api_cookies_headers_and_authorizers_reach_the_app(deploy: Any) -> None:
    deploy({"echo": ECHO_APP}, app="echo:app")
    seen = _seen("apigw_http_v2_jwt.json")
    assert seen["headers"]["cookie"] == "session=s3ss10n; theme=dark"
    assert seen["headers"]["x-tag"] == "red,blue"
    assert seen["args"] == {"draft": ["true"], "tag": ["a", "b"]}
    assert seen["remote_user"] == "u-1234"  # the JWT's subject
    environ = user_module("echo").LAST["environ"]
    assert environ["aloft.authorizer"]["jwt"]["scopes"] == ["notes:write"]

    assert _seen("apigw_http_v2_lambda_authorizer.json")["remote_user"] == "svc-reports"


def test_function_url_base64_body_is_decoded(deploy: Any) -> None:
    deploy({"echo": ECHO_APP}, app="echo:app")
    seen = _seen("function_url_iam.json")
    assert seen["body"] == "build please"
    assert seen["headers"]["content-type"] == "text/plain"


def test_alb_multi_value_headers_joined(deploy: Any) -> None:
    deploy({"echo": ECHO_APP}, app="echo:app")
    seen = _seen("alb_multi_value.json")
    assert seen["headers"]["x-tag"] == "red, blue"
    assert seen["args"] == {"tag": ["x", "y"], "page": ["2"]}
    assert _seen("alb.json")["args"] == {"lang": ["fr"], "q": ["a b"]}


@pytest.mark.parametrize("name", sorted(OTHER_EVENTS))
def test_other_event_reaches_the_function_untouched(name: str, deploy: Any) -> None:
    deploy({"recorder": RECORDER}, handlers={"worker": "recorder.handle"})
    event = load_event(name)
    assert infer(event).name == OTHER_EVENTS[name]  # type: ignore[union-attr]
    context = object()

    assert runtime.handler(event, context) == {"handled": 1}

    [(got_event, got_context)] = user_module("recorder").CALLS
    assert got_event is event and got_context is context


@pytest.mark.parametrize(
    "name", [n for n, s in OTHER_EVENTS.items() if s in ("sqs", "kinesis", "dynamodb")]
)
def test_batch_events_each_record_with_partial_failure_report(name: str, deploy: Any) -> None:
    deploy({"recorder": RECORDER}, handlers={"worker": "recorder.each"}, records="each")
    event = load_event(name)

    assert runtime.handler(event, None) == {"batchItemFailures": []}

    records = [record for record, _ in user_module("recorder").CALLS]
    assert records == event["Records"]


@pytest.mark.parametrize("name", sorted(OTHER_EVENTS))
def test_non_http_event_sent_to_the_app_is_refused_clearly(name: str, deploy: Any) -> None:
    deploy({"echo": ECHO_APP}, app="echo:app")
    with pytest.raises(UnsupportedEvent, match="serves the app over HTTP"):
        runtime.handler(load_event(name), None)
    assert user_module("echo").LAST == {}
