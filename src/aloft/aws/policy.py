"""The least-privilege IAM policy of a stage's role, as a JSON document.

The role may write its own log groups, use the resources the stage declares, read its `secrets`
(SSM parameters, decrypted through KMS via SSM only), invoke the stage's own functions (@task),
send failed async events to the stage's failure queue, read its event sources, and do whatever
the `permissions` statements add. Nothing else.
"""

from __future__ import annotations

import json
from typing import Any

from aloft.aws.names import Names
from aloft.config.models import Service
from aloft.naming import secret_parameter

ASSUME_ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    },
    sort_keys=True,
)


def _stmt(sid: str, actions: list[str], resources: list[str], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)),
            "Resource": sorted(set(resources)), **extra}


def secret_arns(service: Service, names: Names, secrets: list[str]) -> list[str]:
    """ARNs of SSM parameters named by `secrets`: a declared parameter key, a path or an ARN."""
    out = []
    for secret in secrets:
        if secret.startswith("arn:"):
            out.append(secret)
        elif secret in service.resources.parameters:
            res = service.resources.parameters[secret]
            out.append(names.parameter_arn(names.parameter(secret, res.name)))
        else:  # a name: where `aloft secret set STAGE NAME` stores it
            out.append(names.parameter_arn(secret_parameter(names.service, names.stage, secret)))
    return out


def role_policy(service: Service, names: Names, event_sources: list[str]) -> str:
    """The policy document (sorted JSON) for the stage role; `event_sources` are the ARNs of
    queues/streams the functions consume."""
    acct = names.account
    functions = service.resolved_functions()
    log_arns = [acct.arn("logs", f"log-group:{names.log_group(n)}:*") for n in functions]
    statements = [
        _stmt("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], log_arns),
        _stmt("Tasks", ["lambda:InvokeFunction"],
              [names.function_arn(n) + suffix for n in functions for suffix in ("", ":*")]),
        _stmt("FailedEvents", ["sqs:SendMessage"], [names.queue_arn(names.failure_queue)]),
    ]
    res = service.resources
    if res.buckets:
        arns = [f"arn:{acct.partition}:s3:::{names.bucket(k, r.name)}"
                for k, r in res.buckets.items()]
        statements.append(_stmt("Buckets", ["s3:ListBucket"], arns))
        statements.append(_stmt(
            "Objects", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [a + "/*" for a in arns]
        ))
    if res.queues:
        arns = [names.queue_arn(names.queue(k, q.name, q.fifo)) for k, q in res.queues.items()]
        statements.append(_stmt("Queues", [
            "sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"], arns))
    if res.topics:
        arns = [names.topic_arn(names.topic(k, t.name)) for k, t in res.topics.items()]
        statements.append(_stmt("Topics", ["sns:Publish"], arns))
    if res.tables:
        arns = [names.table_arn(names.table(k, t.name)) for k, t in res.tables.items()]
        statements.append(_stmt("Tables", [
            "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
            "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
            "dynamodb:ConditionCheckItem"], arns + [a + "/index/*" for a in arns]))
    streams = [a for a in event_sources if ":dynamodb:" in a or ":kinesis:" in a]
    table_streams = [names.table_arn(names.table(k, t.name)) + "/stream/*"
                     for k, t in res.tables.items() if t.stream]
    if streams or table_streams:
        statements.append(_stmt("Streams", [
            "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
            "dynamodb:ListStreams", "kinesis:DescribeStream", "kinesis:DescribeStreamSummary",
            "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards",
            "kinesis:ListStreams", "kinesis:SubscribeToShard"],
            [s for s in streams if not s.startswith("${")] + table_streams))
    consumed = [a for a in event_sources if ":sqs:" in a]
    if consumed:
        statements.append(_stmt("ConsumedQueues", [
            "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility"], consumed))
    params = [names.parameter_arn(names.parameter(k, p.name))
              for k, p in res.parameters.items()]
    wanted = sorted({s for f in functions.values() for s in f.secrets})
    secrets = secret_arns(service, names, wanted)
    if params or secrets:
        statements.append(_stmt("Parameters", ["ssm:GetParameter", "ssm:GetParameters"],
                                params + secrets))
        statements.append(_stmt(
            "Decrypt", ["kms:Decrypt"], [acct.arn("kms", "key/*")],
            Condition={"StringEquals": {"kms:ViaService": f"ssm.{acct.region}.amazonaws.com"}},
        ))
    if service.aws.tracing:
        statements.append(_stmt("Tracing", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                                ["*"]))
    if service.aws.vpc:
        # Lambda's ENI management has no resource-level permissions.
        statements.append(_stmt("Vpc", [
            "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
            "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses"], ["*"]))
    user = [s for f in functions.values() for s in f.permissions]
    for i, s in enumerate(dict.fromkeys(json.dumps(s.model_dump(), sort_keys=True) for s in user)):
        data = json.loads(s)
        statements.append({"Sid": f"User{i}", "Effect": data["effect"],
                           "Action": data["action"], "Resource": data["resource"]})
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
