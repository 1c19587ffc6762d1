"""`AwsSecrets`: the `aloft.provider.SecretStore` of an aws stage (`aloft secret` on AWS).

A secret is the SecureString parameter `/{service}/{stage}/{NAME}` encrypted with the stage's
KMS key, alias `alias/aloft/{service}-{stage}` (created, tagged, on first use): the same names
as on a local stage. Every call goes through `AwsClient`; a value is never logged, returned or
left in an error message.
"""

from __future__ import annotations

import contextlib

from aloft.aws.client import AwsClient
from aloft.aws.errors import AwsNotFound
from aloft.errors import AloftError
from aloft.provider import check_secret_name, check_secret_value
from aloft.stage.names import secret_key_alias, secret_parameter


class AwsSecrets:
    def __init__(self, aws: AwsClient, service: str, stage: str) -> None:
        self.aws = aws
        self.service, self.stage = service, stage
        self.key_alias = secret_key_alias(service, stage)

    def _path(self, name: str) -> str:
        return secret_parameter(self.service, self.stage, check_secret_name(name, self.stage))

    def ensure_key(self) -> str:
        """The stage key's alias, creating the key on first use."""
        self.key_arn()
        return self.key_alias

    def key_arn(self) -> str:
        """The stage key's ARN (what the role's `kms:Decrypt` names), created on first use."""
        found = self.aws.find("kms", "describe_key", KeyId=self.key_alias)
        if found is not None:
            return str(found["KeyMetadata"]["Arn"])
        key = self.aws.call(
            "kms", "create_key", Description=f"aloft secrets of {self.service} {self.stage}",
            Tags=[{"TagKey": "aloft:service", "TagValue": self.service},
                  {"TagKey": "aloft:stage", "TagValue": self.stage}])["KeyMetadata"]
        try:
            self.aws.call("kms", "create_alias", AliasName=self.key_alias,
                          TargetKeyId=key["KeyId"])
        except AloftError as exc:
            # A key without its alias is never found again, and a key costs money every month:
            # it goes (AWS's shortest wait, 7 days). When another `aloft` made the alias in the
            # meantime, its key is the stage's. (If the key cannot go, the alias's error is
            # still the one to report.)
            with contextlib.suppress(AloftError):
                self.aws.call("kms", "schedule_key_deletion", KeyId=key["KeyId"],
                              PendingWindowInDays=7)
            found = self.aws.find("kms", "describe_key", KeyId=self.key_alias)
            if found is None:
                raise exc
            return str(found["KeyMetadata"]["Arn"])
        return str(key["Arn"])

    def set(self, name: str, value: str) -> str:
        path = self._path(name)
        check_secret_value(value, self.stage)
        key = self.ensure_key()
        try:
            self.aws.call("ssm", "put_parameter", Name=path, Value=value, Type="SecureString",
                          KeyId=key, Overwrite=True, Description="aloft secret")
        except AloftError as exc:
            # A validation message may quote the request: keep the value out of it.
            if value not in exc.message:
                raise
            raise type(exc)(exc.message.replace(value, "***"), where=exc.where,
                            fix=exc.fix) from None
        return path

    def names(self) -> list[str]:
        prefix = f"/{self.service}/{self.stage}/"
        found = self.aws.pages(
            "ssm", "describe_parameters", "Parameters",
            ParameterFilters=[{"Key": "Path", "Option": "OneLevel", "Values": [prefix[:-1]]},
                              {"Key": "Type", "Values": ["SecureString"]}])
        return sorted(str(p["Name"]).removeprefix(prefix) for p in found)

    def delete(self, name: str) -> bool:
        try:
            self.aws.call("ssm", "delete_parameter", Name=self._path(name))
        except AwsNotFound:
            return False
        return True
