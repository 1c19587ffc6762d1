"""What a request to the local AWS endpoint asks for, in IAM terms: (action, resource ARN) pairs.

The endpoint process (auth.py) checks a function's calls against its grants. This
module reads a request as the endpoint receives it (a WSGI environ and its body) and names what
IAM would check: `s3:GetObject` on `arn:aws:s3:::bucket/key`, `sqs:SendMessage` on the queue's
ARN, `dynamodb:PutItem` on the table's, and so on. The service is the one the request was signed
for (the SigV4 credential scope), as moto's dispatcher routes it, so a request cannot be checked
as one service and served as another. Pure functions over data, except that S3's virtual-host
addressing is decided by moto's own rule (a different reading would check another bucket than
the one moto serves).

Protocols: S3 is REST (method, path, subresource); SQS is JSON with `X-Amz-Target:
AmazonSQS.SendMessage` since botocore 1.31.60 and the query protocol (`Action=SendMessage`,
form-encoded) before; SNS is the query protocol; DynamoDB, its streams, Kinesis, SSM, Secrets
Manager, KMS and EventBridge are JSON with `X-Amz-Target`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qs, unquote
from xml.etree import ElementTree

from aloft.local.services.account import ACCOUNT

Protocol = Literal["json", "query", "rest-xml"]
Check = tuple[str, str]  # (IAM action, resource ARN)


@dataclass(frozen=True)
class Call:
    """One request in IAM terms: every (action, resource) must be allowed."""

    service: str  # the signing name: s3, sqs, sns, dynamodb, kinesis, ssm, ...
    protocol: Protocol
    checks: tuple[Check, ...]


_CREDENTIAL = re.compile(r"Credential=[^/,\s]+/[^/,\s]+/[^/,\s]+/([^/,\s]+)/")
_TARGETS = {"AmazonSSM": "ssm", "secretsmanager": "secretsmanager", "TrentService": "kms",
            "DynamoDB_20120810": "dynamodb", "DynamoDBStreams_20120810": "dynamodb",
            "Kinesis_20131202": "kinesis", "AmazonSQS": "sqs", "AWSEvents": "events"}
ENFORCED = ("s3", "sqs", "sns", "dynamodb", "kinesis", "ssm", "secretsmanager", "kms", "events")
"""The signing names whose calls are checked; other services are not restricted."""


def signing_service(environ: dict[str, Any]) -> str | None:
    """The service in the request's SigV4 credential scope (header or presigned URL)."""
    m = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    if m:
        return m.group(1).lower()
    query = str(environ.get("QUERY_STRING", ""))
    if "X-Amz-Credential" in query:
        parts = unquote(parse_qs(query).get("X-Amz-Credential", [""])[0]).split("/")
        if len(parts) == 5:
            return parts[3].lower()
    if "AWSAccessKeyId=" in query and "Signature=" in query:
        return "s3"  # an S3 URL presigned with signature version 2
    return None


def request_call(environ: dict[str, Any], body: Callable[[], bytes]) -> Call | None:
    """The IAM checks of a request to an enforced service; None for any other request.
    `body` reads the request body (only JSON and query calls, and S3's DeleteObjects, need it)."""
    service = signing_service(environ)
    if service not in ENFORCED:
        return None
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target:
        prefix, _, operation = target.partition(".")
        if _TARGETS.get(prefix) is None or not operation:
            return None
        return Call(service, "json", tuple(json_checks(prefix, operation, _json(body()))))
    if service == "s3":
        return Call(service, "rest-xml", tuple(s3_checks(environ, body)))
    if service in ("sqs", "sns"):
        params = _query_params(environ, body)
        action = params.get("Action", "")
        if not action:
            return None
        checks = (sqs_checks(action, params, str(environ.get("PATH_INFO", "")))
                  if service == "sqs" else sns_checks(action, params))
        return Call(service, "query", tuple(checks))
    return None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _query_params(environ: dict[str, Any], body: Callable[[], bytes]) -> dict[str, str]:
    """Query-protocol parameters: the form-encoded body of a POST, or the query string."""
    raw = str(environ.get("QUERY_STRING", ""))
    if str(environ.get("REQUEST_METHOD", "GET")) == "POST":
        raw = f"{raw}&{body().decode('utf-8', 'replace')}"
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


# -- JSON services -------------------------------------------------------------------------


