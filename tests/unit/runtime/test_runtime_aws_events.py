"""Every real AWS payload in shared/aws-events goes through the entry point: HTTP ones reach a
Flask app as the right WSGI request, the others reach a recording function untouched."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from aloft.runtime import handler as runtime
from aloft.runtime.errors import UnsupportedEvent
from aloft.runtime.sources import infer
from tests.unit.runtime.runtime_helpers import (
    AWS_EVENTS,
    ECHO_APP,
    RECORDER,
    load_event,
    user_module,
)

V1_QUERY = "parameter1=value1&parameter1=value2&parameter2=value"

# file -> (source, method, PATH_INFO, QUERY_STRING, REMOTE_ADDR, body, url, response headers key)
HTTP_EVENTS: dict[str, tuple[str, str, str, str, str, str, str, str]] = {
    "albEvent.json": (
        "alb", "GET", "/lambda", "query=1234ABCD", "72.12.164.125", "Test",
        "http://lambda-alb-123578498.us-east-2.elb.amazonaws.com/lambda?query=1234ABCD",
        "headers",
    ),
    "albMultiValueHeadersEvent.json": (
        "alb", "GET", "/todos", "", "123.123.123.123", "",
        "http://alb-c-loadb-14pofkyclbnsf-1815800096.eu-central-1.elb.amazonaws.com/todos",
        "multiValueHeaders",
    ),
    "albMultiValueQueryStringEvent.json": (
        "alb", "GET", "/todos", V1_QUERY, "123.123.123.123", "",
        "http://alb-c-loadb-14pofkyclbnsf-1815800096.eu-central-1.elb.amazonaws.com/todos?"
        + V1_QUERY,
        "multiValueHeaders",
    ),
    "apiGatewayProxyEvent.json": (
        "apigateway-v1", "GET", "/my/path", V1_QUERY, "192.168.0.1", "Hello from Lambda!",
        "https://id.execute-api.us-east-1.amazonaws.com/my/path?" + V1_QUERY,
        "multiValueHeaders",
    ),
    # These two flag a plain-text body as base64: it is served as sent.
    "apiGatewayProxyEventAnotherPath.json": (
        "apigateway-v1", "GET", "/my/anotherPath", V1_QUERY, "192.168.0.1",
        "Hello from Lambda!",
        "https://id.execute-api.us-east-1.amazonaws.com/my/anotherPath?" + V1_QUERY,
        "multiValueHeaders",
    ),
    "apiGatewayProxyEventPathTrailingSlash.json": (
        "apigateway-v1", "GET", "/my/path/", V1_QUERY, "192.168.0.1", "Hello from Lambda!",
        "https://id.execute-api.us-east-1.amazonaws.com/my/path/?" + V1_QUERY,
        "multiValueHeaders",
    ),
    "apiGatewayProxyEventPrincipalId.json": (
        "apigateway-v1", "POST", "/trip", "", "127.0.0.1", "", "https://localhost/trip",
        "headers",
    ),
    "apiGatewayProxyV2Event.json": (
        "apigateway-v2", "POST", "/my/path", V1_QUERY, "192.168.0.1",
        '{"message": "hello world", "username": "tom"}',
        "https://id.execute-api.us-east-1.amazonaws.com/my/path?" + V1_QUERY, "headers",
    ),
    "apiGatewayProxyV2EventPathTrailingSlash.json": (
        "apigateway-v2", "POST", "/my/path/", V1_QUERY, "192.168.0.1",
        '{"message": "hello world", "username": "tom"}',
        "https://id.execute-api.us-east-1.amazonaws.com/my/path/?" + V1_QUERY, "headers",
    ),
    "apiGatewayProxyV2Event_GET.json": (
        "apigateway-v2", "GET", "/my/path", V1_QUERY, "192.168.0.1", "",
        "https://id.execute-api.us-east-1.amazonaws.com/my/path?" + V1_QUERY, "headers",
    ),
    "apiGatewayProxyV2IamEvent.json": (
        "apigateway-v2", "GET", "/my/path", V1_QUERY, "192.168.0.1", '{\r\n\t"a": 1\r\n}',
        "https://id.execute-api.us-east-1.amazonaws.com/my/path?" + V1_QUERY, "headers",
    ),
    "apiGatewayProxyV2LambdaAuthorizerEvent.json": (
        "apigateway-v2", "GET", "/my/path", V1_QUERY, "192.168.0.1", '{\r\n\t"a": 1\r\n}',
        "https://id.execute-api.us-east-1.amazonaws.com/my/path?" + V1_QUERY, "headers",
    ),
    "apiGatewayProxyV2OtherGetEvent.json": (
        "apigateway-v2", "GET", "/other/path", V1_QUERY, "192.168.0.1", "",
        "https://id.execute-api.us-east-1.amazonaws.com/other/path?" + V1_QUERY, "headers",
    ),
    "lambdaFunctionUrlEvent.json": (
        "function-url", "GET", "/", "", "123.123.123.123", "",
        "https://<url-id>.lambda-url.us-east-1.on.aws/", "headers",
    ),
    "lambdaFunctionUrlEventWithHeaders.json": (
        "function-url", "GET", "/", "", "123.123.123.123", "",
        "https://<url-id>.lambda-url.us-east-1.on.aws/", "headers",
    ),
    "lambdaFunctionUrlIAMEvent.json": (
        "function-url", "POST", "/my/path", V1_QUERY, "123.123.123.123", "Hello from client!",
        "https://<url-id>.lambda-url.us-west-2.on.aws/my/path?" + V1_QUERY, "headers",
    ),
}

OTHER_EVENTS: dict[str, str] = {
    "apiGatewayAuthorizerRequestEvent.json": "authorizer",
    "apiGatewayAuthorizerTokenEvent.json": "authorizer",
    "apiGatewayAuthorizerV2Event.json": "authorizer",
    "cloudWatchLogEvent.json": "cloudwatch-logs",
    "dynamoStreamEvent.json": "dynamodb",
    "eventBridgeEvent.json": "eventbridge",
    "kinesisStreamEvent.json": "kinesis",
    "s3Event.json": "s3",
    "s3EventBridgeNotificationObjectCreatedEvent.json": "eventbridge",
    "s3EventDecodedKey.json": "s3",
    "s3SqsEvent.json": "sqs",
    "snsEvent.json": "sns",
    "snsSqsEvent.json": "sqs",
    "sqsDlqTriggerEvent.json": "sqs",
    "sqsEvent.json": "sqs",
}


def test_every_shared_event_is_covered() -> None:
    files = {p.name for p in AWS_EVENTS.glob("*.json")}
    assert files == set(HTTP_EVENTS) | set(OTHER_EVENTS)


@pytest.mark.parametrize("name", sorted(HTTP_EVENTS))
def test_http_event_reaches_the_app(name: str, deploy: Any) -> None:
    source, method, path, query, remote, body, url, headers_key = HTTP_EVENTS[name]
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
    assert seen["script_name"] == ""
    assert seen["remote_addr"] == remote
    assert seen["body"] == body
    environ = user_module("echo").LAST["environ"]
    assert environ["SERVER_NAME"].lower() == urlsplit(url).hostname
    assert environ["wsgi.url_scheme"] == urlsplit(url).scheme
    if "<" not in url:  # werkzeug refuses the sample's placeholder host '<url-id>...'
        assert seen["url"] == url
    assert environ["aloft.event"] is event
    assert environ["aloft.context"] is context
    assert environ["CONTENT_LENGTH"] == str(len(body.encode()))
    content_type = (
        result["headers"]["content-type"] if "headers" in result and source != "alb"
        and source != "apigateway-v1" else None
    )
    if source.startswith("apigateway-v2") or source == "function-url":
        assert content_type == "application/json"
        assert result["headers"]["content-length"] == str(len(result["body"]))
    elif headers_key == "multiValueHeaders":
        assert result["multiValueHeaders"]["Content-Type"] == ["application/json"]
    else:
        assert result["headers"]["Content-Type"] == "application/json"
    if source == "alb":
        assert result["statusDescription"] == "200 OK"


def test_v1_headers_and_authorizer_reach_the_app(deploy: Any) -> None:
    deploy({"echo": ECHO_APP}, app="echo:app")
    seen = json.loads(runtime.handler(load_event("apiGatewayProxyEvent.json"), None)["body"])
    assert seen["headers"]["header2"] == "value1, value2"  # multi-value header joined
    assert seen["headers"]["origin"] == "https://aws.amazon.com"
    assert seen["args"] == {"parameter1": ["value1", "value2"], "parameter2": ["value"]}

    principal = json.loads(
        runtime.handler(load_event("apiGatewayProxyEventPrincipalId.json"), None)["body"]
    )
    assert principal["remote_user"] == "fake"
    environ = user_module("echo").LAST["environ"]
    assert environ["aloft.authorizer"]["user_id"] == "fake_username"


def test_v2_cookies_and_headers_reach_the_app(deploy: Any) -> None:
    deploy({"echo": ECHO_APP}, app="echo:app")
    seen = json.loads(runtime.handler(load_event("apiGatewayProxyV2Event.json"), None)["body"])
    assert seen["headers"]["cookie"] == "cookie1; cookie2"
    assert seen["headers"]["header2"] == "value1,value2"
    assert seen["args"]["parameter1"] == ["value1", "value2"]
    environ = user_module("echo").LAST["environ"]
    assert environ["aloft.authorizer"]["jwt"]["claims"]["claim1"] == "value1"


def test_alb_multi_value_headers_joined(deploy: Any) -> None:
    deploy({"echo": ECHO_APP}, app="echo:app")
    event = load_event("albMultiValueQueryStringEvent.json")
    seen = json.loads(runtime.handler(event, None)["body"])
    assert seen["headers"]["header2"] == "value1, value2"
    assert seen["headers"]["user-agent"] == "curl/7.79.1"


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
