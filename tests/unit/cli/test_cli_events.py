from __future__ import annotations

import pytest

from aloft.cli.events import http_event, manage_event, parse_headers, raw_event
from aloft.errors import UsageError


def test_http_event_is_an_http_api_v2_request() -> None:
    event = http_event("/items?tag=a&tag=b&q=", "post", headers={"cookie": "a=1; b=2"},
                       body='{"x": 1}')
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/items"
    assert event["rawQueryString"] == "tag=a&tag=b&q="
    assert event["queryStringParameters"] == {"tag": "a,b", "q": ""}
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["http"]["path"] == "/items"
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["body"] == '{"x": 1}' and event["isBase64Encoded"] is False


def test_binary_body_is_base64() -> None:
    event = http_event("upload", "PUT", body=b"\xff\x00")
    assert event["rawPath"] == "/upload"
    assert event["isBase64Encoded"] is True and event["body"] == "/wA="


def test_headers_are_lower_case_and_repeated_ones_joined() -> None:
    assert parse_headers(["Accept: text/html", "X-A: 1", "x-a: 2"]) == {
        "accept": "text/html", "x-a": "1,2",
    }
    with pytest.raises(UsageError):
        parse_headers(["no colon here"])


def test_command_envelopes() -> None:
    assert raw_event("print(1)") == {"aloft": "raw", "source": "print(1)"}
    assert manage_event(("migrate", "--noinput")) == {
        "aloft": "manage", "args": ["migrate", "--noinput"],
    }
