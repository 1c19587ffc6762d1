"""Lambda's API response shapes for what the local cloud runs (pure): function configurations,
aliases, event source mappings, pages (`Marker`/`NextMarker`, `MaxItems`) and errors.

The records come from the store (versions, deployments) and the triggers (bindings); this
module only says how AWS spells them, so that boto3, the AWS CLI and the AWS Toolkit read them
as they read Lambda's answers.
"""

from __future__ import annotations

import base64
import inspect
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from aloft.local.control.invoke_api import Reply, error, function_arn
from aloft.local.control.invoke_api import split_name as split_name  # re-exported
from aloft.local.services.account import ACCOUNT
from aloft.local.triggers.pollers.bindings import Binding
from aloft.local.types import FunctionVersion
from aloft.stage.names import StageNames

T = TypeVar("T")
_RESERVED = ("AWS_", "_", "LAMBDA_")
_RESERVED_NAMES = frozenset({"LANG", "PATH", "LD_LIBRARY_PATH", "TZ", "ALOFT_BASE_PATH"})
_ESM_NAMESPACE = uuid.UUID("6f1c7a52-58a4-4a8e-9d1e-3b0c8f9e2a17")
DEFAULT_PAGE = 50
MAX_PAGE = 10000


def lambda_time(ts: float) -> str:
    """Lambda's `LastModified` of a function: `2024-05-01T12:00:00.000+0000`."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def code_sha256(hex_digest: str) -> str:
    """Lambda's `CodeSha256`: the zip's SHA-256 in base64 (aloft keeps it in hex)."""
    try:
        return base64.b64encode(bytes.fromhex(hex_digest)).decode()
    except ValueError:
        return hex_digest


def user_environment(environment: dict[str, str]) -> dict[str, str]:
    """What the function's configuration set: Lambda's own variables and the local cloud's
    (credentials, endpoints) are not part of a configuration's `Environment`."""
    return {k: v for k, v in sorted(environment.items())
            if not k.startswith(_RESERVED) and k not in _RESERVED_NAMES}


def revision(*parts: object) -> str:
    return str(uuid.uuid5(_ESM_NAMESPACE, "|".join(map(str, parts))))


@dataclass(frozen=True)
class VersionFacts:
    """What a configuration needs beyond the FunctionVersion: from the version's record."""

    code_sha256: str
    code_size: int
    created: float
    layer: bool


def configuration(fv: FunctionVersion, facts: VersionFacts, *, version: str,
                  stage: tuple[str, str] | None) -> dict[str, Any]:
    """A `FunctionConfiguration`. `version`: `$LATEST` or the version's number."""
    env = dict(fv.environment)
    runtime = env.get("AWS_EXECUTION_ENV", "AWS_Lambda_python3.12").removeprefix("AWS_Lambda_")
    log_group = env.get("AWS_LAMBDA_LOG_GROUP_NAME", f"/aws/lambda/{fv.function}")
    role = (ACCOUNT.arn("iam", f"role/{fv.function}", region=False) if stage is None
            else StageNames(stage[0], stage[1], ACCOUNT).role_arn)
    arn = function_arn(fv.function) + ("" if version == "$LATEST" else f":{version}")
    config: dict[str, Any] = {
        "FunctionName": fv.function, "FunctionArn": arn, "Runtime": runtime,
        "Role": role,
        "Handler": env.get("_HANDLER", "aloft.runtime.handler.handler"),
        "CodeSize": facts.code_size, "Description": "", "Timeout": fv.timeout,
        "MemorySize": fv.memory, "LastModified": lambda_time(facts.created),
        "CodeSha256": code_sha256(facts.code_sha256), "Version": version,
        "Environment": {"Variables": user_environment(env)},
        "TracingConfig": {"Mode": "PassThrough"},
        "RevisionId": revision(fv.function, fv.version, facts.code_sha256),
        "State": "Active", "LastUpdateStatus": "Successful", "PackageType": "Zip",
        "Architectures": ["x86_64"], "EphemeralStorage": {"Size": 512},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": {"LogFormat": "JSON" if env.get("AWS_LAMBDA_LOG_FORMAT") == "JSON"
                          else "Text", "LogGroup": log_group},
        "RuntimeVersionConfig": {"RuntimeVersionArn": f"arn:aws:lambda:{ACCOUNT.region}::"
                                 f"runtime:aloft-local-{runtime}"},
    }
    if env.get("AWS_LAMBDA_LOG_LEVEL"):
        config["LoggingConfig"]["ApplicationLogLevel"] = env["AWS_LAMBDA_LOG_LEVEL"]
    if facts.layer:
        config["Layers"] = [{"Arn": ACCOUNT.arn("lambda", f"layer:{fv.function}-deps:"
                                                          f"{fv.version}"),
                             "CodeSize": 0}]
    return config


