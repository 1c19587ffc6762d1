"""Stage secrets: SecureString parameters `/{service}/{stage}/{NAME}` encrypted with the stage's
KMS key (alias `alias/aloft/{service}-{stage}`, created on first use).

Works on any SSM and KMS client: the local endpoint's (the CLI's `aloft secret` on a local
stage) or AWS's. Values are never logged, printed or put in an error message.
"""

from __future__ import annotations

import re
from typing import Any

from aloft.errors import Location, UsageError
from aloft.naming import secret_parameter

_SECRET_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def key_alias(service: str, stage: str) -> str:
    return f"alias/aloft/{service}-{stage}"


def check_name(name: str, stage: str) -> str:
    if not _SECRET_NAME.match(name):
        raise UsageError(
            f"secret name {name!r} may only use letters, digits, '_', '-' and '.'",
            where=Location(stage=stage), fix="e.g. `aloft secret set dev API_TOKEN`")
    return name


def ensure_stage_key(kms: Any, service: str, stage: str) -> str:
    """The stage key's alias, creating the key on first use."""
    alias = key_alias(service, stage)
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
    path = secret_parameter(service, stage, check_name(name, stage))
    if not value:
        raise UsageError("the secret's value is empty", where=Location(stage=stage),
                         fix="pipe the value on stdin or type it at the prompt")
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
    path = secret_parameter(service, stage, check_name(name, stage))
    try:
        ssm.delete_parameter(Name=path)
    except ssm.exceptions.ParameterNotFound:
        return False
    return True
