"""`aloft secret set|list|delete`: a stage's secrets, SecureString parameters
`/{service}/{stage}/{NAME}` encrypted with the stage's KMS key.

The value comes from stdin (piped) or a hidden prompt; it is never echoed, printed or logged.
On a local stage the commands talk to the local cloud's AWS endpoint, on an aws stage to AWS.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from aloft.cli import render
from aloft.cli.helptext import examples
from aloft.cli.project import load_service
from aloft.config.models import Service
from aloft.errors import ProviderError


def _clients(service: Service) -> tuple[Any, Any]:
    """(ssm, kms) clients for the stage's provider."""
    if service.provider == "local":
        from aloft.local.client import CloudClient
        from aloft.local.endpoint import local_aws_client

        cloud = CloudClient()
        return local_aws_client(cloud, "ssm"), local_aws_client(cloud, "kms")
    import boto3  # type: ignore[import-untyped]

    session = boto3.session.Session(profile_name=service.aws.profile,
                                     region_name=service.aws.region)
    return session.client("ssm"), session.client("kms")


def _translate(exc: Exception, service: Service) -> ProviderError:
    """botocore's errors as aloft's; the message never holds the value."""
    return ProviderError(f"{type(exc).__name__}: {exc}",
                         fix=f"check that stage {service.stage!r} can be reached "
                         f"({service.provider})")


@click.group("secret", short_help="Set, list and delete a stage's secrets.",
             epilog=examples("printf %s \"$TOKEN\" | aloft secret set dev API_TOKEN",
                             "aloft secret set dev API_TOKEN      # asks, without echo",
                             "aloft secret list dev", "aloft secret delete dev API_TOKEN"))
def command() -> None:
    """Secrets are SecureString parameters /SERVICE/STAGE/NAME, encrypted with the stage's KMS
    key. A function reads one with boto3's ssm.get_parameter(Name=...,
    WithDecryption=True) when its `secrets` list names it."""


@command.command("set")
@click.argument("stage")
@click.argument("name")
def set_command(stage: str, name: str) -> None:
    """Store NAME's value: from stdin when piped, else a hidden prompt."""
    from aloft.local.secrets import check_name, set_secret

    service = load_service(stage)
    check_name(name, stage)
    if sys.stdin.isatty():
        value = click.prompt(f"value of {name}", hide_input=True, confirmation_prompt=True)
    else:
        value = sys.stdin.read().removesuffix("\n")
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    ssm, kms = _clients(service)
    try:
        path = set_secret(ssm, kms, service.service, stage, name, value)
    except (BotoCoreError, ClientError) as exc:
        raise _translate(exc, service) from None
    render.out().print(f"set {path} (SecureString, key alias/aloft/{service.service}-{stage})",
                       markup=False)


@command.command("list")
@click.argument("stage")
def list_command(stage: str) -> None:
    """The names of STAGE's secrets (never their values)."""
    from aloft.local.secrets import list_secrets

    service = load_service(stage)
    ssm, _ = _clients(service)
    for name in list_secrets(ssm, service.service, stage):
        render.out().print(name, markup=False)


@command.command("delete")
@click.argument("stage")
@click.argument("name")
def delete_command(stage: str, name: str) -> None:
    """Delete NAME from STAGE."""
    from aloft.local.secrets import delete_secret

    service = load_service(stage)
    ssm, _ = _clients(service)
    if not delete_secret(ssm, service.service, stage, name):
        raise ProviderError(f"stage {stage!r} has no secret {name!r}",
                            fix=f"`aloft secret list {stage}` shows its secrets")
    render.out().print(f"deleted /{service.service}/{stage}/{name}", markup=False)