def alias(function: str, name: str, version: int) -> dict[str, Any]:
    return {"AliasArn": f"{function_arn(function)}:{name}", "Name": name,
            "FunctionVersion": str(version), "Description": "the stage's alias (aloft)",
            "RevisionId": revision(function, name, version)}


# -- event source mappings ---------------------------------------------------------------------

MAPPED_KINDS = ("queue", "stream")
"""The bindings Lambda shows as event source mappings (topics and buckets are subscriptions and
notifications on AWS, not mappings)."""


def mapping_uuid(binding: Binding) -> str:
    return str(uuid.uuid5(_ESM_NAMESPACE, binding.key))


def source_arn(binding: Binding) -> str:
    source = binding.source
    if source.startswith("arn:"):
        return source
    if binding.kind == "queue":
        return ACCOUNT.arn("sqs", source.rstrip("/").rsplit("/", 1)[-1])
    if binding.stream_type == "kinesis":
        return ACCOUNT.arn("kinesis", f"stream/{source}")
    return ACCOUNT.arn("dynamodb", f"table/{source}/stream")


def mapping(binding: Binding, modified: float) -> dict[str, Any]:
    """An `EventSourceMappingConfiguration`."""
    out: dict[str, Any] = {
        "UUID": mapping_uuid(binding), "BatchSize": binding.batch_size,
        "MaximumBatchingWindowInSeconds": binding.window,
        "EventSourceArn": source_arn(binding), "FunctionArn": function_arn(binding.function),
        "LastModified": modified, "LastProcessingResult": "OK",
        "State": "Enabled" if binding.enabled else "Disabled",
        "StateTransitionReason": "USER_INITIATED",
        "FunctionResponseTypes": ["ReportBatchItemFailures"] if binding.partial_failures else [],
    }
    if binding.kind == "stream":
        out["StartingPosition"] = binding.starting_position
    return out


# -- pages and errors --------------------------------------------------------------------------


async def paged(key: str, items: Sequence[T], query: dict[str, str], request_id: str,
                render: Callable[[T], Any], default: int = DEFAULT_PAGE) -> Reply:
    """A List operation's reply: `{key: [...], "NextMarker": ...}` with the page of `items`
    after the query's `Marker`, at most `MaxItems`, each rendered by `render` (awaited when it
    returns an awaitable; only the page's items are rendered), or Lambda's 400 for a marker or
    size it did not give."""
    marker = query.get("Marker") or ""
    try:
        start = int(base64.urlsafe_b64decode(marker.encode()).decode()) if marker else 0
    except ValueError:
        return error(400, "InvalidParameterValueException", f"Invalid Marker: {marker!r}",
                     request_id)
    raw = query.get("MaxItems")
    size = int(raw) if raw and raw.isdigit() else default
    if raw is not None and not (raw.isdigit() and 1 <= size <= MAX_PAGE):
        return error(400, "InvalidParameterValueException",
                     f"1 validation error detected: Value '{raw}' at 'maxItems' failed to "
                     f"satisfy constraint: Member must have value between 1 and {MAX_PAGE}",
                     request_id)
    rendered = []
    for item in items[start:start + size]:
        value = render(item)
        rendered.append(await value if inspect.isawaitable(value) else value)
    out: dict[str, Any] = {key: rendered}
    if start + size < len(items):
        out["NextMarker"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return json_reply(200, out, request_id)


def json_reply(status: int, data: Any, request_id: str) -> Reply:
    return Reply(status, json.dumps(data).encode(), {
        "Content-Type": "application/json", "X-Amzn-RequestId": request_id})


def not_found(message: str, request_id: str) -> Reply:
    return error(404, "ResourceNotFoundException", message, request_id)


def invalid(message: str, request_id: str) -> Reply:
    return error(400, "InvalidParameterValueException", message, request_id)
