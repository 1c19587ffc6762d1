"""serverless.yml `resources.Resources` (CloudFormation) mapped into aloft's `resources`.

DynamoDB tables, S3 buckets, SQS queues and SNS topics become aloft resources under their logical
id; properties aloft has no equivalent for, and other resource types, become warnings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aloft.config.builder import Builder, items
from aloft.config.source import KeyPath

RESOURCE_KINDS = {
    "AWS::DynamoDB::Table": "tables",
    "AWS::S3::Bucket": "buckets",
    "AWS::SQS::Queue": "queues",
    "AWS::SNS::Topic": "topics",
}


def logical_id(value: Any) -> str | None:
    """The logical id in `{Ref: X}` or `{Fn::GetAtt: [X, Arn]}` (or `X.Arn`), else None."""
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref" and isinstance(arg, str):
            return arg
        if fn == "Fn::GetAtt":
            if isinstance(arg, list) and arg and isinstance(arg[0], str):
                return arg[0]
            if isinstance(arg, str):
                return arg.split(".", 1)[0]
    return None


def _text(out: Builder, value: Any, src: KeyPath) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    out.warn(src, "CloudFormation functions are not supported here; ignored")
    return None


def convert_resources(out: Builder, resources: Any, src: KeyPath) -> dict[str, str]:
    """Map `resources` (the serverless key) into `out`; returns logical id -> aloft kind."""
    kinds: dict[str, str] = {}
    if not isinstance(resources, dict):
        return kinds
    for key in resources:
        if key != "Resources":
            out.warn((*src, key), "only `Resources` is read; ignored")
    entries = resources.get("Resources")
    if not isinstance(entries, dict):
        return kinds
    for lid, resource in entries.items():
        at = (*src, "Resources", lid)
        rtype = resource.get("Type") if isinstance(resource, dict) else None
        kind = RESOURCE_KINDS.get(str(rtype))
        if kind is None or not isinstance(resource, dict):
            out.warn(at, f"resource type {rtype} is not supported by aloft; ignored")
            continue
        for attr in resource:
            if attr not in ("Type", "Properties"):
                out.warn((*at, attr), "not supported by aloft; ignored")
        props = resource.get("Properties") or {}
        if not isinstance(props, dict):
            props = {}
        kinds[lid] = kind
        entry = _CONVERTERS[kind](out, props, (*at, "Properties"))
        out.put(("resources", kind, lid), entry, at)
    return kinds


def _unused(out: Builder, props: dict[str, Any], used: set[str], at: KeyPath) -> None:
    for key in props:
        if key not in used:
            out.warn((*at, key), "not supported by aloft; ignored")


def _table(out: Builder, props: dict[str, Any], at: KeyPath) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if "TableName" in props and (name := _text(out, props["TableName"], (*at, "TableName"))):
        entry["name"] = name
    types = {
        str(a.get("AttributeName")): a.get("AttributeType")
        for a in items(props.get("AttributeDefinitions")) if isinstance(a, dict)
    }
    for key in items(props.get("KeySchema")):
        if not isinstance(key, dict):
            continue
        role = "hash" if key.get("KeyType") == "HASH" else "range"
        entry[f"{role}_key"] = key.get("AttributeName")
        if types.get(str(key.get("AttributeName"))):
            entry[f"{role}_type"] = types[str(key.get("AttributeName"))]
    stream = props.get("StreamSpecification")
    if isinstance(stream, dict) and stream.get("StreamViewType"):
        entry["stream"] = stream["StreamViewType"]
    ttl = props.get("TimeToLiveSpecification")
    if isinstance(ttl, dict) and ttl.get("Enabled", True) and ttl.get("AttributeName"):
        entry["ttl"] = ttl["AttributeName"]
    _unused(out, props, {"TableName", "AttributeDefinitions", "KeySchema", "StreamSpecification",
                         "TimeToLiveSpecification", "BillingMode"}, at)
    return entry


def _bucket(out: Builder, props: dict[str, Any], at: KeyPath) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if "BucketName" in props and (name := _text(out, props["BucketName"], (*at, "BucketName"))):
        entry["name"] = name
    versioning = props.get("VersioningConfiguration")
    if isinstance(versioning, dict):
        entry["versioning"] = versioning.get("Status") == "Enabled"
    _unused(out, props, {"BucketName", "VersioningConfiguration"}, at)
    return entry


def _queue(out: Builder, props: dict[str, Any], at: KeyPath) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if "QueueName" in props and (name := _text(out, props["QueueName"], (*at, "QueueName"))):
        entry["name"] = name
    for prop, key in (("VisibilityTimeout", "visibility_timeout"),
                      ("MessageRetentionPeriod", "retention"), ("FifoQueue", "fifo")):
        if prop in props:
            entry[key] = props[prop]
    redrive = props.get("RedrivePolicy")
    if isinstance(redrive, dict):
        target = logical_id(redrive.get("deadLetterTargetArn"))
        if target:
            entry["dead_letter"] = target
        else:
            out.warn((*at, "RedrivePolicy", "deadLetterTargetArn"),
                     "only `Fn::GetAtt: [Queue, Arn]` of a queue in Resources is supported")
        if "maxReceiveCount" in redrive:
            entry["max_receives"] = redrive["maxReceiveCount"]
    _unused(out, props, {"QueueName", "VisibilityTimeout", "MessageRetentionPeriod", "FifoQueue",
                         "RedrivePolicy"}, at)
    return entry


def _topic(out: Builder, props: dict[str, Any], at: KeyPath) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if "TopicName" in props and (name := _text(out, props["TopicName"], (*at, "TopicName"))):
        entry["name"] = name
    _unused(out, props, {"TopicName"}, at)
    return entry


_CONVERTERS: dict[str, Callable[[Builder, dict[str, Any], KeyPath], dict[str, Any]]] = {
    "tables": _table,
    "buckets": _bucket,
    "queues": _queue,
    "topics": _topic,
}