def json_checks(prefix: str, operation: str, data: dict[str, Any]) -> list[Check]:
    service = _TARGETS[prefix]
    if prefix == "DynamoDBStreams_20120810":
        return [(f"dynamodb:{operation}", _dynamodb_stream(data))]
    return {"ssm": _ssm, "secretsmanager": _secretsmanager, "kms": _kms,
            "dynamodb": _dynamodb, "kinesis": _kinesis, "sqs": _sqs_json,
            "events": _events}[service](operation, data)


def _events(operation: str, data: dict[str, Any]) -> list[Check]:
    """PutEvents on each entry's bus (`events:PutEvents` on `event-bus/NAME`); the rest on the
    rule (ListRules: `rule/*`)."""
    if operation == "PutEvents":
        buses = {str(e.get("EventBusName") or "default") for e in data.get("Entries") or []
                 if isinstance(e, dict)} or {"default"}
        return [("events:PutEvents", bus if bus.startswith("arn:") else
                 ACCOUNT.arn("events", f"event-bus/{bus}")) for bus in sorted(buses)]
    rule = data.get("Name")
    return [(f"events:{operation}", ACCOUNT.arn("events", f"rule/{rule}" if rule else "rule/*"))]


def _ssm(operation: str, data: dict[str, Any]) -> list[Check]:
    names = data.get("Names") or [data.get("Name") or data.get("Path") or ""]
    return [(f"ssm:{operation}", _parameter_arn(str(n))) for n in names if n] or \
        [(f"ssm:{operation}", "*")]


def _parameter_arn(name: str) -> str:
    if name.startswith("arn:"):
        return name
    name = name.split(":", 1)[0]  # `name:version` / `name:label` selectors
    return ACCOUNT.arn("ssm", f"parameter{name if name.startswith('/') else '/' + name}")


def _secretsmanager(operation: str, data: dict[str, Any]) -> list[Check]:
    secret = str(data.get("SecretId") or data.get("Name") or "")
    arn = (secret if secret.startswith("arn:") else
           ACCOUNT.arn("secretsmanager", f"secret:{secret}")) if secret else "*"
    return [(f"secretsmanager:{operation}", arn)]


def _kms(operation: str, data: dict[str, Any]) -> list[Check]:
    key = str(data.get("KeyId") or "*")
    arn = key if key.startswith("arn:") else ACCOUNT.arn("kms", f"key/{key}")
    return [(f"kms:{operation}", arn)]


def table_arn(name: str) -> str:
    return name if name.startswith("arn:") else ACCOUNT.arn("dynamodb", f"table/{name}")


_TRANSACT = {"Get": "GetItem", "Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
             "ConditionCheck": "ConditionCheckItem"}
_PARTIQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE)\b.*?\b(?:FROM|INTO|UPDATE)\s+"
                      r"\"?([A-Za-z0-9_.-]+)\"?", re.IGNORECASE | re.DOTALL)


def _dynamodb(operation: str, data: dict[str, Any]) -> list[Check]:
    action = f"dynamodb:{operation}"
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(action, table_arn(t)) for t in data.get("RequestItems") or {}] or [(action, "*")]
    if operation in ("TransactGetItems", "TransactWriteItems"):
        out = []
        for item in data.get("TransactItems") or []:
            for kind, body in (item.items() if isinstance(item, dict) else ()):
                if kind in _TRANSACT and isinstance(body, dict):
                    out.append((f"dynamodb:{_TRANSACT[kind]}",
                                table_arn(str(body.get("TableName", "")))))
        return out or [(action, "*")]
    if operation in ("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"):
        statements = ([data] if operation == "ExecuteStatement" else
                      data.get("Statements") or data.get("TransactStatements") or [])
        out = []
        for st in statements:
            m = _PARTIQL.match(str(st.get("Statement", "")) if isinstance(st, dict) else "")
            out.append((f"dynamodb:PartiQL{m.group(1).capitalize()}", table_arn(m.group(2)))
                       if m else ("dynamodb:PartiQLSelect", "*"))
        return out or [(action, "*")]
    arn = str(data.get("TableArn") or data.get("ResourceArn") or "")
    if not arn and data.get("TableName"):
        arn = table_arn(str(data["TableName"]))
        if operation in ("Query", "Scan") and data.get("IndexName"):
            arn += f"/index/{data['IndexName']}"
    return [(action, arn or "*")]


