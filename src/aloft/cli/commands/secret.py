"""`aloft secret set|list|delete`: a stage's secrets, SecureString parameters
`/{service}/{stage}/{NAME}` encrypted with the stage's KMS key.

The value comes from stdin (piped) or a hidden prompt; it is never echoed, printed or logged.
The stage's provider stores them (`Provider.secrets`): on a local stage in the local cloud's
AWS endpoint, on an aws stage in AWS.
"""

from __future__ import annotations

import sys

import click

from aloft.cli import prompts, providers, render
from aloft.cli.completers import stage_argument
from aloft.cli.helptext import examples
from aloft.cli.project import load_service
from aloft.errors import ProviderError
from aloft.provider import check_secret_name


@click.group("secret", short_help="Set, list and delete a stage's secrets.",
             epilog=examples("printf %s \"$TOKEN\" | aloft secret set dev API_TOKEN",
                             "aloft secret set dev API_TOKEN      # asks, without echo",
                             "aloft secret list dev", "aloft secret delete dev API_TOKEN"))
def command() -> None:
    """Secrets are SecureString parameters /SERVICE/STAGE/NAME, encrypted with the stage's KMS
    key. A function reads one with boto3's ssm.get_parameter(Name=...,
    WithDecryption=True) when its `secrets` list names it."""


@command.command("set")
@stage_argument()
@click.argument("name")
def set_command(stage: str, name: str) -> None:
    """Store NAME's value: from stdin when piped, else a hidden prompt."""
    service = load_service(stage)
    check_secret_name(name, stage)  # before asking for a value
    if sys.stdin.isatty():
        value = prompts.ask(f"value of {name}", hide_input=True, confirmation_prompt=True,
                            left=f"{name} was not set")
    else:
        value = sys.stdin.read().removesuffix("\n")
    store = providers.provider_for(service).secrets(service)
    path = store.set(name, value)
    render.out().print(f"set {path} (SecureString, key {store.key_alias})", markup=False)


@command.command("list")
@stage_argument()
def list_command(stage: str) -> None:
    """The names of STAGE's secrets (never their values)."""
    service = load_service(stage)
    names = providers.provider_for(service).secrets(service).names()
    for name in names:
        render.out().print(name, markup=False)
    if not names:  # on stderr: stdout stays one name per line, for scripts
        render.note(f"no secrets in {service.service} {stage}")


@command.command("delete")
@stage_argument()
@click.argument("name")
def delete_command(stage: str, name: str) -> None:
    """Delete NAME from STAGE."""
    service = load_service(stage)
    if not providers.provider_for(service).secrets(service).delete(name):
        raise ProviderError(f"stage {stage!r} has no secret {name!r}",
                            fix=f"`aloft secret list {stage}` shows its secrets")
    render.out().print(f"deleted /{service.service}/{stage}/{name}", markup=False)
