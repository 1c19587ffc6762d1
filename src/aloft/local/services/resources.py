"""A stage's declared resources on the local AWS endpoint: what is wanted (pure, from the stage
model) and how it is made so (idempotent boto3 calls, run in worker threads by the deployer).

A resource is plain data, `{"kind", "key", "physical", "spec"}`, kept in the deployment's
record, so that deploy/plan.py can diff the wanted resources against the deployed ones and
undeploy knows what to remove. Names and ARNs are the stage model's (aloft.stage), as on aws.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from typing import Any

from aloft.config.models import Service
from aloft.local.services.account import ACCOUNT
from aloft.stage import Stage
from aloft.stage.resources import public_read_policy

Resource = dict[str, Any]
Clients = Callable[[str], Any]  # service name -> boto3 client


def resource_id(res: Resource) -> str:
    return f"{res['kind']}:{res['physical']}"


def desired_resources(stage: Stage) -> list[Resource]:
    """The stage's resources in creation order (dead-letter queues before their sources)."""
    res = stage.resources
    out: list[Resource] = [{"kind": "bucket", "key": b.key, "physical": b.name,
                            "spec": {"public": b.public, "versioning": b.versioning}}
                           for b in res.buckets]
    arns = {q.name: q.arn for q in res.queues}
    dlqs: list[Resource] = []
    queues: list[Resource] = []
    for q in res.queues:
        spec: dict[str, Any] = {"visibility_timeout": q.visibility_timeout,
                                "retention": q.retention, "fifo": q.fifo}
        if q.dead_letter:
            spec["dead_letter"] = arns.get(q.dead_letter) or stage.names.queue_arn(
                q.dead_letter)
            spec["max_receives"] = q.max_receives
        (queues if q.declared else dlqs).append(
            {"kind": "queue", "key": q.key, "physical": q.name, "spec": spec})
    # Queues used as another's dead-letter target first.
    targets = {r["spec"].get("dead_letter") for r in queues}
    queues.sort(key=lambda r: arns[r["physical"]] not in targets)
    out.extend(dlqs + queues)
    out += [{"kind": "topic", "key": t.key, "physical": t.name, "spec": {}}
            for t in res.topics]
    out += [{"kind": "table", "key": tb.key, "physical": tb.name,
             "spec": {"hash_key": tb.hash_key, "hash_type": tb.hash_type,
                      "range_key": tb.range_key, "range_type": tb.range_type,
                      "stream": tb.stream, "ttl": tb.ttl}} for tb in res.tables]
    for p in res.parameters:
        # A secure value stays out of plans and state: its hash tells a change.
        value = p.value if not p.secure else None
        digest = (hashlib.sha256(p.value.encode()).hexdigest()
                  if p.secure and p.value is not None else None)
        out.append({"kind": "parameter", "key": p.key, "physical": p.name,
                    "spec": {"value": value, "value_sha256": digest, "secure": p.secure,
                             "description": p.description or None}})
    return out


# -- applying (blocking: worker threads) ------------------------------------------------------


def ensure(clients: Clients, res: Resource, service: Service) -> None:
    """Create the resource, or bring an existing one to its spec."""
    {"bucket": _bucket, "queue": _queue, "topic": _topic, "table": _table,
     "parameter": _parameter}[res["kind"]](clients, res, service)


def remove(clients: Clients, res: Resource) -> None:
    """Delete the resource and its data; a resource already gone is fine."""
    kind, name = res["kind"], res["physical"]
    if kind == "bucket":
        s3 = clients("s3")
        try:
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
                doomed = [{"Key": o["Key"], "VersionId": o["VersionId"]}
                          for o in page.get("Versions", []) + page.get("DeleteMarkers", [])]
                if doomed:
                    s3.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
            s3.delete_bucket(Bucket=name)
        except s3.exceptions.NoSuchBucket:
            pass
    elif kind == "queue":
        sqs = clients("sqs")
        with contextlib.suppress(sqs.exceptions.QueueDoesNotExist):
            sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
    elif kind == "topic":
        clients("sns").delete_topic(TopicArn=ACCOUNT.arn("sns", name))
    elif kind == "table":
        ddb = clients("dynamodb")
        with contextlib.suppress(ddb.exceptions.ResourceNotFoundException):
            ddb.delete_table(TableName=name)
    elif kind == "parameter":
        ssm = clients("ssm")
        with contextlib.suppress(ssm.exceptions.ParameterNotFound):
            ssm.delete_parameter(Name=name)


