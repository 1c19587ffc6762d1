"""HTTP requests as API Gateway events: HTTP API payload 2.0 and REST API (payload 1.0) proxy
events, as API Gateway would make them for a request to `/{service}/{stage}/...`.

Standard library only: instances load this file by path (see instance_main.py). The gateway
forwards a request in a compact form (`pack_request`) and the instance builds the event from
it, so the event is never encoded to JSON and decoded again on the request's path.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import marshal
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import unquote


class Request(Protocol):
    """What the builders read of a request (aloft.local.types.HttpRequest is one)."""

    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def query(self) -> str: ...
    @property
    def headers(self) -> Sequence[tuple[str, str]]: ...
    @property
    def body(self) -> bytes: ...
    @property
    def client(self) -> str: ...

    def header(self, name: str) -> str | None: ...


ACCOUNT_ID = "000000000000"
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/graphql",
    "+json",
    "+xml",
)


def is_text(content_type: str | None) -> bool:
    if not content_type:
        return False
    content_type = content_type.lower().split(";", 1)[0].strip()
    return any(t in content_type for t in _TEXT_TYPES)


def encode_body(body: bytes, content_type: str | None) -> tuple[str | None, bool]:
    """(body, isBase64Encoded): text bodies as they are, anything else base64."""
    if not body:
        return None, False
    if content_type is None or is_text(content_type):
        try:
            return body.decode(), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode(), True


_time_cache: tuple[int, str] = (0, "")


def request_time(now: float) -> str:
    """`12/Mar/2020:19:03:58 +0000`, cached per second (it is on every request)."""
    global _time_cache
    second = int(now)
    if _time_cache[0] != second:
        _time_cache = (second, time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(second)))
    return _time_cache[1]


def _query_params(query: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    multi: dict[str, list[str]] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        multi.setdefault(unquote(name.replace("+", " ")), []).append(
            unquote(value.replace("+", " "))
        )
    return {k: ",".join(v) for k, v in multi.items()}, multi


def _forwarded(request: Request, host: str, forwarded_for: str | None) -> list[tuple[str, str]]:
    """API Gateway's X-Forwarded-* headers (the runtime builds URLs from them); the client's own
    X-Forwarded-For is kept in front of its address, like a proxy chain."""
    port = host.rpartition(":")[2] if ":" in host else "80"
    client = request.client
    return [
        ("x-forwarded-for", f"{forwarded_for}, {client}" if forwarded_for else client),
        ("x-forwarded-port", port),
        ("x-forwarded-proto", "http"),
    ]


def build_http_event(
    request: Request,
    *,
    route_key: str,
    path_parameters: Mapping[str, str] | None,
    stage: str,
    request_id: str,
    api_id: str,
    now: float | None = None,
    trace: str = "",
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event. rawPath is the full request path, stage prefix included.
    `trace`: the X-Ray trace's Root, which API Gateway adds as `x-amzn-trace-id: Root=1-...`;
    `authorizer`: what the
    route's authorizer gave, as `requestContext.authorizer`."""
    now = time.time() if now is None else now
    headers: dict[str, str] = {}
    cookies: list[str] = []
    host = ""
    user_agent = ""
    forwarded_for = None
    for name, value in request.headers:
        name = name.lower()
        if name == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        if name == "host":
            host = value
        elif name == "user-agent":
            user_agent = value
        elif name.startswith("x-forwarded-"):
            if name == "x-forwarded-for":
                forwarded_for = value
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    host = host or "localhost"
    headers.update(_forwarded(request, host, forwarded_for))
    if trace:
        headers["x-amzn-trace-id"] = f"Root={trace}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": headers,
    }
    if cookies:
        event["cookies"] = cookies
    if request.query:
        event["queryStringParameters"] = _query_params(request.query)[0]
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.client,
            "userAgent": user_agent,
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": stage,
        "time": request_time(now),
        "timeEpoch": int(now * 1000),
    }
    if authorizer is not None:
        event["requestContext"]["authorizer"] = dict(authorizer)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    body, is_base64 = encode_body(request.body, headers.get("content-type"))
    if body is not None:
        event["body"] = body
    event["isBase64Encoded"] = is_base64
    return event


