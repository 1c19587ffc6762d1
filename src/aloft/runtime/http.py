"""HTTP records shared by every HTTP event source and by the WSGI and ASGI bridges.

An event source turns its event into an `HttpRequest`; the app bridge turns the app's answer into
an `HttpResponse`; the source turns that into the dict its service expects. Both records are
NamedTuples: immutable and cheap to build on the per-request hot path.
"""

from __future__ import annotations

import base64
import binascii
import http
import json
from collections.abc import Iterable
from typing import Any, NamedTuple
from urllib.parse import unquote

REASONS: dict[int, str] = {s.value: f"{s.value} {s.phrase}" for s in http.HTTPStatus}
"""Status line texts, e.g. 404 -> '404 Not Found' (ALB's statusDescription)."""


class HttpRequest(NamedTuple):
    method: str
    script_name: str  # decoded mount prefix: API stage or ALOFT_BASE_PATH ('' when none)
    path: str  # decoded path below script_name, starts with '/'
    query_string: str  # raw, percent-encoded, without '?'
    headers: dict[str, str]  # lower-case names; repeated headers joined as HTTP allows
    body: bytes
    remote_addr: str
    scheme: str
    host: str
    port: str
    multi_value: bool  # the request used multi-value headers: the response must too
    authorizer: dict[str, Any] | None = None  # requestContext.authorizer, when there is one


class HttpResponse(NamedTuple):
    status: int
    headers: list[tuple[str, str]]  # in the app's order and casing, repeats kept
    body: bytes


def error_response(status: int, message: str, traceback_text: str | None = None) -> HttpResponse:
    """A JSON error answer: `{"message": ...}`, plus the traceback only when debugging."""
    data: dict[str, str] = {"message": message}
    if traceback_text is not None:
        data["traceback"] = traceback_text
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(data).encode())


def decode_path(raw: str) -> str:
    """Percent-decode a path (only when it has escapes: the common case costs one scan)."""
    return unquote(raw) if "%" in raw else raw


def split_prefix(path: str, prefix: str) -> str | None:
    """`path` below `prefix` when it starts with it on a segment boundary, else None."""
    if not prefix or not path.startswith(prefix):
        return None
    rest = path[len(prefix):]
    if not rest:
        return "/"
    return rest if rest[0] == "/" else None


def request_body(body: str | None, is_base64: bool) -> bytes:
    if not body:
        return b""
    if is_base64:
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error:
            pass  # flagged base64 but is not (seen in test payloads): serve it as sent
    return body.encode("utf-8")


class BinaryTypes:
    """Decides whether a response body goes base64-encoded, from `binary_types` patterns
    (`image/*`, `application/pdf`, `*/*`) and Content-Encoding. Compiled once per instance."""

    __slots__ = ("_all", "_exact", "_prefixes")

    def __init__(self, patterns: Iterable[str]) -> None:
        exact: set[str] = set()
        prefixes: list[str] = []
        self._all = False
        for raw in patterns:
            pattern = raw.strip().lower()
            if pattern in ("*/*", "*"):
                self._all = True
            elif pattern.endswith("/*"):
                prefixes.append(pattern[:-1])
            elif pattern:
                exact.add(pattern)
        self._exact = frozenset(exact)
        self._prefixes = tuple(prefixes)

    def is_binary(self, content_type: str | None, content_encoding: str | None) -> bool:
        if content_encoding and content_encoding.lower() != "identity":
            return True  # gzip/br bodies are bytes whatever their content type says
        if self._all:
            return True
        if not content_type:
            return False
        mime = content_type.split(";", 1)[0].strip().lower()
        return mime in self._exact or mime.startswith(self._prefixes)

    def encode(self, response: HttpResponse) -> tuple[str, bool]:
        """The response body as the event's `body` string and its `isBase64Encoded` flag."""
        if not response.body:
            return "", False
        content_type = content_encoding = None
        for name, value in response.headers:
            lower = name.lower()
            if lower == "content-type":
                content_type = value
            elif lower == "content-encoding":
                content_encoding = value
        return self.encode_body(response.body, content_type, content_encoding)

    def encode_body(
        self, body: bytes, content_type: str | None, content_encoding: str | None
    ) -> tuple[str, bool]:
        """`encode` for a caller that already found the two headers."""
        if not body:
            return "", False
        if not self.is_binary(content_type, content_encoding):
            try:
                return body.decode("utf-8"), False
            except UnicodeDecodeError:
                pass  # declared as text but is not: bytes must survive, so base64 it
        return base64.b64encode(body).decode("ascii"), True


def remote_user(authorizer: dict[str, Any]) -> str | None:
    """The authenticated principal: a Lambda authorizer's principalId, else a JWT's or
    Cognito's `sub` claim."""
    principal = authorizer.get("principalId")
    if principal:
        return str(principal)
    jwt = authorizer.get("jwt") or {}
    for claims in (authorizer.get("lambda"), jwt.get("claims"), authorizer.get("claims")):
        if claims:
            sub = claims.get("principalId") or claims.get("sub")
            if sub:
                return str(sub)
    return None
