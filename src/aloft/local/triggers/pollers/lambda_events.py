"""AWS's event shapes, built from what the local endpoint's APIs return (pure functions).

The payloads have the shapes AWS documents (the tests compare them with the project's own
fixtures, and with real samples where present): the runtime's record sources recognise
them and a function written for Lambda reads the same fields here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from aloft.local.services.account import ACCOUNT_ID

REGION = "us-east-1"

Message = Mapping[str, Any]  # one message of sqs.receive_message


def arn_region(arn: str, default: str = REGION) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else default


def _sqs_attributes(attrs: Mapping[str, Any]) -> dict[str, str]:
    keys = ("ApproximateReceiveCount", "SentTimestamp", "SenderId",
            "ApproximateFirstReceiveTimestamp", "SequenceNumber", "MessageGroupId",
            "MessageDeduplicationId", "AWSTraceHeader")
    return {k: str(attrs[k]) for k in keys if k in attrs}


def _sqs_message_attributes(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in attrs.items():
        item: dict[str, Any] = {"dataType": value.get("DataType", "String"),
                                "stringListValues": [], "binaryListValues": []}
        if "StringValue" in value:
            item["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            raw = value["BinaryValue"]
            item["binaryValue"] = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
        out[name] = item
    return out


def sqs_event(messages: Sequence[Message], queue_arn: str) -> dict[str, Any]:
    """Lambda's SQS event for a batch of received messages."""
    region = arn_region(queue_arn)
    return {"Records": [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m.get("Body", ""),
            "attributes": _sqs_attributes(m.get("Attributes") or {}),
            "messageAttributes": _sqs_message_attributes(m.get("MessageAttributes") or {}),
            "md5OfBody": m.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        }
        for m in messages
    ]}


def sns_event(body: str, subscription_arn: str) -> dict[str, Any] | None:
    """Lambda's SNS event from an SNS notification delivered to an SQS queue (raw delivery
    off); None when the body is not a notification (e.g. a subscription confirmation)."""
    try:
        note = json.loads(body)
    except ValueError:
        return None
    if not isinstance(note, dict) or note.get("Type") != "Notification":
        return None
    sns = {
        "SignatureVersion": str(note.get("SignatureVersion", "1")),
        "Timestamp": note.get("Timestamp", ""),
        "Signature": note.get("Signature", ""),
        "SigningCertUrl": note.get("SigningCertURL", note.get("SigningCertUrl", "")),
        "MessageId": note.get("MessageId", ""),
        "Message": note.get("Message", ""),
        "MessageAttributes": note.get("MessageAttributes") or {},
        "Type": "Notification",
        "UnsubscribeUrl": note.get("UnsubscribeURL", note.get("UnsubscribeUrl", "")),
        "TopicArn": note.get("TopicArn", ""),
        "Subject": note.get("Subject"),
    }
    return {"Records": [{
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "EventSource": "aws:sns",
        "Sns": sns,
    }]}


def s3_key(encoded: str) -> str:
    """S3 events carry the key URL-encoded as S3 does it ('red flower.jpg' → 'red+flower.jpg',
    '/' kept); the local endpoint also encodes '/', so decode and encode again."""
    return quote_plus(unquote_plus(encoded), safe="/")


def s3_records(body: str) -> list[dict[str, Any]] | None:
    """The S3 event records of a notification delivered to an SQS queue, completed to the
    shape S3 sends Lambda; None for anything else (such as the s3:TestEvent sent when a
    notification configuration is set)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("Records"), list):
        return None
    out = []
    for record in data["Records"]:
        if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
            continue
        s3 = dict(record.get("s3") or {})
        obj = dict(s3.get("object") or {})
        if "key" in obj:
            obj["key"] = s3_key(str(obj["key"]))
        obj.setdefault("sequencer", "")
        bucket = dict(s3.get("bucket") or {})
        bucket.setdefault("ownerIdentity", {"principalId": "aloft-local"})
        out.append({
            "eventVersion": record.get("eventVersion", "2.1"),
            "eventSource": "aws:s3",
            "awsRegion": record.get("awsRegion", REGION),
            "eventTime": record.get("eventTime", ""),
            "eventName": record.get("eventName", ""),
            "userIdentity": record.get("userIdentity") or {"principalId": "aloft-local"},
            "requestParameters": record.get("requestParameters")
            or {"sourceIPAddress": "127.0.0.1"},
            "responseElements": record.get("responseElements")
            or {"x-amz-request-id": "", "x-amz-id-2": ""},
            "s3": {**s3, "bucket": bucket, "object": obj},
        })
    return out or None


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return float(int(value.timestamp()))
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(int(datetime.fromisoformat(str(value)).timestamp()))
    except ValueError:
        return 0.0


def dynamodb_event(records: Sequence[Mapping[str, Any]], stream_arn: str) -> dict[str, Any]:
    """Lambda's DynamoDB Streams event for records of dynamodbstreams.get_records (boto3 has
    parsed ApproximateCreationDateTime into a datetime: Lambda sends epoch seconds)."""
    region = arn_region(stream_arn)
    out = []
    for r in records:
        ddb = dict(r.get("dynamodb") or {})
        if "ApproximateCreationDateTime" in ddb:
            ddb["ApproximateCreationDateTime"] = _epoch(ddb["ApproximateCreationDateTime"])
        out.append({
            "eventID": r.get("eventID", ""),
            "eventVersion": r.get("eventVersion", "1.1"),
            "dynamodb": ddb,
            "awsRegion": r.get("awsRegion", region),
            "eventName": r.get("eventName", ""),
            "eventSourceARN": stream_arn,
            "eventSource": "aws:dynamodb",
        })
    return {"Records": out}


def kinesis_event(
    records: Sequence[Mapping[str, Any]], stream_arn: str, shard: str
) -> dict[str, Any]:
    """Lambda's Kinesis event for records of kinesis.get_records (Data is bytes there: Lambda
    sends it base64-encoded)."""
    region = arn_region(stream_arn)
    out = []
    for r in records:
        data = r.get("Data", b"")
        raw = data if isinstance(data, bytes) else str(data).encode()
        seq = str(r["SequenceNumber"])
        out.append({
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": r.get("PartitionKey", ""),
                "sequenceNumber": seq,
                "data": base64.b64encode(raw).decode(),
                "approximateArrivalTimestamp": _epoch_ms(r.get("ApproximateArrivalTimestamp")),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard}:{seq}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT_ID}:role/aloft-local",
            "awsRegion": region,
            "eventSourceARN": stream_arn,
        })
    return {"Records": out}


def _epoch_ms(value: Any) -> float:
    if isinstance(value, datetime):
        return round(value.timestamp(), 3)
    return float(value) if isinstance(value, int | float) else 0.0


def encode(event: Mapping[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), default=str).encode()
