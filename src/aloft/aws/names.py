"""How aloft names and tags what it creates on AWS, and the env vars that expose resources.

Every name derives from the service and stage, so that state can be found again by name and two
stages never collide. The resource env var convention is documented in docs/aws.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from aloft.config.models import Service
from aloft.naming import Account, ResourceNames, env_key
from aloft.naming import bucket_safe as _bucket_safe
from aloft.naming import short as _short

__all__ = ["Account", "Names", "env_key"]

HANDLER = "aloft.runtime.handler.handler"
TAG_SERVICE = "aloft:service"
TAG_STAGE = "aloft:stage"


@dataclass(frozen=True)
class Names(ResourceNames):
    """Every physical name of one service stage (declared resources: `ResourceNames`)."""

    bucket_override: str | None = None
    static_override: str | None = None

    @classmethod
    def of(cls, service: Service, account: Account) -> Names:
        static = service.static.bucket if service.static else None
        return cls(service.service, service.stage, account, service.aws.bucket, static)

    # -- deployment ------------------------------------------------------------

    @property
    def deployment_bucket(self) -> str:
        if self.bucket_override:
            return self.bucket_override
        base = _bucket_safe(f"aloft-{self.prefix}-{self.account.account_id}-{self.account.region}")
        return _short(base, 63)

    @property
    def static_bucket(self) -> str:
        """The bucket the stage's `static:` files are served from (`static.bucket` or one of
        the stage's own)."""
        if self.static_override:
            return self.static_override
        base = _bucket_safe(
            f"aloft-{self.prefix}-static-{self.account.account_id}-{self.account.region}")
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

    def api_source_arn(self, api_id: str) -> str:
        return self.account.arn("execute-api", f"{api_id}/*")

    def tags(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**(extra or {}), TAG_SERVICE: self.service, TAG_STAGE: self.stage}
