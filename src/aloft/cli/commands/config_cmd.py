"""`aloft config credentials`: write an AWS profile the way `aws configure` does.

Credentials go to ~/.aws/credentials (or $AWS_SHARED_CREDENTIALS_FILE) as `[NAME]`, the region to
~/.aws/config (or $AWS_CONFIG_FILE) as `[profile NAME]` (`[default]` for the default profile).
Files are written whole to a temporary file with mode 0600, then renamed over the old one. The
secret is read from an option or a hidden prompt and never printed. Apart from this, aloft uses
the standard AWS credential chain (environment, profiles, SSO, instance roles).
"""

from __future__ import annotations

import configparser
import io
import os
import re
import tempfile
from pathlib import Path

import click

from aloft.cli import prompts, render
from aloft.cli.helptext import examples
from aloft.errors import UsageError

_PROFILE = re.compile(r"^[A-Za-z0-9_.+@-]{1,64}$")


def credentials_file() -> Path:
    explicit = os.environ.get("AWS_SHARED_CREDENTIALS_FILE")
    return Path(explicit).expanduser() if explicit else Path.home() / ".aws" / "credentials"


def config_file() -> Path:
    explicit = os.environ.get("AWS_CONFIG_FILE")
    return Path(explicit).expanduser() if explicit else Path.home() / ".aws" / "config"


def update_ini(path: Path, section: str, values: dict[str, str]) -> None:
    """Set `values` in `section` of the INI file `path` (other sections kept), mode 0600."""
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise UsageError(f"{path} is not a valid INI file: {exc.message.splitlines()[0]}",
                         fix=f"correct or move {path}, then run the command again") from None
    if not parser.has_section(section):
        parser.add_section(section)
    for key, value in values.items():
        parser.set(section, key, value)
    text = io.StringIO()
    parser.write(text)
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)  # before the secret is written
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text.getvalue())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}",
                         fix="check the directory's permissions, or set "
                             "AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE") from None


def masked(key_id: str) -> str:
    """`****************ABCD`, as the AWS CLI shows a key id."""
    return "*" * max(len(key_id) - 4, 0) + key_id[-4:]


@click.group(
    "config",
    short_help="Set up aloft's environment (AWS credentials).",
    epilog=examples("aloft config credentials --profile work --region eu-west-1"),
)
def command() -> None:
    """Set up the environment aloft runs in."""


@command.command(
    "credentials",
    short_help="Save AWS credentials as a named profile.",
    epilog=examples(
        "aloft config credentials --profile work             # asks for the key and secret",
        "aloft config credentials --profile ci --key AKIA... --secret ... --region eu-west-1",
    ),
)
@click.option("--profile", default="default", show_default=True, help="Profile name.")
@click.option("--key", "key_id", help="AWS access key id (asked for if omitted).")
@click.option("--secret", help="AWS secret access key (asked for, hidden, if omitted).")
@click.option("--region", help="Default region of the profile (written to ~/.aws/config).")
def credentials(profile: str, key_id: str | None, secret: str | None,
                region: str | None) -> None:
    """Write PROFILE's access key to ~/.aws/credentials, like `aws configure`; aloft (and
    boto3, the AWS CLI) then use it with `aws.profile: PROFILE` or AWS_PROFILE."""
    if not _PROFILE.match(profile):
        raise UsageError(f"profile name {profile!r} is not valid",
                         fix="use letters, digits and . _ - + @ (at most 64)")
    left = f"profile {profile} was not written"
    key_id = (key_id or prompts.ask("AWS access key id", hide_input=True, left=left)).strip()
    secret = (secret or prompts.ask("AWS secret access key", hide_input=True, left=left)).strip()
    if not re.match(r"^[A-Z0-9]{16,128}$", key_id):
        raise UsageError("the access key id should be 16+ capital letters and digits "
                         "(e.g. AKIA...)", fix="copy it again from the IAM console")
    if not secret or any(c.isspace() for c in secret):
        raise UsageError("the secret access key is empty or contains spaces",
                         fix="copy it again from the IAM console")
    if region and not re.match(r"^[a-z]{2}(-[a-z]+)+-\d$", region):
        raise UsageError(f"region {region!r} does not look like an AWS region",
                         fix="write e.g. eu-west-1 or us-east-1")
    path = credentials_file()
    update_ini(path, profile, {"aws_access_key_id": key_id, "aws_secret_access_key": secret})
    out = render.out()
    out.print(f"wrote profile {profile} ({masked(key_id)}) to {path}", markup=False)
    if region:
        conf = config_file()
        update_ini(conf, "default" if profile == "default" else f"profile {profile}",
                   {"region": region})
        out.print(f"wrote region {region} of profile {profile} to {conf}", markup=False)
