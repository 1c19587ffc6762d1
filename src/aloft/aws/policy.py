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
from aloft.config.unresolved import statement_resources
from aloft.grants import CONSUMED_QUEUE_ACTIONS, STREAM_ACTIONS, declared_resource_grants
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
    statements += [_stmt(sid, actions, arns)
                   for sid, actions, arns in declared_resource_grants(service, names)]
    res = service.resources
    streams = [a for a in event_sources if ":dynamodb:" in a or ":kinesis:" in a]
    table_streams = [names.table_arn(names.table(k, t.name)) + "/stream/*"
                     for k, t in res.tables.items() if t.stream]
    if streams or table_streams:
        statements.append(_stmt("Streams", STREAM_ACTIONS,
                                [s for s in streams if not s.startswith("${")] + table_streams))
    consumed = [a for a in event_sources if ":sqs:" in a]
    if consumed:
        statements.append(_stmt("ConsumedQueues", CONSUMED_QUEUE_ACTIONS, consumed))
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
    user = [{**s.model_dump(), "resource": statement_resources(s)}
            for f in functions.values() for s in f.permissions]
    for i, s in enumerate(dict.fromkeys(json.dumps(s, sort_keys=True) for s in user)):
        data = json.loads(s)
        statements.append({"Sid": f"User{i}", "Effect": data["effect"],
                           "Action": data["action"], "Resource": data["resource"]})
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