def _bucket(clients: Clients, res: Resource, service: Service) -> None:
    name, spec = res["physical"], res["spec"]
    s3 = clients("s3")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou,
                             s3.exceptions.BucketAlreadyExists):
        s3.create_bucket(Bucket=name)
    if spec.get("public"):
        s3.put_bucket_policy(Bucket=name, Policy=public_read_policy(f"arn:aws:s3:::{name}"))
    else:
        s3.delete_bucket_policy(Bucket=name)
    if spec.get("versioning"):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def _queue(clients: Clients, res: Resource, service: Service) -> None:
    name, spec = res["physical"], res["spec"]
    sqs = clients("sqs")
    attrs = {"VisibilityTimeout": str(spec["visibility_timeout"]),
             "MessageRetentionPeriod": str(spec["retention"])}
    if spec.get("dead_letter"):
        attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": spec["dead_letter"],
                                             "maxReceiveCount": spec["max_receives"]})
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        create = dict(attrs)
        if spec.get("fifo"):
            create["FifoQueue"] = "true"
        sqs.create_queue(QueueName=name, Attributes=create)
        return
    if not spec.get("dead_letter"):
        attrs["RedrivePolicy"] = ""
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attrs)


def _topic(clients: Clients, res: Resource, service: Service) -> None:
    clients("sns").create_topic(Name=res["physical"])


def _table(clients: Clients, res: Resource, service: Service) -> None:
    name, spec = res["physical"], res["spec"]
    ddb = clients("dynamodb")
    stream = spec.get("stream")
    try:
        current = ddb.describe_table(TableName=name)["Table"]
    except ddb.exceptions.ResourceNotFoundException:
        keys = [{"AttributeName": spec["hash_key"], "KeyType": "HASH"}]
        attrs = [{"AttributeName": spec["hash_key"], "AttributeType": spec["hash_type"]}]
        if spec.get("range_key"):
            keys.append({"AttributeName": spec["range_key"], "KeyType": "RANGE"})
            attrs.append({"AttributeName": spec["range_key"],
                          "AttributeType": spec["range_type"]})
        extra: dict[str, Any] = {}
        if stream:
            extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
        ddb.create_table(TableName=name, KeySchema=keys, AttributeDefinitions=attrs,
                         BillingMode="PAY_PER_REQUEST", **extra)
    else:
        now = current.get("StreamSpecification") or {}
        enabled = bool(now.get("StreamEnabled"))
        if bool(stream) != enabled or (stream and now.get("StreamViewType") != stream):
            if enabled:
                ddb.update_table(TableName=name,
                                 StreamSpecification={"StreamEnabled": False})
            if stream:
                ddb.update_table(TableName=name, StreamSpecification={
                    "StreamEnabled": True, "StreamViewType": stream})
    if spec.get("ttl"):
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": spec["ttl"]})


def _parameter(clients: Clients, res: Resource, service: Service) -> None:
    name, spec = res["physical"], res["spec"]
    declared = service.resources.parameters.get(res["key"])
    value = declared.value if declared is not None else None
    if value is None:
        return  # declared, set elsewhere (e.g. `aloft secret set`)
    from aloft.local.services.secrets import ensure_stage_key

    ssm = clients("ssm")
    extra: dict[str, Any] = {}
    if spec.get("secure"):
        extra = {"Type": "SecureString", "KeyId": ensure_stage_key(clients("kms"), service.service,
                                                                   service.stage)}
    else:
        extra = {"Type": "String"}
    if spec.get("description"):
        extra["Description"] = spec["description"]
    ssm.put_parameter(Name=name, Value=value, Overwrite=True, **extra)
