"""The HTTP event sources: API Gateway REST (v1), HTTP API (v2), Lambda function URLs and ALB.

Each builds the WSGI environ of its event in one pass (`environ`) and turns the app's
`HttpResponse` into the dict its service reads (`response`). These run on every request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus, unquote

from aloft.runtime.http import (
    REASONS,
    BinaryTypes,
    Environ,
    HttpResponse,
    Request,
    build_environ,
    decode_path,
    request_body,
    split_prefix,
)
from aloft.runtime.sources.base import Event, HttpSource


def _mount(path: str, stage_prefix: str, base_path: str) -> tuple[str, str]:
    """Split a decoded path into (SCRIPT_NAME, PATH_INFO): the API stage prefix and then
    ALOFT_BASE_PATH (the local cloud's `/{service}/{stage}`, or a custom domain's base path)."""
    script = ""
    if stage_prefix:
        rest = split_prefix(path, stage_prefix)
        if rest is not None:
            script, path = stage_prefix, rest
    if base_path:
        rest = split_prefix(path, base_path)
        if rest is not None:
            script, path = script + base_path, rest
    return script, path


def _query(params: dict[str, list[str]]) -> str:
    """urlencode(params, doseq=True) for decoded string parameters; plain ASCII letters and
    digits skip quote_plus (the common case on the hot path)."""
    parts = []
    for key, values in params.items():
        name = key if key.isascii() and key.isalnum() else quote_plus(key)
        for value in values:
            parts.append(
                f"{name}={value if value.isascii() and value.isalnum() else quote_plus(value)}"
            )
    return "&".join(parts)


def _joined(multi: dict[str, list[str]]) -> dict[str, str]:
    """Multi-value headers as one value per name, joined as HTTP allows."""
    return {
        name: ("; " if name.lower() == "cookie" else ", ").join(values)
        for name, values in multi.items()
        if values
    }


def _group_headers(headers: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        values = grouped.get(name)
        if values is None:
            grouped[name] = [value]
        else:
            values.append(value)
    return grouped


def _single_headers(headers: list[tuple[str, str]]) -> tuple[dict[str, str], bool]:
    """Headers as one value per name, and whether some name was repeated."""
    single: dict[str, str] = {}
    repeated = False
    for name, value in headers:
        if name in single:
            repeated = True
        single[name] = value
    return single, repeated



def _folded(headers: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """An HTTP API (v2) result's headers: names in lower case, repeats joined with ", ", and
    the Set-Cookie values apart (the result's `cookies`)."""
    folded: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "set-cookie":
            cookies.append(value)
        elif lower in folded:
            folded[lower] += ", " + value
        else:
            folded[lower] = value
    return folded, cookies

class ApiGatewayV1(HttpSource):
    """API Gateway REST API proxy integration (payload 1.0)."""

    name = "apigateway-v1"

    @classmethod
    def infer(cls, event: Event) -> bool:
        return (
            "httpMethod" in event
            and "methodArn" not in event  # an authorizer request
            and "elb" not in (event.get("requestContext") or {})
        )

    @staticmethod
    def environ(event: Event, context: Any, base_path: str) -> Environ:
        request_context = event.get("requestContext") or {}
        multi = event.get("multiValueHeaders")
        headers = _joined(multi) if multi else (event.get("headers") or {})
        multi_query = event.get("multiValueQueryStringParameters")
        if multi_query:
            query = _query(multi_query)
        else:
            single = event.get("queryStringParameters")
            query = _query({k: [v] for k, v in single.items()}) if single else ""
        path = event.get("path") or "/"
        if "%" in path:
            path = unquote(path)
        # `requestContext.path` is what the client asked for: the stage or a custom domain's
        # base path in front of `path`. That prefix is where the app is mounted.
        full = request_context.get("path") or ""
        if len(full) > len(path):
            full = decode_path(full)
            if full.endswith(path):
                prefix = full[: -len(path)]
                script, path = _mount(prefix + path, prefix, base_path)
            else:
                script, path = _mount(path, "", base_path)
        elif base_path:
            script, path = _mount(path, "", base_path)
        else:
            script = ""
        body = event.get("body")
        return build_environ(Request(
            event["httpMethod"], script, path, query, headers,
            request_body(body, event.get("isBase64Encoded")) if body else b"",
            (request_context.get("identity") or {}).get("sourceIp"),
            request_context.get("domainName"), event, context, request_context.get("authorizer"),
        ))

    @staticmethod
    def response(response: HttpResponse, event: Event, binary: BinaryTypes) -> Event:
        body, is_base64 = binary.encode(response)
        out: Event = {"statusCode": response.status, "isBase64Encoded": is_base64, "body": body}
        if "multiValueHeaders" in event:
            out["multiValueHeaders"] = _group_headers(response.headers)
        else:
            single, repeated = _single_headers(response.headers)
            out["headers"] = single
            if repeated:  # REST APIs merge both maps: repeats (Set-Cookie) go in the multi one
                out["multiValueHeaders"] = {
                    k: v for k, v in _group_headers(response.headers).items() if len(v) > 1
                }
        return out


class HttpApiV2(HttpSource):
    """API Gateway HTTP API (payload 2.0)."""

    name = "apigateway-v2"

    @classmethod
    def infer(cls, event: Event) -> bool:
        # routeArn marks an HTTP API authorizer request, which has the same shape; function
        # URLs have it too, on their own domain.
        return (
            event.get("version") == "2.0"
            and "rawPath" in event
            and "routeArn" not in event
            and ".lambda-url." not in (event["requestContext"].get("domainName") or "")
        )

    @staticmethod
    def request(event: Event, context: Any, base_path: str) -> tuple[Request, str | None]:
        """The request of `event`, and its Cookie header (HTTP APIs move it to `cookies`)."""
        request_context = event["requestContext"]
        http = request_context.get("http") or {}
        path = event["rawPath"] or "/"
        if "%" in path:
            path = unquote(path)
        stage = request_context.get("stage")
        if (stage and stage != "$default") or base_path:
            stage_prefix = "/" + stage if stage and stage != "$default" else ""
            script, path = _mount(path, stage_prefix, base_path)
        else:
            script = ""
        body = event.get("body")
        cookies = event.get("cookies")
        return Request(
            http.get("method") or "GET", script, path, event.get("rawQueryString") or "",
            event.get("headers") or {},
            request_body(body, event.get("isBase64Encoded")) if body else b"",
            http.get("sourceIp"),
            request_context.get("domainName"), event, context, request_context.get("authorizer"),
        ), "; ".join(cookies) if cookies else None

    @staticmethod
    def environ(event: Event, context: Any, base_path: str) -> Environ:
        request, cookie = HttpApiV2.request(event, context, base_path)
        environ = build_environ(request)
        if cookie is not None:
            environ["HTTP_COOKIE"] = cookie
        return environ

    @staticmethod
    def response(response: HttpResponse, event: Event, binary: BinaryTypes) -> Event:
        headers, cookies = _folded(response.headers)
        body, is_base64 = binary.encode_body(
            response.body, headers.get("content-type"), headers.get("content-encoding")
        )
        out: Event = {
            "statusCode": response.status,
            "headers": headers,
            "isBase64Encoded": is_base64,
            "body": body,
        }
        if cookies:
            out["cookies"] = cookies
        return out

    @staticmethod
    def proxied(response: HttpResponse) -> HttpResponse:
        """The response API Gateway makes of `response(response, ...)`'s result, without that
        dict in between (the local cloud's instances answer their gateway with it): headers
        named in lower case, repeats joined with ", ", Set-Cookie ones (the result's `cookies`)
        last; the body's bytes as they are (`response` encodes them as text or base64, and API
        Gateway decodes them back)."""
        headers, cookies = _folded(response.headers)
        pairs = list(headers.items())
        if cookies:
            pairs.extend(("set-cookie", cookie) for cookie in cookies)
        return HttpResponse(response.status, pairs, response.body)


class FunctionUrl(HttpApiV2):
    """A Lambda function URL: the HTTP API v2 shape, served at `*.lambda-url.*`."""

    name = "function-url"

    @classmethod
    def infer(cls, event: Event) -> bool:
        return (
            event.get("version") == "2.0"
            and "rawPath" in event
            and ".lambda-url." in ((event.get("requestContext") or {}).get("domainName") or "")
        )


class Alb(HttpSource):
    """An Application Load Balancer target, with or without multi-value headers."""

    name = "alb"

    @classmethod
    def infer(cls, event: Event) -> bool:
        return "elb" in (event.get("requestContext") or {})

    @staticmethod
    def environ(event: Event, context: Any, base_path: str) -> Environ:
        multi = event.get("multiValueHeaders")
        headers = _joined(multi) if multi else (event.get("headers") or {})
        # The ALB passes query parameters as the client sent them (still percent-encoded).
        multi_query = event.get("multiValueQueryStringParameters")
        if multi_query:
            query = "&".join(f"{k}={v}" for k, vs in multi_query.items() for v in vs)
        else:
            single = event.get("queryStringParameters")
            query = "&".join(f"{k}={v}" for k, v in single.items()) if single else ""
        script, path = _mount(decode_path(event.get("path") or "/"), "", base_path)
        body = event.get("body")
        return build_environ(Request(
            event.get("httpMethod") or "GET", script, path, query, headers,
            request_body(body, event.get("isBase64Encoded")) if body else b"",
            None, None, event, context,
        ))

    @staticmethod
    def response(response: HttpResponse, event: Event, binary: BinaryTypes) -> Event:
        body, is_base64 = binary.encode(response)
        status = response.status
        out: Event = {
            "statusCode": status,
            "statusDescription": REASONS.get(status, f"{status} Unknown"),
            "isBase64Encoded": is_base64,
            "body": body,
        }
        if "multiValueHeaders" in event:
            out["multiValueHeaders"] = _group_headers(response.headers)
        else:  # without multi-value mode an ALB takes one value per header
            out["headers"] = _single_headers(response.headers)[0]
        return out
