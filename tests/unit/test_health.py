"""aloft.health's event and answers: what both providers send a new version, and read back."""

from __future__ import annotations

from aloft.health import INIT_PING, health_event, http_status, payload_text


def test_the_apps_check_is_a_get_as_the_api_sends_it() -> None:
    http = health_event("2.0", "health", host="h.example")
    assert (http["version"], http["rawPath"], http["requestContext"]["stage"]) == (
        "2.0", "/health", "$default")
    assert http["requestContext"]["http"]["method"] == "GET"
    assert http["headers"]["user-agent"] == "aloft-health-check"
    rest = health_event("1.0", "/up", base_path="/prod", stage="prod")
    assert (rest["path"], rest["requestContext"]["path"]) == ("/up", "/prod/up")
    assert rest["httpMethod"] == "GET" and rest["requestContext"]["stage"] == "prod"
    local = health_event("2.0", "/", base_path="/shop/dev/", stage="dev")
    assert local["rawPath"] == "/shop/dev/"
    assert INIT_PING == {"aloft": "keep_warm"}  # the runtime's keep-warm envelope


def test_answers() -> None:
    assert http_status(b'{"statusCode": 503, "body": "down"}') == 503
    assert http_status(b'{"warm": true}') is None and http_status(b"not json") is None
    assert payload_text(b'{"statusCode": 503, "body": "down"}') == "down"
    error = b'{"errorType": "KeyError", "errorMessage": "x", "stackTrace": ["  File a"]}'
    assert payload_text(error) == "  File a\nKeyError: x"
