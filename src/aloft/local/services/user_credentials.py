"""The user's own AWS credentials, as boto3 finds them on this machine: the Invoke API accepts
what they sign, so that a script's `boto3.client("lambda")` (with AWS_ENDPOINT_URL_LAMBDA) and
the AWS CLI reach the local cloud with the user's usual profile.

Read: the daemon's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, and every profile of the shared
credentials file ($AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials: what `aloft config
credentials` and `aws configure` write) and of the config file ($AWS_CONFIG_FILE or
~/.aws/config). A file is read again when it changes. The daemon runs as the user, who owns
these files; a secret is only ever used to check a signature, never logged or answered.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from pathlib import Path

_Stamp = tuple[int, int] | None  # (mtime_ns, size), None: no file


def credential_files(environ: Mapping[str, str]) -> list[Path]:
    credentials = environ.get("AWS_SHARED_CREDENTIALS_FILE")
    config = environ.get("AWS_CONFIG_FILE")
    home = Path(environ.get("HOME") or Path.home())
    return [Path(credentials).expanduser() if credentials else home / ".aws" / "credentials",
            Path(config).expanduser() if config else home / ".aws" / "config"]


def read_keys(path: Path) -> dict[str, str]:
    """access key id -> secret key of every profile in an AWS INI file (none if unreadable)."""
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return {}
    keys = {}
    for section in parser.sections():
        key = parser.get(section, "aws_access_key_id", fallback="").strip()
        secret = parser.get(section, "aws_secret_access_key", fallback="").strip()
        if key and secret:
            keys[key] = secret
    return keys


class UserCredentials:
    """Which access keys are the user's, and their secrets."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._env: dict[str, str] = {}
        key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        if key and secret:
            self._env[key] = secret
        self._files = credential_files(env)
        self._read: dict[Path, tuple[_Stamp, dict[str, str]]] = {}

    def secret(self, access_key: str) -> str | None:
        """The secret key of one of the user's access keys; None when it is not one."""
        for path in self._files:
            found = self._keys(path).get(access_key)
            if found is not None:
                return found
        return self._env.get(access_key)

    def _keys(self, path: Path) -> dict[str, str]:
        try:
            st = path.stat()
            stamp: _Stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        cached = self._read.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        keys = read_keys(path) if stamp is not None else {}
        self._read[path] = (stamp, keys)
        return keys
