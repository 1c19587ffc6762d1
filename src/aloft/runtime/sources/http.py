"""The HTTP event sources: API Gateway REST (v1), HTTP API (v2), Lambda function URLs and ALB.

Each turns its event into an `HttpRequest` and an `HttpResponse` into the dict its service reads.
These run on every request, so they do plain dict work: no regexes, no copies they can avoid.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aloft.runtime.http import (
    REASONS,
    BinaryTypes,
    HttpRequest,
    HttpResponse,
    client_address,
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


def _host_and_port(headers: dict[str, str], context: dict[str, Any]) -> tuple[str, str, str]:
    scheme = headers.get("x-forwarded-proto") or "https"
    host = headers.get("host") or context.get("domainName") or "localhost"
    port = headers.get("x-forwarded-port") or ("443" if scheme == "https" else "80")
    if ":" in host and not host.endswith("]"):
        host, _, port = host.rpartition(":")
    return scheme, host, port


def _lower_headers(single: dict[str, str] | None) -> dict[str, str]:
    return {k.lower(): v for k, v in single.items()} if single else {}


def _lower_multi_headers(multi: dict[str, list[str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, values in multi.items():
        if values:
            lower = name.lower()
            out[lower] = ("; " if lower == "cookie" else ", ").join(values)
    return out


def _group_headers(headers: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name, []).append(value)
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


class ApiGatewayV1(HttpSource):
    """API Gateway REST API proxy integration (payload 1.0)."""

    name = "apigateway-v1"

    @classmethod
    def infer(cls, event: Event) -> bool:
        return "httpMethod" in event and "elb" not in (event.get("requestContext") or {})

    @staticmethod
    def request(event: Event, base_path: str) -> HttpRequest:
        context = event.get("requestContext") or {}
        multi = event.get("multiValueHeaders")
        headers = _lower_multi_headers(multi) if multi else _lower_headers(event.get("headers"))
        multi_query = event.get("multiValueQueryStringParameters")
        if multi_query:
            query = urlencode(multi_query, doseq=True)
        else:
            single_query = event.get("queryStringParameters")
            query = urlencode(single_query) if single_query else ""
        path = decode_path(event.get("path") or "/")
        # `requestContext.path` is what the client asked for: the stage or a custom domain's
        # base path in front of `path`. That prefix is where the app is mounted.
        full = decode_path(context.get("path") or "")
        stage_prefix = full[: -len(path)] if len(full) > len(path) and full.endswith(path) else ""
        script, path = _mount(stage_prefix + path, stage_prefix, base_path)
        scheme, host, port = _host_and_port(headers, context)
        return HttpRequest(
            method=event["httpMethod"],
            script_name=script,
            path=path,
            query_string=query,
            headers=headers,
            body=request_body(event.get("body"), event.get("isBase64Encoded", False)),
            remote_addr=client_address(headers, (context.get("identity") or {}).get("sourceIp")),
            scheme=scheme,
            host=host,
            port=port,
            multi_value=bool(multi),
        )

    @staticmethod
    def response(response: HttpResponse, request: HttpRequest, binary: BinaryTypes) -> Event:
        body, is_base64 = binary.encode(response)
        out: Event = {"statusCode": response.status, "isBase64Encoded": is_base64, "body": body}
        if request.multi_value:
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
        return event.get("version") == "2.0" and "rawPath" in event

    @staticmethod
    def request(event: Event, base_path: str) -> HttpRequest:
        context = event["requestContext"]
        http = context.get("http") or {}
        raw = event.get("headers")
        headers = {k.lower(): v for k, v in raw.items()} if raw else {}
        cookies = event.get("cookies")
        if cookies:
            headers["cookie"] = "; ".join(cookies)
        stage = context.get("stage")
        stage_prefix = "/" + stage if stage and stage != "$default" else ""
        script, path = _mount(decode_path(event["rawPath"] or "/"), stage_prefix, base_path)
        scheme, host, port = _host_and_port(headers, context)
        return HttpRequest(
            method=http.get("method") or "GET",
            script_name=script,
            path=path,
            query_string=event.get("rawQueryString") or "",
            headers=headers,
            body=request_body(event.get("body"), event.get("isBase64Encoded", False)),
            remote_addr=client_address(headers, http.get("sourceIp")),
            scheme=scheme,
            host=host,
            port=port,
            multi_value=False,
        )

    @staticmethod
    def response(response: HttpResponse, request: HttpRequest, binary: BinaryTypes) -> Event:
        body, is_base64 = binary.encode(response)
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in response.headers:
            lower = name.lower()
            if lower == "set-cookie":
                cookies.append(value)
            elif lower in headers:
                headers[lower] += ", " + value
            else:
                headers[lower] = value
        out: Event = {
            "statusCode": response.status,
            "headers": headers,
            "isBase64Encoded": is_base64,
            "body": body,
        }
        if cookies:
            out["cookies"] = cookies
        return out


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
    def request(event: Event, base_path: str) -> HttpRequest:
        multi = event.get("multiValueHeaders")
        headers = _lower_multi_headers(multi) if multi else _lower_headers(event.get("headers"))
        # The ALB passes query parameters as the client sent them (still percent-encoded).
        multi_query = event.get("multiValueQueryStringParameters")
        if multi_query:
            query = "&".join(f"{k}={v}" for k, vs in multi_query.items() for v in vs)
        else:
            single = event.get("queryStringParameters")
            query = "&".join(f"{k}={v}" for k, v in single.items()) if single else ""
        script, path = _mount(decode_path(event.get("path") or "/"), "", base_path)
        scheme, host, port = _host_and_port(headers, {})
        return HttpRequest(
            method=event.get("httpMethod") or "GET",
            script_name=script,
            path=path,
            query_string=query,
            headers=headers,
            body=request_body(event.get("body"), event.get("isBase64Encoded", False)),
            remote_addr=client_address(headers, None),
            scheme=scheme,
            host=host,
            port=port,
            multi_value="multiValueHeaders" in event,
        )

    @staticmethod
    def response(response: HttpResponse, request: HttpRequest, binary: BinaryTypes) -> Event:
        body, is_base64 = binary.encode(response)
        status = response.status
        out: Event = {
            "statusCode": status,
            "statusDescription": REASONS.get(status, f"{status} Unknown"),
            "isBase64Encoded": is_base64,
            "body": body,
        }
        if request.multi_value:
            out["multiValueHeaders"] = _group_headers(response.headers)
        else:  # without multi-value mode an ALB takes one value per header
            out["headers"] = _single_headers(response.headers)[0]
        return out
