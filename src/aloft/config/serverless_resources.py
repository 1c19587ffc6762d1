"""serverless.yml `resources` (CloudFormation) mapped into aloft's `resources` and `conditions`.

DynamoDB tables, S3 buckets, SQS queues, SNS topics and SSM parameters become aloft resources
under their logical id; properties aloft has no equivalent for, and other resource types, become
warnings. A resource whose `Condition` is false for the stage is not created (conditions on the
stage are known when the file is read); `Conditions` are kept for `Fn::If` in values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aloft.config.builder import Builder, items
from aloft.config.source import KeyPath

RESOURCE_KINDS = {
    "AWS::DynamoDB::Table": "tables",
    "AWS::S3::Bucket": "buckets",
    "AWS::SQS::Queue": "queues",
    "AWS::SNS::Topic": "topics",
    "AWS::SSM::Parameter": "parameters",
}
_OTHER = {
    "AWS::IAM::Role": "aloft creates the stage's role from your statements",
    "AWS::IAM::Policy": "list these permissions in `provider.iam.role.statements`",
    "AWS::IAM::ManagedPolicy": "list these permissions in `provider.iam.role.statements`",
    "AWS::SQS::QueuePolicy": "aloft grants its functions their queues itself",
    "AWS::SNS::TopicPolicy": "aloft grants its functions their topics itself",
    "AWS::S3::BucketPolicy": "set `public: true` on a bucket for public reads",
    "AWS::SNS::Subscription": "subscribe a function with an `sns` event",
    "AWS::Lambda::Permission": "aloft adds the permissions its events need",
}
_ATTRIBUTES: dict[str, str | None] = {
    "DeletionPolicy": "aloft deletes a stage's resources only on `aloft undeploy`",
    "UpdateReplacePolicy": "aloft updates resources in place",
    "Condition": "the condition is not known before deploying; the resource is created",
    "DependsOn": None,
    "Metadata": None,
}
_SECTIONS = {
    "Outputs": "stack outputs are not created; `aloft status` shows the stage's URL and names",
    "Mappings": "write the values (or `${self:custom...}` lookups) instead of Fn::FindInMap",
    "Parameters": "use `params` or `${opt:...}` / `${env:...}` variables",
    "Transform": "CloudFormation transforms are not run",
    "extensions": "aloft does not generate the resources these would extend",
    "Description": None,
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
    out.warn(src, "a name known only once deployed cannot name an aloft resource; aloft names "
             "it {service}-{stage}-{key}")
    return None


def convert_resources(
    out: Builder, resources: Any, src: KeyPath, truth: Mapping[str, bool] | None = None
) -> dict[str, str]:
    """Map `resources` (the serverless key) into `out`; returns logical id -> aloft kind.
    `truth`: the conditions whose value is known for this stage."""
    kinds: dict[str, str] = {}
    truth = truth or {}
    if not isinstance(resources, dict):
        return kinds
    for key, value in resources.items():
        if key == "Conditions" and isinstance(value, dict):
            for name, condition in value.items():
                out.put(("conditions", str(name)), condition, (*src, key, name))
        elif key in _SECTIONS:
            if _SECTIONS[key]:
                out.warn((*src, key), str(_SECTIONS[key]))
        elif key != "Resources":
            out.warn((*src, key), "not read by aloft; ignored")
    entries = resources.get("Resources")
    if not isinstance(entries, dict):
        return kinds
    for lid, resource in entries.items():
        at = (*src, "Resources", lid)
        rtype = resource.get("Type") if isinstance(resource, dict) else None
        kind = RESOURCE_KINDS.get(str(rtype))
        if kind is None or not isinstance(resource, dict):
            why = _OTHER.get(str(rtype), "not supported by aloft; ignored")
            out.warn(at, f"resource type {rtype}: {why}")
            continue
        condition = resource.get("Condition")
        if isinstance(condition, str) and truth.get(condition) is False:
            continue  # not created in this stage, as CloudFormation would not
        for attr in resource:
            if attr in ("Type", "Properties"):
                continue
            if attr == "Condition" and isinstance(condition, str) and condition in truth:
                continue
            reason = _ATTRIBUTES.get(str(attr), "not supported by aloft; ignored")
            if reason:
                out.warn((*at, attr), reason)
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
    for index in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if index in props:
            out.warn((*at, index), "aloft creates tables without secondary indexes yet; queries "
                     "on an index fail")
    _unused(out, props, {"TableName", "AttributeDefinitions", "KeySchema", "StreamSpecification",
                         "TimeToLiveSpecification", "BillingMode", "GlobalSecondaryIndexes",
                         "LocalSecondaryIndexes", "Tags"}, at)
    return entry


def _bucket(out: Builder, props: dict[str, Any], at: KeyPath) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if "BucketName" in props and (name := _text(out, props["BucketName"], (*at, "BucketName"))):
        entry["name"] = name
    versioning = props.get("VersioningConfiguration")
    if isinstance(versioning, dict):
        entry["versioning"] = versioning.get("Status") == "Enabled"
    if props.get("AccessControl") == "PublicRead":
        entry["public"] = True
    _unused(out, props, {"BucketName", "VersioningConfiguration", "AccessControl"}, at)
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
    _unused(out, props, {"TopicName", "DisplayName"}, at)
    return entry


def _parameter(out: Builder, props: dict[str, Any], at: KeyPath) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if "Name" in props and (name := _text(out, props["Name"], (*at, "Name"))):
        entry["name"] = name
    if "Value" in props and (value := _text(out, props["Value"], (*at, "Value"))) is not None:
        entry["value"] = value
    if props.get("Type") == "StringList":
        out.warn((*at, "Type"), "aloft stores the value as a String (comma-separated text)")
    if isinstance(props.get("Description"), str):
        entry["description"] = props["Description"]
    _unused(out, props, {"Name", "Value", "Type", "Description", "Tier", "Tags"}, at)
    return entry


_CONVERTERS: dict[str, Callable[[Builder, dict[str, Any], KeyPath], dict[str, Any]]] = {
    "tables": _table,
    "buckets": _bucket,
    "queues": _queue,
    "topics": _topic,
    "parameters": _parameter,
}
