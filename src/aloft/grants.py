"""What a stage's role may do with the resources it declares and the events it consumes: the one
list that the aws role policy (aloft.aws.policy) and the local endpoint's grants
(aloft.local.services.auth) both state, so that the two providers allow the same calls."""

from __future__ import annotations

from aloft.config.models import Service
from aloft.naming import ResourceNames

Grant = tuple[str, list[str], list[str]]  # (statement id, IAM actions, resource ARNs)

CONSUMED_QUEUE_ACTIONS = [
    "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
    "sqs:ChangeMessageVisibility",
]
STREAM_ACTIONS = [
    "dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
    "dynamodb:ListStreams", "kinesis:DescribeStream", "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards",
    "kinesis:ListStreams", "kinesis:SubscribeToShard",
]


def declared_resource_grants(service: Service, names: ResourceNames) -> list[Grant]:
    """The declared buckets (and their objects), queues, topics and tables (and indexes)."""
    res = service.resources
    out: list[Grant] = []
    if res.buckets:
        arns = [f"arn:{names.account.partition}:s3:::{names.bucket(k, b.name)}"
                for k, b in res.buckets.items()]
        out.append(("Buckets", ["s3:ListBucket"], arns))
        out.append(("Objects", ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    [a + "/*" for a in arns]))
    if res.queues:
        out.append(("Queues", ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage",
                               "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
                               "sqs:GetQueueUrl"],
                    [names.queue_arn(names.queue(k, q.name, q.fifo))
                     for k, q in res.queues.items()]))
    if res.topics:
        out.append(("Topics", ["sns:Publish"],
                    [names.topic_arn(names.topic(k, t.name)) for k, t in res.topics.items()]))
    if res.tables:
        arns = [names.table_arn(names.table(k, t.name)) for k, t in res.tables.items()]
        out.append(("Tables", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                               "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan",
                               "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
                               "dynamodb:ConditionCheckItem"],
                    arns + [a + "/index/*" for a in arns]))
    return out