def _dynamodb_stream(data: dict[str, Any]) -> str:
    """moto's DynamoDB shard iterators are `<stream ARN>|1|<id>`."""
    arn = str(data.get("StreamArn") or data.get("ShardIterator") or "").split("|", 1)[0]
    if not arn and data.get("TableName"):
        return table_arn(str(data["TableName"])) + "/stream/*"
    return arn if arn.startswith("arn:") else "*"


def stream_arn(name: str) -> str:
    return name if name.startswith("arn:") else ACCOUNT.arn("kinesis", f"stream/{name}")


def _kinesis(operation: str, data: dict[str, Any]) -> list[Check]:
    arn = str(data.get("StreamARN") or data.get("ConsumerARN") or data.get("ResourceARN") or "")
    name = str(data.get("StreamName") or "")
    if not arn and not name and data.get("ShardIterator"):
        try:  # moto's Kinesis shard iterators are base64 of `<stream name>:<shard>:<seq>`
            name = base64.b64decode(str(data["ShardIterator"])).decode().split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError, ValueError):
            name = ""
    return [(f"kinesis:{operation}", arn or (stream_arn(name) if name else "*"))]


# -- SQS and SNS ---------------------------------------------------------------------------

_SQS_BATCH = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
              "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


def queue_arn(url_or_name: str) -> str:
    """The ARN of a queue URL (`http://host/000000000000/name`), ARN or name."""
    if url_or_name.startswith("arn:"):
        return url_or_name
    return ACCOUNT.arn("sqs", url_or_name.rstrip("/").rsplit("/", 1)[-1])


def _sqs_json(operation: str, data: dict[str, Any]) -> list[Check]:
    return sqs_checks(operation, {k: str(v) for k, v in data.items()
                                  if k in ("QueueUrl", "QueueName")}, "/")


def sqs_checks(operation: str, params: dict[str, str], path: str) -> list[Check]:
    """SQS's IAM checks (a batch call needs its single call's action, as on AWS); the queue is
    named by QueueUrl, QueueName, or the path of an old-style query request."""
    action = f"sqs:{_SQS_BATCH.get(operation, operation)}"
    queue = params.get("QueueUrl") or params.get("QueueName") or ""
    if not queue and path.strip("/").count("/") == 1:
        queue = path
    return [(action, queue_arn(queue) if queue else "*")]


def sns_checks(operation: str, params: dict[str, str]) -> list[Check]:
    action = f"sns:{'Publish' if operation == 'PublishBatch' else operation}"
    arn = params.get("TopicArn") or params.get("TargetArn") or params.get("ResourceArn") or ""
    if not arn and params.get("SubscriptionArn", "").count(":") >= 6:
        arn = params["SubscriptionArn"].rsplit(":", 1)[0]  # a subscription's: topic ARN + id
    if not arn and operation == "CreateTopic" and params.get("Name"):
        arn = ACCOUNT.arn("sns", params["Name"])
    return [(action, arn or "*")]


# -- S3 ------------------------------------------------------------------------------------

# subresource -> IAM action for GET, PUT, DELETE on a bucket
_BUCKET_SUB: dict[str, tuple[str | None, str | None, str | None]] = {
    "policy": ("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"),
    "versioning": ("GetBucketVersioning", "PutBucketVersioning", None),
    "notification": ("GetBucketNotification", "PutBucketNotification", None),
    "tagging": ("GetBucketTagging", "PutBucketTagging", "PutBucketTagging"),
    "cors": ("GetBucketCORS", "PutBucketCORS", "PutBucketCORS"),
    "acl": ("GetBucketAcl", "PutBucketAcl", None),
    "website": ("GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite"),
    "lifecycle": ("GetLifecycleConfiguration", "PutLifecycleConfiguration",
                  "PutLifecycleConfiguration"),
    "encryption": ("GetEncryptionConfiguration", "PutEncryptionConfiguration",
                   "PutEncryptionConfiguration"),
    "location": ("GetBucketLocation", None, None),
    "versions": ("ListBucketVersions", None, None),
    "uploads": ("ListBucketMultipartUploads", None, None),
    "logging": ("GetBucketLogging", "PutBucketLogging", None),
    "ownershipControls": ("GetBucketOwnershipControls", "PutBucketOwnershipControls",
                          "PutBucketOwnershipControls"),
    "publicAccessBlock": ("GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock",
                          "PutBucketPublicAccessBlock"),
    "object-lock": ("GetBucketObjectLockConfiguration", "PutBucketObjectLockConfiguration",
                    None),
    "replication": ("GetReplicationConfiguration", "PutReplicationConfiguration",
                    "PutReplicationConfiguration"),
    "accelerate": ("GetAccelerateConfiguration", "PutAccelerateConfiguration", None),
    "requestPayment": ("GetBucketRequestPayment", "PutBucketRequestPayment", None),
}
# subresource -> IAM action for GET, PUT, DELETE, POST on an object
_OBJECT_SUB: dict[str, tuple[str | None, str | None, str | None, str | None]] = {
    "uploadId": ("ListMultipartUploadParts", "PutObject", "AbortMultipartUpload", "PutObject"),
    "uploads": (None, None, None, "PutObject"),
    "tagging": ("GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging", None),
    "acl": ("GetObjectAcl", "PutObjectAcl", None, None),
    "attributes": ("GetObjectAttributes", None, None, None),
    "retention": ("GetObjectRetention", "PutObjectRetention", None, None),
    "legal-hold": ("GetObjectLegalHold", "PutObjectLegalHold", None, None),
    "restore": (None, None, None, "RestoreObject"),
    "select": (None, None, None, "GetObject"),
}
_METHODS = {"GET": 0, "HEAD": 0, "PUT": 1, "DELETE": 2, "POST": 3}


