"""Stage secrets: SecureString parameters `/{service}/{stage}/{NAME}` encrypted with the stage's
KMS key (alias `alias/aloft/{service}-{stage}`, created on first use).

The functions work on any boto3 SSM and KMS client (the local endpoint's: `LocalSecrets`, the
`aloft secret` store of a local stage, and the endpoint's own resources). Values are never
logged, printed or put in an error message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aloft.errors import Location, ProviderError
from aloft.provider import check_secret_name, check_secret_value
from aloft.stage.names import secret_key_alias, secret_parameter


def ensure_stage_key(kms: Any, service: str, stage: str) -> str:
    """The stage key's alias, creating the key on first use."""
    alias = secret_key_alias(service, stage)
    try:
        kms.describe_key(KeyId=alias)
    except kms.exceptions.NotFoundException:
        key = kms.create_key(Description=f"aloft secrets of {service} {stage}",
                             Tags=[{"TagKey": "aloft:service", "TagValue": service},
                                   {"TagKey": "aloft:stage", "TagValue": stage}])
        kms.create_alias(AliasName=alias, TargetKeyId=key["KeyMetadata"]["KeyId"])
    return alias


def set_secret(ssm: Any, kms: Any, service: str, stage: str, name: str, value: str) -> str:
    """Store the secret; returns its parameter path."""
    path = secret_parameter(service, stage, check_secret_name(name, stage))
    check_secret_value(value, stage)
    ssm.put_parameter(Name=path, Value=value, Type="SecureString",
                      KeyId=ensure_stage_key(kms, service, stage), Overwrite=True,
                      Description="aloft secret")
    return path


def list_secrets(ssm: Any, service: str, stage: str) -> list[str]:
    """Names (not values) of the stage's secrets."""
    prefix = f"/{service}/{stage}/"
    names: list[str] = []
    for page in ssm.get_paginator("describe_parameters").paginate(
        ParameterFilters=[{"Key": "Path", "Option": "OneLevel", "Values": [prefix.rstrip("/")]},
                          {"Key": "Type", "Values": ["SecureString"]}],
    ):
        names.extend(p["Name"].removeprefix(prefix) for p in page["Parameters"])
    return sorted(names)


def delete_secret(ssm: Any, service: str, stage: str, name: str) -> bool:
    """False when there was no such secret."""
    path = secret_parameter(service, stage, check_secret_name(name, stage))
    try:
        ssm.delete_parameter(Name=path)
    except ssm.exceptions.ParameterNotFound:
        return False
    return True


class LocalSecrets:
    """The `aloft.provider.SecretStore` of a local stage, on the local cloud's AWS endpoint
    (started with the daemon if needed, on first use)."""

    def __init__(self, cloud: Any, service: str, stage: str) -> None:
        self._cloud = cloud  # a CloudClient
        self.service, self.stage = service, stage
        self.key_alias = secret_key_alias(service, stage)
        self._clients: dict[str, Any] = {}

    def _client(self, name: str) -> Any:
        if name not in self._clients:
            from aloft.local.services.supervisor import local_aws_client

            self._clients[name] = local_aws_client(self._cloud, name)
        return self._clients[name]

    @contextmanager
    def _translated(self, operation: str, value: str = "") -> Iterator[None]:
        """botocore's errors as aloft's; the message never holds the value."""
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        try:
            yield
        except (BotoCoreError, ClientError) as exc:
            message = f"{operation}: {type(exc).__name__}: {exc}"
            if value:
                message = message.replace(value, "***")
            raise ProviderError(message, where=Location(stage=self.stage),
                                fix=f"check that the local cloud runs (`aloft cloud status`) "
                                    f"and answers for stage {self.stage!r}") from None

    def set(self, name: str, value: str) -> str:
        with self._translated("set the secret", value):
            return set_secret(self._client("ssm"), self._client("kms"), self.service,
                              self.stage, name, value)

    def names(self) -> list[str]:
        self._cloud.require_running()  # listing only reads: it never starts a cloud
        with self._translated("list the secrets"):
            return list_secrets(self._client("ssm"), self.service, self.stage)

    def delete(self, name: str) -> bool:
        with self._translated("delete the secret"):
            return delete_secret(self._client("ssm"), self.service, self.stage, name)
