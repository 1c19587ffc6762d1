"""Read a SecureString parameter with boto3; the same code runs on the local cloud and on AWS."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from botocore.exceptions import ClientError

_ssm = None


def _client() -> Any:
    global _ssm
    if _ssm is None:  # created on first use, per instance
        _ssm = boto3.client("ssm")
    return _ssm


def _reply(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body)}


def get_secret(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        param = _client().get_parameter(Name=os.environ["SECRET_PARAMETER"], WithDecryption=True)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("AccessDeniedException", "AccessDenied"):
            return _reply(403, {"error": code, "message": "this function may not read the secret"})
        if code == "ParameterNotFound":
            return _reply(404, {"error": code,
                                "message": "set it: aloft secret set STAGE API_TOKEN"})
        raise
    return _reply(200, {"value": param["Parameter"]["Value"]})
