"""boto3 clients for the local AWS endpoint, and the lookups that turn a binding's source (a
physical name or an ARN) into what the APIs need. Blocking: called from worker threads only."""

from __future__ import annotations

import threading
from typing import Any

from aloft.errors import ProviderError
from aloft.local.services.auth import ADMIN_KEY

REGION = "us-east-1"
LONG_POLL_SECONDS = 5  # SQS long polling: a poller waits this long in one ReceiveMessage call


def _name(source: str) -> str:
    """`arn:aws:sqs:us-east-1:123:jobs` → `jobs`; a name is kept."""
    return source.rsplit(":", 1)[-1] if source.startswith("arn:") else source


class EndpointClients:
    """The pollers' boto3 clients, each made on first use: boto3 itself is imported with the
    first (most platforms have no event source, and importing it costs the daemon about 9 MB
    of PSS and 150 ms of its start), and a botocore client costs a few MB more."""

    def __init__(self, endpoint_url: str, *, region: str = REGION, connections: int = 32,
                 secret: str = ADMIN_KEY):
        self.endpoint_url = endpoint_url
        self._region, self._secret, self._connections = region, secret, connections
        self._session: Any = None
        self._config: Any = None
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()  # pollers' threads: a boto3 session is not thread-safe

    def _client(self, service: str) -> Any:
        client = self._made.get(service)
        if client is None:
            with self._lock:
                client = self._made.get(service)
                if client is None:
                    client = self._made[service] = self._new_client(service)
        return client

    def _new_client(self, service: str) -> Any:
        """A client of `service` (under the lock), after the session on first use."""
        if self._session is None:
            import boto3  # type: ignore[import-untyped]
            from botocore.config import Config  # type: ignore[import-untyped]

            self._config = Config(
                retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=3,
                read_timeout=LONG_POLL_SECONDS + 25, max_pool_connections=self._connections,
            )
            # The platform's own key (`secret`: AwsEndpoint.admin_secret): pollers read and
            # delete for every function, whatever the function's grants (Lambda's service
            # role, not the function's, polls on AWS).
            self._session = boto3.session.Session(
                aws_access_key_id=ADMIN_KEY, aws_secret_access_key=self._secret,
                region_name=self._region,
            )
        return self._session.client(service, endpoint_url=self.endpoint_url,
                                    config=self._config)

    @property
    def sqs(self) -> Any:
        return self._client("sqs")

    @property
    def sns(self) -> Any:
        return self._client("sns")

    @property
    def s3(self) -> Any:
        return self._client("s3")

    @property
    def dynamodb(self) -> Any:
        return self._client("dynamodb")

    @property
    def streams(self) -> Any:
        return self._client("dynamodbstreams")

    @property
    def kinesis(self) -> Any:
        return self._client("kinesis")

    # -- lookups ----------------------------------------------------------------------

    def queue(self, source: str) -> tuple[str, str]:
        """(queue URL, queue ARN) of a queue name or ARN."""
        name = _name(source)
        try:
            url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except self.sqs.exceptions.QueueDoesNotExist:
            raise ProviderError(
                f"queue {name!r} does not exist on the local endpoint",
                fix="declare it under resources.queues, or create it before deploying",
            ) from None
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(url), str(arn["Attributes"]["QueueArn"])

    def topic_arn(self, source: str) -> str:
        if source.startswith("arn:"):
            return source
        for page in self.sns.get_paginator("list_topics").paginate():
            for topic in page.get("Topics", []):
                if topic["TopicArn"].rsplit(":", 1)[-1] == source:
                    return str(topic["TopicArn"])
        raise ProviderError(
            f"topic {source!r} does not exist on the local endpoint",
            fix="declare it under resources.topics, or create it before deploying",
        )

    def stream_arn(self, source: str) -> str:
        """The stream ARN of a table (name or ARN); a stream ARN is kept."""
        if source.startswith("arn:") and "/stream/" in source:
            return source
        table = source.split("table/", 1)[1].split("/", 1)[0] if "table/" in source else source
        try:
            desc = self.dynamodb.describe_table(TableName=table)["Table"]
        except self.dynamodb.exceptions.ResourceNotFoundException:
            raise ProviderError(
                f"table {table!r} does not exist on the local endpoint",
                fix="declare it under resources.tables, or create it before deploying",
            ) from None
        arn = desc.get("LatestStreamArn")
        if not arn or not desc.get("StreamSpecification", {}).get("StreamEnabled", True):
            raise ProviderError(
                f"table {table!r} has no stream",
                fix=f"set `stream: true` (or a view type) on the table resource {table!r}",
            )
        return str(arn)
