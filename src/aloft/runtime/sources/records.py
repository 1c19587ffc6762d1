"""Batches of records: SQS, SNS, S3 notifications, DynamoDB and Kinesis streams."""

from __future__ import annotations

from aloft.runtime.sources.base import Event, RecordsSource


def _first_record(event: Event) -> Event:
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        return records[0]
    return {}


class Sqs(RecordsSource):
    name = "sqs"

    @classmethod
    def infer(cls, event: Event) -> bool:
        return _first_record(event).get("eventSource") == "aws:sqs"

    @staticmethod
    def item_id(record: Event) -> str | None:
        return str(record["messageId"])


class Kinesis(RecordsSource):
    name = "kinesis"

    @classmethod
    def infer(cls, event: Event) -> bool:
        return _first_record(event).get("eventSource") == "aws:kinesis"

    @staticmethod
    def item_id(record: Event) -> str | None:
        return str(record["kinesis"]["sequenceNumber"])


class DynamoDbStream(RecordsSource):
    name = "dynamodb"

    @classmethod
    def infer(cls, event: Event) -> bool:
        return _first_record(event).get("eventSource") == "aws:dynamodb"

    @staticmethod
    def item_id(record: Event) -> str | None:
        return str(record["dynamodb"]["SequenceNumber"])


class Sns(RecordsSource):
    name = "sns"

    @classmethod
    def infer(cls, event: Event) -> bool:
        return _first_record(event).get("EventSource") == "aws:sns"


class S3(RecordsSource):
    name = "s3"

    @classmethod
    def infer(cls, event: Event) -> bool:
        return _first_record(event).get("eventSource") == "aws:s3"
