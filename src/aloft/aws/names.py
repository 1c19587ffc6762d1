"""How aloft names and tags what it creates on AWS beyond the stage model's names: the
deployment bucket and its keys, the dependency layer, the static bucket, the API's URL, tags.

Every name derives from the service and stage, so that state can be found again by name and two
stages never collide. The stage's own names (functions, rules, resources, role) are
aloft.stage.names'.
"""

from __future__ import annotations

from dataclasses import dataclass

from aloft.config.models import Service
from aloft.stage.names import Account, StageNames, bucket_safe, env_key, short

__all__ = ["Account", "Names", "env_key"]

HANDLER = "aloft.runtime.handler.handler"
TAG_SERVICE = "aloft:service"
TAG_STAGE = "aloft:stage"


@dataclass(frozen=True)
class Names(StageNames):
    """Every physical name of one service stage on AWS."""

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
        base = bucket_safe(f"aloft-{self.prefix}-{self.account.account_id}-{self.account.region}")
        return short(base, 63)

    @property
    def static_bucket(self) -> str:
        """The bucket the stage's `static:` files are served from (`static.bucket` or one of
        the stage's own)."""
        if self.static_override:
            return self.static_override
        base = bucket_safe(
            f"aloft-{self.prefix}-static-{self.account.account_id}-{self.account.region}")
        return short(base, 63)

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
        return short(self.physical("deps"), 64)

    @property
    def policy_name(self) -> str:
        return "aloft"

    # -- the API -------------------------------------------------------------------

    def api_source_arn(self, api_id: str) -> str:
        return self.account.arn("execute-api", f"{api_id}/*")

    def tags(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**(extra or {}), TAG_SERVICE: self.service, TAG_STAGE: self.stage}
