"""How aloft names and tags what it creates on AWS, and the env vars that expose resources.

Every name derives from the service and stage, so that state can be found again by name and two
stages never collide. The resource env var convention is documented in docs/aws.md.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from aloft.config.models import Service

HANDLER = "aloft.runtime.handler.handler"
TAG_SERVICE = "aloft:service"
TAG_STAGE = "aloft:stage"
KEEP_WARM_INPUT = {"aloft": "keep_warm"}


def env_key(name: str) -> str:
    """`my-queue` -> `MY_QUEUE`: the NAME part of ALOFT_<KIND>_<NAME> variables."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def _bucket_safe(text: str) -> str:
    return re.sub(r"[^a-z0-9.-]", "-", text.lower()).strip("-.")


def _short(text: str, limit: int) -> str:
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
class Names:
    """Every physical name of one service stage."""

    service: str
    stage: str
    account: Account
    bucket_override: str | None = None

    @classmethod
    def of(cls, service: Service, account: Account) -> Names:
        return cls(service.service, service.stage, account, service.aws.bucket)

    @property
    def prefix(self) -> str:
        return f"{self.service}-{self.stage}"

    def physical(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    # -- deployment ------------------------------------------------------------

    @property
    def deployment_bucket(self) -> str:
        if self.bucket_override:
            return self.bucket_override
        base = _bucket_safe(f"aloft-{self.prefix}-{self.account.account_id}-{self.account.region}")
        return _short(base, 63)

    @property
    def key_prefix(self) -> str:
        return f"aloft/{self.service}/{self.stage}"

    @property
    def state_key(self) -> str:
        return f"{self.key_prefix}/state.json"

    def code_key(self, sha256: str) -> str:
        return f"{self.key_prefix}/code/{sha256}.zip"

    def layer_key(self, sha256: str) -> str:
        return f"{self.key_prefix}/layers/{sha256}.zip"

    @property
    def layer_name(self) -> str:
        return _short(self.physical("deps"), 64)

    @property
    def role_name(self) -> str:
        return _short(self.physical("lambda"), 64)

    @property
    def role_arn(self) -> str:
        return self.account.arn("iam", f"role/{self.role_name}", region=False)

    @property
    def policy_name(self) -> str:
        return "aloft"

    @property
    def failure_queue(self) -> str:
        """SQS queue receiving async events that exhausted their retries (on-failure target)."""
        return _short(self.physical("aloft-failed"), 80)

    # -- functions -------------------------------------------------------------

    def function(self, name: str) -> str:
        return _short(self.physical(name), 64)

    def function_arn(self, name: str) -> str:
        return self.account.arn("lambda", f"function:{self.function(name)}")

    def alias_arn(self, name: str) -> str:
        return f"{self.function_arn(name)}:{self.stage}"

    def log_group(self, name: str) -> str:
        return f"/aws/lambda/{self.function(name)}"

    def rule(self, name: str) -> str:
        return _short(self.physical(name), 64)

    @property
    def api_name(self) -> str:
        return self.prefix

    def api_url(self, kind: str, api_id: str) -> str:
        host = f"{api_id}.execute-api.{self.account.region}.amazonaws.com"
        return f"https://{host}/" if kind == "http" else f"https://{host}/{self.stage}/"

    def api_source_arn(self, api_id: str) -> str:
        return self.account.arn("execute-api", f"{api_id}/*")

    # -- declared resources ----------------------------------------------------

    def bucket(self, key: str, explicit: str | None = None) -> str:
        return explicit or _short(_bucket_safe(self.physical(key)), 63)

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

    def tags(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**(extra or {}), TAG_SERVICE: self.service, TAG_STAGE: self.stage}
