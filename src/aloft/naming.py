"""Physical names of a stage's declared resources, and the env vars that expose them.

Shared by both providers (aws and local), so that a function finds its bucket, queue, topic,
table or parameter through the same `ALOFT_<KIND>_<NAME>` variables wherever it runs
(docs/aws.md, docs/local-cloud.md). Pure: names derive from the service, the stage and the
account only.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from aloft.config.models import Service


def env_key(name: str) -> str:
    """`my-queue` -> `MY_QUEUE`: the NAME part of ALOFT_<KIND>_<NAME> variables."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def bucket_safe(text: str) -> str:
    return re.sub(r"[^a-z0-9.-]", "-", text.lower()).strip("-.")


def short(text: str, limit: int) -> str:
    """`text` cut to `limit` chars, a hash suffix keeping cut names distinct."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{text[: limit - 9]}-{digest}"


@dataclass(frozen=True)
class Account:
    """Where a stage lives: the account id, region and ARN partition."""

    account_id: str
    region: str
    partition: str = "aws"

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account_id if account else ''}:{resource}"
        )


@dataclass(frozen=True)
class ResourceNames:
    """Physical names and ARNs of one stage's declared resources."""

    service: str
    stage: str
    account: Account

    @property
    def prefix(self) -> str:
        return f"{self.service}-{self.stage}"

    def physical(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def bucket(self, key: str, explicit: str | None = None) -> str:
        return explicit or short(bucket_safe(self.physical(key)), 63)

    def queue(self, key: str, explicit: str | None = None, fifo: bool = False) -> str:
        name = explicit or self.physical(key)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        return name

    def queue_arn(self, name: str) -> str:
        return self.account.arn("sqs", name)

    def queue_url(self, name: str) -> str:
        return f"https://sqs.{self.account.region}.amazonaws.com/{self.account.account_id}/{name}"

    def topic(self, key: str, explicit: str | None = None) -> str:
        return explicit or self.physical(key)

    def topic_arn(self, name: str) -> str:
        return self.account.arn("sns", name)

    def table(self, key: str, explicit: str | None = None) -> str:
        return explicit or self.physical(key)

    def table_arn(self, name: str) -> str:
        return self.account.arn("dynamodb", f"table/{name}")

    def parameter(self, key: str, explicit: str | None = None) -> str:
        name = explicit or f"/{self.service}/{self.stage}/{key}"
        return name if name.startswith("/") else "/" + name

    def parameter_arn(self, name: str) -> str:
        return self.account.arn("ssm", f"parameter{name}")


def secret_parameter(service: str, stage: str, name: str) -> str:
    """Where `aloft secret set STAGE NAME` stores a secret: `/{service}/{stage}/{NAME}` (a name
    that is already a path stays as it is)."""
    return name if name.startswith("/") else f"/{service}/{stage}/{name}"


def secret_key_alias(service: str, stage: str) -> str:
    """The KMS key alias that encrypts a stage's secrets, on both providers."""
    return f"alias/aloft/{service}-{stage}"


def resource_environment(service: Service, names: ResourceNames) -> dict[str, str]:
    """ALOFT_BUCKET_<K>, ALOFT_QUEUE_<K>_URL/_ARN, ALOFT_TOPIC_<K>_ARN, ALOFT_TABLE_<K>,
    ALOFT_PARAMETER_<K>: how functions find the stage's resources."""
    env: dict[str, str] = {}
    res = service.resources
    for k, b in res.buckets.items():
        env[f"ALOFT_BUCKET_{env_key(k)}"] = names.bucket(k, b.name)
    for k, q in res.queues.items():
        qname = names.queue(k, q.name, q.fifo)
        env[f"ALOFT_QUEUE_{env_key(k)}_URL"] = names.queue_url(qname)
        env[f"ALOFT_QUEUE_{env_key(k)}_ARN"] = names.queue_arn(qname)
    for k, t in res.topics.items():
        env[f"ALOFT_TOPIC_{env_key(k)}_ARN"] = names.topic_arn(names.topic(k, t.name))
    for k, tb in res.tables.items():
        env[f"ALOFT_TABLE_{env_key(k)}"] = names.table(k, tb.name)
    for k, p in res.parameters.items():
        env[f"ALOFT_PARAMETER_{env_key(k)}"] = names.parameter(k, p.name)
    return env