def build_rest_event(
    request: Request,
    *,
    resource: str,
    path: str,
    path_parameters: Mapping[str, str] | None,
    stage: str,
    request_id: str,
    api_id: str,
    now: float | None = None,
    trace: str = "",
    authorizer: Mapping[str, Any] | None = None,
    api_key: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """A REST API (payload 1.0) proxy event. `path` is the path within the stage; the full
    request path is `requestContext.path`, like a REST API's stage prefix. `trace` and
    `authorizer` as for build_http_event; `api_key`: the request's API key and its id
    (`identity.apiKey`, `identity.apiKeyId`)."""
    now = time.time() if now is None else now
    multi: dict[str, list[str]] = {}
    for name, value in request.headers:
        if not name.lower().startswith("x-forwarded-"):
            multi.setdefault(_title(name), []).append(value)
    host = (multi.get("Host") or ["localhost"])[0]
    forwarded_for = request.header("x-forwarded-for")
    for name, value in _forwarded(request, host, forwarded_for):
        multi[_title(name)] = [value]
    if trace:
        multi["X-Amzn-Trace-Id"] = [f"Root={trace}"]
    multi_query = _query_params(request.query)[1]
    content_type = multi["Content-Type"][0] if "Content-Type" in multi else None
    body, is_base64 = encode_body(request.body, content_type)
    user_agent = (multi.get("User-Agent") or [""])[0]
    event: dict[str, Any] = {
        "version": "1.0",
        "resource": resource,
        "path": path,
        "httpMethod": request.method,
        "headers": {k: v[-1] for k, v in multi.items()},
        "multiValueHeaders": multi,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
            "extendedRequestId": request_id,
            "httpMethod": request.method,
            "identity": {"sourceIp": request.client, "userAgent": user_agent},
            "path": request.path,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": request_time(now),
            "requestTimeEpoch": int(now * 1000),
            "resourceId": _resource_id(resource),
            "resourcePath": resource,
            "stage": stage,
        },
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "body": body,
        "isBase64Encoded": is_base64,
    }
    if authorizer is not None or api_key is not None:
        context: dict[str, Any] = event["requestContext"]
        if authorizer is not None:
            context["authorizer"] = dict(authorizer)
        if api_key is not None:
            context["identity"]["apiKey"], context["identity"]["apiKeyId"] = api_key
    return event


@functools.lru_cache(maxsize=256)
def _resource_id(resource: str) -> str:
    """A REST API resource's id: six characters, the same for one path (API Gateway's are
    random; a stable one serves the same purpose)."""
    return hashlib.sha256(resource.encode()).hexdigest()[:6]


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


class ForwardedRequest:
    """A request as an instance receives it from the gateway."""

    __slots__ = ("body", "client", "headers", "method", "path", "query")

    def __init__(
        self,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        client: str,
    ) -> None:
        self.method, self.path, self.query = method, path, query
        self.headers, self.body, self.client = headers, body, client

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


def pack_request(
    request: Request,
    *,
    payload: str,
    route: str,
    path: str,
    path_parameters: Mapping[str, str] | None,
    stage: str,
    api_id: str,
    trace: str = "",
    authorizer: Mapping[str, Any] | None = None,
    api_key: tuple[str, str] | None = None,
) -> bytes:
    """The request and its route, for `event_from_packed` in the instance. `route` is the route
    key (2.0) or the resource (1.0); `path` the path within the stage (1.0); `trace`,
    `authorizer` and `api_key` as the builders take them (JSON-able data: marshal packs it)."""
    return marshal.dumps(
        (
            payload,
            request.method,
            request.path,
            request.query,
            list(request.headers),
            request.body,
            request.client,
            route,
            path,
            dict(path_parameters) if path_parameters else None,
            stage,
            api_id,
            trace,
            None if authorizer is None else dict(authorizer),
            api_key,
        )
    )


def event_from_packed(data: bytes, request_id: str) -> dict[str, Any]:
    """The event of a request packed by `pack_request` (the instance's interpreter is the
    gateway's, so marshal's format is shared)."""
    (payload, method, path, query, headers, body, client, route, rest, params, stage, api_id,
     trace, authorizer, api_key) = marshal.loads(data)
    request = ForwardedRequest(method, path, query, headers, body, client)
    if payload == "1.0":
        return build_rest_event(
            request,
            resource=route,
            path=rest,
            path_parameters=params,
            stage=stage,
            request_id=request_id,
            api_id=api_id,
            trace=trace,
            authorizer=authorizer,
            api_key=api_key,
        )
    return build_http_event(
        request,
        route_key=route,
        path_parameters=params,
        stage=stage,
        request_id=request_id,
        api_id=api_id,
        trace=trace,
        authorizer=authorizer,
    )
