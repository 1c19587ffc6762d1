"""The two stream services a StreamPoller reads, behind one small interface: DynamoDB Streams
and Kinesis differ in names (StreamArn vs StreamARN, SequenceNumber vs StartingSequenceNumber)
and in the event Lambda makes of their records. Blocking: called from worker threads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from aloft.errors import ProviderError
from aloft.local.triggers.pollers.clients import EndpointClients
from aloft.local.triggers.pollers.lambda_events import dynamodb_event, kinesis_event

Record = Mapping[str, Any]


class ShardApi(Protocol):
    def resolve(self, source: str) -> str:
        """The stream ARN of a binding's source."""
        ...

    def shards(self, arn: str) -> list[str]: ...

    def iterator(self, arn: str, shard: str, kind: str, after: str | None = None) -> str:
        """A shard iterator: TRIM_HORIZON, LATEST or AFTER_SEQUENCE_NUMBER `after`."""
        ...

    def records(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Records at the iterator and the next iterator (None: the shard is closed)."""
        ...

    def sequence(self, record: Record) -> str: ...

    def event(self, records: Sequence[Record], arn: str, shard: str) -> dict[str, Any]: ...


class DynamoDbStreams:
    def __init__(self, clients: EndpointClients):
        self.clients = clients

    @property
    def api(self) -> Any:
        """(Made on first use, in a poller's thread: the first client loads boto3.)"""
        return self.clients.streams

    def resolve(self, source: str) -> str:
        return self.clients.stream_arn(source)

    def shards(self, arn: str) -> list[str]:
        desc = self.api.describe_stream(StreamArn=arn)["StreamDescription"]
        return [s["ShardId"] for s in desc.get("Shards", [])]

    def iterator(self, arn: str, shard: str, kind: str, after: str | None = None) -> str:
        extra = {"SequenceNumber": after} if after is not None else {}
        got = self.api.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind,
                                          **extra)
        return str(got["ShardIterator"])

    def records(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        got = self.api.get_records(ShardIterator=iterator, Limit=limit)
        return list(got.get("Records") or []), got.get("NextShardIterator")

    def sequence(self, record: Record) -> str:
        return str(record["dynamodb"]["SequenceNumber"])

    def event(self, records: Sequence[Record], arn: str, shard: str) -> dict[str, Any]:
        return dynamodb_event(records, arn)


class KinesisStreams:
    def __init__(self, clients: EndpointClients):
        self.clients = clients

    @property
    def api(self) -> Any:
        """(Made on first use, in a poller's thread: the first client loads boto3.)"""
        return self.clients.kinesis

    def resolve(self, source: str) -> str:
        key = {"StreamARN": source} if source.startswith("arn:") else {"StreamName": source}
        try:
            desc = self.api.describe_stream_summary(**key)["StreamDescriptionSummary"]
        except self.api.exceptions.ResourceNotFoundException:
            raise ProviderError(
                f"kinesis stream {source!r} does not exist on the local endpoint",
                fix="create it (boto3 kinesis.create_stream) before deploying",
            ) from None
        return str(desc["StreamARN"])

    @staticmethod
    def _name(arn: str) -> str:
        """By name: the local endpoint's iterators lose the stream when asked by ARN."""
        return arn.split(":stream/", 1)[-1]

    def shards(self, arn: str) -> list[str]:
        listed = self.api.list_shards(StreamName=self._name(arn))
        return [s["ShardId"] for s in listed.get("Shards", [])]

    def iterator(self, arn: str, shard: str, kind: str, after: str | None = None) -> str:
        extra = {"StartingSequenceNumber": after} if after is not None else {}
        got = self.api.get_shard_iterator(StreamName=self._name(arn), ShardId=shard,
                                          ShardIteratorType=kind, **extra)
        return str(got["ShardIterator"])

    def records(self, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        got = self.api.get_records(ShardIterator=iterator, Limit=limit)
        return list(got.get("Records") or []), got.get("NextShardIterator")

    def sequence(self, record: Record) -> str:
        return str(record["SequenceNumber"])

    def event(self, records: Sequence[Record], arn: str, shard: str) -> dict[str, Any]:
        return kinesis_event(records, arn, shard)
