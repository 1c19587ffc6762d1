"""The events a Lambda authorizer receives, as API Gateway makes them (pure): REST APIs' TOKEN
and REQUEST (payload 1.0) events, HTTP APIs' REQUEST event (payload 2.0, or 1.0); where an
authorizer's identity sources are found in a request; the method and route ARNs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from aloft.local.instances.worker.event_builders import (
    ACCOUNT_ID,
    Request,
    build_http_event,
    build_rest_event,
)
from aloft.stage.records import Authorizer, IdentitySource

REGION = "us-east-1"


def route_arn(api_id: str, stage: str, method: str, path: str) -> str:
    """`arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/path` (the path within the stage,
    without its leading slash): what a policy's Resource is matched against."""
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{api_id}/{stage}/{method}/" \
           f"{path.lstrip('/')}"


def _query(query: str, name: str) -> str | None:
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if unquote(key.replace("+", " ")) == name:
            return unquote(value.replace("+", " "))
    return None


def identity_values(request: Request, sources: tuple[IdentitySource, ...],
                    context: Mapping[str, str]) -> tuple[str, ...] | None:
    """The values of the identity sources, in order; None when one is missing or empty (API
    Gateway then answers 401 without invoking the authorizer)."""
    out: list[str] = []
    for source in sources:
        value: str | None
        if source.kind == "header":
            value = request.header(source.name.lower())
        elif source.kind == "querystring":
            value = _query(request.query, source.name)
        elif source.kind == "context":
            value = context.get(source.name)
        else:  # stageVariables: the local cloud's stages have none
            value = None
        if not value:
            return None
        out.append(value)
    return tuple(out)


def token_event(token: str, method_arn: str) -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}


def request_event(
    authorizer: Authorizer, request: Request, *, route_path: str, route_key: str, path: str,
    path_parameters: Mapping[str, str] | None, stage: str, request_id: str, api_id: str,
    arn: str, identity: tuple[str, ...],
) -> dict[str, Any]:
    """A REQUEST authorizer's event in the authorizer's payload version: the request as its
    proxy event would carry it, without the body, with the method (route) ARN."""
    event: dict[str, Any]
    if authorizer.payload == "1.0":
        proxy = build_rest_event(request, resource=route_path, path=path,
                                 path_parameters=path_parameters, stage=stage,
                                 request_id=request_id, api_id=api_id)
        event = {"type": "REQUEST", "methodArn": arn}
        for key in ("resource", "path", "httpMethod", "headers", "multiValueHeaders",
                    "queryStringParameters", "multiValueQueryStringParameters",
                    "pathParameters", "stageVariables", "requestContext"):
            event[key] = proxy[key]
        return event
    proxy = build_http_event(request, route_key=route_key, path_parameters=path_parameters,
                             stage=stage, request_id=request_id, api_id=api_id)
    event = {"version": "2.0", "type": "REQUEST", "routeArn": arn,
             "identitySource": list(identity)}
    for key, value in proxy.items():
        if key not in ("version", "body", "isBase64Encoded"):
            event[key] = value
    event.setdefault("pathParameters", {})
    event["stageVariables"] = {}
    return event


def cache_key(authorizer: Authorizer, identity: tuple[str, ...]) -> tuple[str, ...] | None:
    """What an answer is cached under: the authorizer and the identity's values; None when
    the authorizer's answers are not cached (ttl 0, or no identity source to key them)."""
    if authorizer.ttl <= 0 or not authorizer.identity:
        return None
    return (authorizer.name, *identity)
