"""Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`), so that boto3's lambda
client, `@task` and the AWS CLI work against the local cloud.

Pure helpers here (parsing the function name and qualifier, the ClientContext, Lambda's error
shapes); the control handler (control_api.py) runs the invocation, once invoke_auth.py has
checked the request's SigV4 signature and the caller's grant.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aloft.errors import UsageError
from aloft.local.services.account import ACCOUNT_ID, REGION

ACCOUNT = ACCOUNT_ID
PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
MAX_ASYNC_PAYLOAD = 1024 * 1024
MAX_CLIENT_CONTEXT = 3583  # bytes of base64, as Lambda takes them
_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:(?P<rest>.+)$")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    raw_query: str = ""  # as sent: the Invoke API's signatures cover it

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError as exc:
            raise UsageError(f"request body is not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise UsageError("request body must be a JSON object")
        return data


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def split_name(raw: str, qualifier: str | None = None) -> tuple[str, str | None]:
    """(function name, qualifier) of a `FunctionName` parameter: a name, `name:qualifier`, a
    partial or a full ARN (percent-encoded in the path). The query's `Qualifier` wins."""
    name = unquote(raw)
    arn = _ARN.match(name)
    if arn:
        name = arn.group("rest")
    if ":" in name:
        name, _, from_name = name.partition(":")
        qualifier = qualifier or from_name
    return name, qualifier or None


def parse_target(path: str, qualifier: str | None) -> tuple[str, str | None] | None:
    """(function name, qualifier) from the URL path (split_name's). None when the path is not
    the invocations path."""
    match = PATH.match(path)
    return split_name(match.group("name"), qualifier) if match else None


def error(status: int, kind: str, message: str, request_id: str) -> Reply:
    """Lambda's error shape: botocore reads the type from X-Amzn-ErrorType."""
    body = json.dumps({"Type": "User", "Message": message, "message": message}).encode()
    return Reply(status, body, {
        "Content-Type": "application/json",
        "X-Amzn-ErrorType": kind,
        "X-Amzn-RequestId": request_id,
    })


def not_found(name: str, qualifier: str | None, request_id: str) -> Reply:
    target = function_arn(name) + (f":{qualifier}" if qualifier else "")
    return error(404, "ResourceNotFoundException", f"Function not found: {target}", request_id)


def log_result(lines: list[str]) -> str:
    """X-Amz-Log-Result: the last 4 KB of the invocation's logs, base64."""
    text = "\n".join(lines).encode()[-4096:]
    return base64.b64encode(text).decode()


def throttled(payload: bytes, request_id: str) -> Reply:
    """429 TooManyRequestsException with the pool's `Reason`
    (ReservedFunctionConcurrentInvocationLimitExceeded or ConcurrentInvocationLimitExceeded),
    which botocore puts in the ClientError's response."""
    try:
        reason = json.loads(payload).get("Reason")
    except (ValueError, AttributeError):
        reason = None
    body = {"Reason": reason or "ConcurrentInvocationLimitExceeded", "Type": "User",
            "message": "Rate Exceeded.", "Message": "Rate Exceeded."}
    return Reply(429, json.dumps(body).encode(), {
        "Content-Type": "application/json", "X-Amzn-ErrorType": "TooManyRequestsException",
        "X-Amzn-RequestId": request_id})


def client_context(header: str | None, request_id: str) -> bytes | Reply | None:
    """The ClientContext JSON of an `X-Amz-Client-Context` header (base64 of a JSON object),
    None without one, or Lambda's 400 for one that is not that or too large."""
    if header is None:
        return None
    if len(header) > MAX_CLIENT_CONTEXT:
        return error(400, "InvalidRequestContentException",
                     f"Client context must be at most {MAX_CLIENT_CONTEXT} bytes of base64",
                     request_id)
    try:
        data = base64.b64decode(header, validate=True)
        if isinstance(json.loads(data), dict):
            return data
    except ValueError:
        pass
    return error(400, "InvalidRequestContentException",
                 "Client context must be a valid Base64-encoded JSON object.", request_id)
