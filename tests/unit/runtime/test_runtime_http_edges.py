"""HTTP edge cases from tests/fixtures/events: binary bodies both ways, repeated Set-Cookie per
response shape, multi-value queries, mount prefixes, gzip, HEAD, empty bodies, unicode paths."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from aloft.runtime import handler as runtime
from tests.unit.runtime.runtime_helpers import ECHO_APP, load_event, user_module


@pytest.fixture
def echo(deploy: Any) -> Any:
    deploy({"echo": ECHO_APP}, app="echo:app")
    return user_module("echo")


def _seen(result: dict[str, Any]) -> dict[str, Any]:
    assert result["statusCode"] == 200, result
    return json.loads(result["body"])  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", ["v2_binary_post.json", "v1_binary_post.json"])
def test_binary_request_and_response_bodies(name: str, echo: Any) -> None:
    event = load_event(name)
    result = runtime.handler(event, None)
    assert echo.LAST["body"] == base64.b64decode(event["body"])  # the app got the bytes
    assert result["isBase64Encoded"] is True  # image/png matches binary_types image/*
    assert base64.b64decode(result["body"]) == bytes(range(256))


def test_text_body_that_is_not_utf8_is_still_base64(deploy: Any) -> None:
    deploy({"latin": (
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain; charset=latin-1')])\n"
        "    return [b'caf\\xe9']\n")}, app="latin:app")
    result = runtime.handler(load_event("v2_head.json") | {"requestContext": {
        **load_event("v2_head.json")["requestContext"], "http": {"method": "GET"}}}, None)
    assert result["isBase64Encoded"] is True
    assert base64.b64decode(result["body"]) == b"caf\xe9"


def test_gzip_response_is_base64_whatever_its_type(echo: Any) -> None:
    result = runtime.handler(load_event("v2_gzip.json"), None)
    assert result["headers"]["content-encoding"] == "gzip"
    assert result["headers"]["content-type"].startswith("text/plain")
    assert result["isBase64Encoded"] is True
    assert gzip.decompress(base64.b64decode(result["body"])) == b"hello " * 20


def test_v2_repeated_set_cookie_goes_to_cookies(echo: Any) -> None:
    result = runtime.handler(load_event("v2_cookies.json"), None)
    assert result["cookies"] == ["a=1; Path=/", "b=2; Path=/"]
    assert "set-cookie" not in result["headers"]
    assert result["headers"]["x-repeat"] == "one, two"
    assert echo.LAST["environ"]["HTTP_COOKIE"] == "session=abc"


def test_v1_with_multi_value_request_answers_multi_value(echo: Any) -> None:
    result = runtime.handler(load_event("v1_cookies.json"), None)
    headers = result["multiValueHeaders"]
    assert headers["Set-Cookie"] == ["a=1; Path=/", "b=2; Path=/"]
    assert headers["X-Repeat"] == ["one", "two"]
    assert "headers" not in result


def test_v1_without_multi_value_request_keeps_repeats(echo: Any) -> None:
    result = runtime.handler(load_event("v1_cookies_single_headers.json"), None)
    assert result["headers"]["Content-Type"].startswith("text/plain")
    assert result["multiValueHeaders"] == {
        "Set-Cookie": ["a=1; Path=/", "b=2; Path=/"],
        "X-Repeat": ["one", "two"],
    }


def test_alb_multi_value_cookies_status_description_and_raw_query(echo: Any) -> None:
    result = runtime.handler(load_event("alb_cookies_multi.json"), None)
    assert result["statusDescription"] == "200 OK"
    assert result["multiValueHeaders"]["Set-Cookie"] == ["a=1; Path=/", "b=2; Path=/"]
    environ = echo.LAST["environ"]
    assert environ["QUERY_STRING"] == "q=a%20b&q=c"  # ALB does not decode: passed as sent
    assert environ["REMOTE_ADDR"] == "192.0.2.44"


def test_v1_multi_value_query_is_encoded(echo: Any) -> None:
    seen = _seen(runtime.handler(load_event("v1_multi_query.json"), None))
    assert seen["query"] == "q=a+b&q=c%26d&lang=%C3%BC"
    assert seen["args"] == {"q": ["a b", "c&d"], "lang": ["ü"]}


def test_v2_stage_prefix_becomes_script_name(echo: Any) -> None:
    seen = _seen(runtime.handler(load_event("v2_stage_prefix.json"), None))
    assert (seen["script_name"], seen["path_info"]) == ("/prod", "/items/42")
    assert seen["url"] == "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/items/42?expand=true"
    assert seen["remote_addr"] == "203.0.113.9"  # first X-Forwarded-For entry


def test_v1_stage_and_custom_domain_base_path(echo: Any) -> None:
    seen = _seen(runtime.handler(load_event("v1_stage_prefix.json"), None))
    assert (seen["script_name"], seen["path_info"]) == ("/prod", "/items")
    assert seen["url_root"] == "https://api.example.com/prod/"
    seen = _seen(runtime.handler(load_event("v1_custom_domain_base_path.json"), None))
    assert (seen["script_name"], seen["path_info"]) == ("/api", "/items")


def test_aloft_base_path_moves_into_script_name(deploy: Any) -> None:
    deploy({"echo": ECHO_APP}, app="echo:app", env={"ALOFT_BASE_PATH": "/svc/dev/"})
    seen = _seen(runtime.handler(load_event("v2_base_path.json"), None))
    assert (seen["script_name"], seen["path_info"]) == ("/svc/dev", "/items")
    assert seen["url"] == "https://abc123.execute-api.eu-west-1.amazonaws.com/svc/dev/items"
    # A path outside the base path is left alone.
    seen = _seen(runtime.handler(load_event("v2_gzip.json") | {"rawPath": "/svc/other"}, None))
    assert (seen["script_name"], seen["path_info"]) == ("", "/svc/other")


def test_head_has_no_body_but_keeps_length(echo: Any) -> None:
    result = runtime.handler(load_event("v2_head.json"), None)
    assert result["statusCode"] == 200
    assert result["body"] == "" and result["isBase64Encoded"] is False
    assert int(result["headers"]["content-length"]) > 0
    assert echo.LAST["environ"]["REQUEST_METHOD"] == "HEAD"


def test_empty_body(echo: Any) -> None:
    seen = _seen(runtime.handler(load_event("v2_empty_post.json"), None))
    assert seen["method"] == "POST" and seen["body"] == ""
    assert echo.LAST["environ"]["CONTENT_LENGTH"] == "0"
    assert echo.LAST["environ"]["CONTENT_TYPE"] == "application/json"


def test_unicode_path_is_percent_decoded(echo: Any) -> None:
    seen = _seen(runtime.handler(load_event("v2_unicode_path.json"), None))
    assert seen["path"] == "/café/✓"
    assert seen["args"] == {"q": ["ü"]}
    # PEP 3333: PATH_INFO carries the UTF-8 bytes as latin-1 characters.
    assert echo.LAST["environ"]["PATH_INFO"] == "/café/✓".encode().decode("latin-1")
    assert seen["url"].endswith("/café/✓?q=ü")  # werkzeug shows the IRI


def test_v1_encoded_path_below_the_stage(echo: Any) -> None:
    event = load_event("v1_stage_prefix.json")
    event["path"] = "/caf%C3%A9/x%20y"
    event["requestContext"]["path"] = "/prod/caf%C3%A9/x%20y"
    seen = _seen(runtime.handler(event, None))
    assert (seen["script_name"], seen["path"]) == ("/prod", "/café/x y")
