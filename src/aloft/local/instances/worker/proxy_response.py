"""API Gateway's reading of a Lambda proxy integration result: status, headers, body.

Standard library only: the gateway uses it through http/proxy_integration.py, and instances load
it by path (like protocol.py) to answer HTTP requests with a ready response instead of a JSON
result that the gateway would parse again.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

Response = tuple[int, list[tuple[str, str]], bytes]


class MalformedResponse(ValueError):
    """The function's result is not a valid proxy integration response; the message says why."""


def _header_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise MalformedResponse(f"header {name!r} has a {type(value).__name__} value")


def proxy_response(result: Any, version: str, raw: bytes | None = None) -> Response:
    """(status, headers, body) of the HTTP response API Gateway makes of `result`, the
    function's decoded return value (`raw`: its JSON text, when the caller has it)."""
    if version == "2.0" and not (isinstance(result, dict) and "statusCode" in result):
        # HTTP API: a result without statusCode is the body of a 200 JSON response.
        data = raw if raw is not None else json.dumps(result).encode()
        return 200, [("content-type", "application/json")], data
    if not isinstance(result, dict):
        raise MalformedResponse(f"the result is a {type(result).__name__}, not an object")
    return _proxy_response(result, version)


def checked_status(status: Any) -> int:
    """The result's statusCode as API Gateway takes it, or MalformedResponse."""
    if type(status) is not int:  # exactly int: a bool (an int subclass) is refused
        if isinstance(status, str) and status.isdigit():
            status = int(status)
        else:
            raise MalformedResponse(f"statusCode {status!r} is not an HTTP status")
    if not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status!r} is not an HTTP status")
    return int(status)


def _proxy_response(result: dict[str, Any], version: str) -> Response:
    status = checked_status(result.get("statusCode"))
    headers: list[tuple[str, str]] = []
    single = result.get("headers")
    single = {} if single is None else single
    multi = result.get("multiValueHeaders")
    multi = {} if multi is None else multi
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedResponse("headers and multiValueHeaders must be objects")
    if multi:
        for name, value in single.items():
            if name not in multi:
                headers.append((name, _header_value(name, value)))
    else:  # the usual case: one value per header, already a string
        headers = [
            (name, value if type(value) is str else _header_value(name, value))
            for name, value in single.items()
        ]
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResponse(f"multiValueHeaders[{name!r}] is not a list")
        headers.extend((name, _header_value(name, v)) for v in values)
    cookies = result.get("cookies")
    if cookies:
        if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
            raise MalformedResponse("cookies must be a list of strings")
        headers.extend(("set-cookie", c) for c in cookies)
    body = result.get("body")
    if body is None:
        data = b""
    elif isinstance(body, str):
        if result.get("isBase64Encoded"):
            try:
                data = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                raise MalformedResponse("isBase64Encoded is true but body is not base64") from None
        else:
            data = body.encode()
    elif version == "2.0":
        data = json.dumps(body).encode()  # HTTP API serialises a non-string body
    else:
        raise MalformedResponse(f"body is a {type(body).__name__}, not a string")
    return status, headers, data