def s3_object_arn(bucket: str, key: str = "") -> str:
    return f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}"


def s3_location(environ: dict[str, Any]) -> tuple[str, str]:
    """(bucket, key) of an S3 request, path-style or virtual-host style as moto reads it."""
    from moto.s3.responses import S3Response
    from moto.s3.utils import bucket_name_from_url

    host = str(environ.get("HTTP_HOST", ""))
    path = str(environ.get("PATH_INFO", "")) or "/"
    url = f"http://{host}{path}"

    class _Request:  # what moto's rule reads
        headers = {"host": host}

    _Request.url = url  # type: ignore[attr-defined]
    if host and S3Response.subdomain_based_buckets(_Request):
        bucket = bucket_name_from_url(url)
        if bucket:
            return bucket, path[1:]
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def s3_checks(environ: dict[str, Any], body: Callable[[], bytes]) -> list[Check]:
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    query = parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    bucket, key = s3_location(environ)
    if not bucket:
        return [("s3:ListAllMyBuckets", "*")]
    index = _METHODS.get(method, 0)
    if not key:
        if method == "POST" and "delete" in query:  # DeleteObjects: s3:DeleteObject per key
            return [("s3:DeleteObject", s3_object_arn(bucket, k))
                    for k in _delete_keys(body())] or [("s3:DeleteObject", s3_object_arn(bucket))]
        for sub, actions in _BUCKET_SUB.items():
            if sub in query:
                found = actions[index] if index < 3 else None
                name = found or f"{('Get', 'Put', 'Put', 'Put')[index]}Bucket{sub[:1].upper()}" \
                    f"{sub[1:]}"
                return [(f"s3:{name}", s3_object_arn(bucket))]
        bucket_action = {"PUT": "CreateBucket", "DELETE": "DeleteBucket",
                         "POST": "PutObject"}.get(method, "ListBucket")
        return [(f"s3:{bucket_action}", s3_object_arn(bucket))]
    arn = s3_object_arn(bucket, key)
    for sub, object_actions in _OBJECT_SUB.items():
        if sub in query and object_actions[index]:
            action = str(object_actions[index])
            if "versionId" in query and action in ("GetObjectTagging", "GetObjectAcl"):
                action = action.replace("Object", "ObjectVersion", 1)
            return [(f"s3:{action}", arn), *_copy_source(environ)]
    versioned = "versionId" in query
    action = {"PUT": "PutObject", "POST": "PutObject",
              "DELETE": "DeleteObjectVersion" if versioned else "DeleteObject"}.get(
        method, "GetObjectVersion" if versioned else "GetObject")
    return [(f"s3:{action}", arn), *_copy_source(environ)]


def _copy_source(environ: dict[str, Any]) -> list[Check]:
    """A copy (CopyObject, UploadPartCopy) reads its source: s3:GetObject on it."""
    source = str(environ.get("HTTP_X_AMZ_COPY_SOURCE", ""))
    if not source:
        return []
    bucket, _, key = unquote(source.split("?", 1)[0]).lstrip("/").partition("/")
    return [("s3:GetObject", s3_object_arn(bucket, key))]


def _delete_keys(raw: bytes) -> list[str]:
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError:
        return []
    return [el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Key"]
