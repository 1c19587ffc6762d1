"""How a stage names what it has, on both providers: physical names and ARNs. Pure.

Every name derives from the service, the stage and the account, so that state is found again by
name and two stages never collide: `{service}-{stage}-{name}`, cut to AWS's length limits with a
hash suffix that keeps cut names distinct (docs/aws.md, docs/local-cloud.md).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


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


def stage_prefix(service: str, stage: str) -> str:
    """`{service}-{stage}`: what every physical name of a stage starts with (without the `-`)."""
    return f"{service}-{stage}"


def schedules_named(rules: Iterable[tuple[str, str]], prefix: str, names: Sequence[str]
                    ) -> tuple[list[str], list[str]]:
    """Which of a stage's schedule rules (rule name, function) `names` pick: (the rules
    picked, in order; the names that pick none). A rule answers to its name, its short name
    after `{prefix}-`, and its function's name, physical or short. No names: every rule."""
    cut = prefix + "-"
    keys = {rule: {rule, rule.removeprefix(cut), function, function.removeprefix(cut)}
            for rule, function in rules}
    unknown = [n for n in names if not any(n in k for k in keys.values())]
    wanted = set(names)
    return [r for r, k in keys.items() if not names or k & wanted], unknown


def function_name(service: str, stage: str, function: str) -> str:
    """A function's physical name: `{service}-{stage}-{function}`, at most 64 characters."""
    return short(f"{stage_prefix(service, stage)}-{function}", 64)


@dataclass(frozen=True)
class Account:
    """Where a stage lives: the account id, region and ARN partition, and where the account's
    AWS services answer (`endpoint`: None for AWS's own, the local cloud's AWS endpoint else)."""

    account_id: str
    region: str
    partition: str = "aws"
    endpoint: str | None = None

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account_id if account else ''}:{resource}"
        )

    def queue_url(self, name: str) -> str:
        if self.endpoint:
            return f"{self.endpoint}/{self.account_id}/{name}"
        return f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{name}"


@dataclass(frozen=True)
class StageNames:
    """Every physical name and ARN of one stage that both providers use."""

    service: str
    stage: str
    account: Account

    @property
    def prefix(self) -> str:
        return stage_prefix(self.service, self.stage)

    def physical(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    # -- functions and what belongs to them ---------------------------------------------------

    def function(self, name: str) -> str:
        return function_name(self.service, self.stage, name)

    def function_arn(self, name: str) -> str:
        return self.account.arn("lambda", f"function:{self.function(name)}")

    def alias_arn(self, name: str) -> str:
        return f"{self.function_arn(name)}:{self.stage}"

    def log_group(self, name: str) -> str:
        return f"/aws/lambda/{self.function(name)}"

    def rule(self, name: str) -> str:
        """An EventBridge rule (a schedule): `{service}-{stage}-{name}`, at most 64 chars."""
        return short(self.physical(name), 64)

    def rule_arn(self, rule: str, bus: str | None = None) -> str:
        return self.account.arn("events", f"rule/{bus}/{rule}" if bus else f"rule/{rule}")

    @property
    def role_name(self) -> str:
        return short(self.physical("lambda"), 64)

    @property
    def role_arn(self) -> str:
        return self.account.arn("iam", f"role/{self.role_name}", region=False)

    def function_role_name(self, function: str) -> str:
        """A function's own role (`aws.role: per_function`)."""
        return short(self.physical(f"{function}-lambda"), 64)

    def function_role_arn(self, function: str) -> str:
        return self.account.arn("iam", f"role/{self.function_role_name(function)}",
                                region=False)

    @property
    def failure_queue(self) -> str:
        """The queue that receives async events that exhausted their retries (on aws)."""
        return short(self.physical("aloft-failed"), 80)

    @property
    def api_name(self) -> str:
        return self.prefix

    # -- declared resources -------------------------------------------------------------------

    def bucket(self, key: str, explicit: str | None = None) -> str:
        return explicit or short(bucket_safe(self.physical(key)), 63)

    def bucket_arn(self, name: str) -> str:
        return f"arn:{self.account.partition}:s3:::{name}"

    def queue(self, key: str, explicit: str | None = None, fifo: bool = False) -> str:
        name = explicit or self.physical(key)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        return name

    def dead_letter_queue(self, queue: str, fifo: bool = False) -> str:
        """The queue `dead_letter: true` creates for queue `queue` (a physical name)."""
        name = f"{queue.removesuffix('.fifo')}-dlq"
        return f"{name}.fifo" if fifo else name

    def queue_arn(self, name: str) -> str:
        return self.account.arn("sqs", name)

    def queue_url(self, name: str) -> str:
        return self.account.queue_url(name)

    def topic(self, key: str, explicit: str | None = None) -> str:
        return explicit or self.physical(key)

    def topic_arn(self, name: str) -> str:
        return self.account.arn("sns", name)

    def table(self, key: str, explicit: str | None = None) -> str:
        return explicit or self.physical(key)

    def table_arn(self, name: str) -> str:
        return self.account.arn("dynamodb", f"table/{name}")

    def kinesis_arn(self, name: str) -> str:
        return self.account.arn("kinesis", f"stream/{name}")

    def parameter(self, key: str, explicit: str | None = None) -> str:
        name = explicit or f"/{self.service}/{self.stage}/{key}"
        return name if name.startswith("/") else "/" + name

    def parameter_arn(self, name: str) -> str:
        return self.account.arn("ssm", f"parameter{name}")

    # -- secrets --------------------------------------------------------------------------------

    def secret_parameter(self, name: str) -> str:
        return secret_parameter(self.service, self.stage, name)

    @property
    def secret_key_alias(self) -> str:
        return secret_key_alias(self.service, self.stage)


def secret_parameter(service: str, stage: str, name: str) -> str:
    """Where `aloft secret set STAGE NAME` stores a secret: `/{service}/{stage}/{NAME}` (a name
    that is already a path stays as it is)."""
    return name if name.startswith("/") else f"/{service}/{stage}/{name}"


def secret_key_alias(service: str, stage: str) -> str:
    """The KMS key alias that encrypts a stage's secrets, on both providers."""
    return f"alias/aloft/{service}-{stage}"
