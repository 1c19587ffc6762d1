"""The local AWS endpoint's own error responses, shaped as each protocol's errors are on AWS, so
that botocore raises the `ClientError` a function would get on Lambda.

| protocol | AccessDenied as | status |
|---|---|---|
| S3 (REST XML) | `<Error><Code>AccessDenied</Code>` (no body for HEAD) | 403 |
| SQS (JSON) | `__type` AccessDenied, `x-amzn-query-error: AccessDenied;Sender` | 403 |
| SQS (query) | `<ErrorResponse><Error><Code>AccessDenied</Code>` | 403 |
| SNS (query) | `<ErrorResponse><Error><Code>AuthorizationError</Code>` (SNS's code for it) | 403 |
| DynamoDB, Kinesis, SSM, Secrets Manager, KMS (JSON) | `__type` AccessDeniedException | 400 |
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from xml.sax.saxutils import escape

from aloft.local.services.account import ACCOUNT
from aloft.local.services.actions import Call

_QUERY_NS = {"sqs": "http://queue.amazonaws.com/doc/2012-11-05/",
             "sns": "http://sns.amazonaws.com/doc/2010-03-31/"}


@dataclass(frozen=True)
class ErrorResponse:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


def denied_message(key: str, function: str, action: str, resource: str) -> str:
    return (f"User: arn:aws:sts::{ACCOUNT.account_id}:assumed-role/{function}/{key} is not "
            f"authorized to perform: {action} on resource: {resource} because no "
            "identity-based policy allows the action (aloft: declare the resource under "
            "`resources`, or grant it with the function's `permissions` or `secrets`)")


def error_response(call: Call, code: str, message: str, *, head: bool = False) -> ErrorResponse:
    """`code` (AccessDenied, InvalidSignature...) in the shape of `call`'s protocol."""
    request_id = secrets.token_hex(8).upper()
    if call.protocol == "rest-xml":
        body = b"" if head else (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId>"
            f"<HostId>{request_id}</HostId></Error>").encode()
        return _response("403 Forbidden", "application/xml", body)
    if call.protocol == "query":
        if call.service == "sns" and code == "AccessDenied":
            code = "AuthorizationError"
        body = (f'<ErrorResponse xmlns="{_QUERY_NS.get(call.service, "")}"><Error>'
                f"<Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
                f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        return _response("403 Forbidden", "text/xml", body)
    if call.service == "sqs":  # JSON, query-compatible: botocore takes the code from the header
        body = json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": message}).encode()
        out = _response("403 Forbidden", "application/x-amz-json-1.0", body)
        out.headers.append(("x-amzn-query-error", f"{code};Sender"))
        return out
    json_code = "AccessDeniedException" if code == "AccessDenied" else f"{code}Exception"
    body = json.dumps({"__type": json_code, "message": message}).encode()
    return _response("400 Bad Request", "application/x-amz-json-1.1", body)


def _response(status: str, content_type: str, body: bytes) -> ErrorResponse:
    return ErrorResponse(status, [("Content-Type", content_type),
                                  ("Content-Length", str(len(body))),
                                  ("x-amzn-RequestId", "aloft")], body)
