"""HTTP records shared by every HTTP event source and by the WSGI and ASGI bridges.

The request record is the PEP 3333 environ: an event source builds it in one pass over its event
(the WSGI bridge hands it to the app as is; the ASGI bridge derives its scope from it). The app's
answer is an `HttpResponse` (a NamedTuple), which the source turns into the dict its service
expects. This is the per-request hot path: one dict display, one loop over the headers, no
regexes and no intermediate copies.
"""

from __future__ import annotations

import base64
import binascii
import http
import json
import sys
from collections.abc import Iterable
from io import BytesIO
from typing import Any, NamedTuple, Protocol
from urllib.parse import unquote

REASONS: dict[int, str] = {s.value: f"{s.value} {s.phrase}" for s in http.HTTPStatus}
"""Status line texts, e.g. 404 -> '404 Not Found' (ALB's statusDescription)."""


Environ = dict[str, Any]
"""A WSGI environ, plus `aloft.event`, `aloft.context` and, with an authorizer,
`aloft.authorizer` / `API_GATEWAY_AUTHORIZER` (the key Zappa apps read)."""


class HttpResponse(NamedTuple):
    status: int
    headers: list[tuple[str, str]]  # in the app's order and casing, repeats kept
    body: bytes


class AppBridge(Protocol):
    """What the handler needs of an app, WSGI or ASGI."""

    def start(self) -> None:
        """Once per instance, in the init phase (ASGI lifespan startup)."""

    def serve(self, environ: Environ) -> HttpResponse: ...

    def close(self) -> None:
        """When the instance goes away (ASGI lifespan shutdown)."""


def error_response(status: int, message: str, traceback_text: str | None = None) -> HttpResponse:
    """A JSON error answer: `{"message": ...}`, plus the traceback only when debugging."""
    data: dict[str, str] = {"message": message}
    if traceback_text is not None:
        data["traceback"] = traceback_text
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(data).encode())


_WSGI_VERSION = (1, 0)
_KEY_CACHE_LIMIT = 2048
_HEADER_KEYS: dict[str, str] = {}
"""Header name as received -> environ key, memoised: names repeat from request to request."""


def header_key(name: str) -> str:
    """`X-Forwarded-For` -> `HTTP_X_FORWARDED_FOR`; Content-Type/-Length lose the prefix."""
    upper = name.upper().replace("-", "_")
    key = upper if upper in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + upper
    if len(_HEADER_KEYS) < _KEY_CACHE_LIMIT:
        _HEADER_KEYS[name] = key
    return key


def _latin1(text: str) -> str:
    """PEP 3333 'bytes as str': the UTF-8 bytes of a decoded path, one character per byte."""
    return text.encode("utf-8").decode("latin-1")


class Request(NamedTuple):
    """One HTTP request as an event source read it: what `build_environ` needs. `headers` may
    use any case; `script` and `path` are percent-decoded. A NamedTuple, as `HttpResponse`:
    one is made per request."""

    method: str
    script: str  # SCRIPT_NAME: where the app is mounted (an API stage, a base path)
    path: str  # PATH_INFO: below the mount
    query: str
    headers: dict[str, str]
    body: bytes
    source_ip: str | None  # the client, when the event says (X-Forwarded-For wins)
    domain: str | None  # the API's domain, when the Host header is absent
    event: Any
    context: Any
    authorizer: dict[str, Any] | None = None


def build_environ(request: Request) -> Environ:
    """The environ of one request. Host, port and scheme come from the headers API Gateway and
    ALBs set (Host, X-Forwarded-Proto/-Port), the client from X-Forwarded-For's first entry."""
    method, script, path, query, headers, body, source_ip, domain, event, context, authorizer = (
        request
    )
    environ: Environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": script if script.isascii() else _latin1(script),
        "PATH_INFO": path if path.isascii() else _latin1(path),
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.version": _WSGI_VERSION,
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "aloft.event": event,
        "aloft.context": context,
    }
    keys = _HEADER_KEYS
    for name, value in headers.items():
        environ[keys.get(name) or header_key(name)] = value
    scheme, host, port, remote = addresses(environ, domain, source_ip)
    environ["wsgi.url_scheme"] = scheme
    environ["SERVER_NAME"] = host
    environ["SERVER_PORT"] = port
    environ["REMOTE_ADDR"] = remote
    environ["CONTENT_LENGTH"] = str(len(body)) if body else "0"
    if authorizer:
        environ["aloft.authorizer"] = authorizer
        environ["API_GATEWAY_AUTHORIZER"] = authorizer
        user = remote_user(authorizer)
        if user:
            environ["REMOTE_USER"] = user
    return environ


def addresses(
    keyed: dict[str, Any], domain: str | None, source_ip: str | None
) -> tuple[str, str, str, str]:
    """(scheme, host, port, client) of a request whose headers `keyed` holds by environ key."""
    get = keyed.get
    scheme = get("HTTP_X_FORWARDED_PROTO") or "https"
    host = get("HTTP_HOST") or domain or "localhost"
    if ":" in host and not host.endswith("]"):
        host, _, port = host.rpartition(":")
    else:
        port = get("HTTP_X_FORWARDED_PORT") or ("443" if scheme == "https" else "80")
    forwarded = get("HTTP_X_FORWARDED_FOR")
    if forwarded:  # the first entry is the client; later ones are proxies
        remote = forwarded.split(",", 1)[0].strip()
    elif source_ip:
        remote = source_ip.split("/", 1)[0]  # some payloads carry a CIDR suffix
    else:
        remote = "127.0.0.1"
    return scheme, host, port, remote


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


def request_body(body: str | None, is_base64: bool | None) -> bytes:
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

    __slots__ = ("_all", "_exact", "_memo", "_prefixes")

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
        self._memo: dict[str, bool] = {}  # Content-Type value -> binary? (values repeat)

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
        if content_encoding is None and content_type is not None:
            binary = self._memo.get(content_type)
            if binary is None:
                binary = self.is_binary(content_type, None)
                if len(self._memo) < 256:
                    self._memo[content_type] = binary
        else:
            binary = self.is_binary(content_type, content_encoding)
        if not binary:
            try:
                return body.decode("utf-8"), False
            except UnicodeDecodeError:
                pass  # declared as text but is not: bytes must survive, so base64 it
        return base64.b64encode(body).decode("ascii"), True


def remote_user(authorizer: dict[str, Any]) -> str | None:
    """The authenticated principal: a Lambda authorizer's principalId, else the `sub` claim
    of a JWT (HTTP API) or Cognito (REST API) authorizer."""
    user = authorizer.get("principalId")
    if not user:
        inner = authorizer.get("lambda")
        if inner:
            user = inner.get("principalId") or inner.get("sub")
        else:
            jwt = authorizer.get("jwt")
            claims = jwt.get("claims") if jwt else authorizer.get("claims")
            if claims:
                user = claims.get("sub")
    return str(user) if user else None
