"""Scenario 1 (examples/secrets): a function behind POST /get-secret reads a SecureString with
boto3; the same code in a function without the grant gets AccessDenied (403). The secret is set
through the CLI on stdin and appears in no log or state file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.scenario_helpers import Cli, copy_example, http, scenario_cli

SECRET = "s3cr3t-value-7f2c9"


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    root = tmp_path_factory.mktemp("scenario")
    with scenario_cli(root, copy_example("secrets", root / "secrets")) as c:
        yield c


def test_secret_behind_an_endpoint(cli: Cli) -> None:
    cli("deploy", "dev")
    missing, _ = http(cli.url("/secrets-demo/dev/get-secret"), method="POST", body=b"{}")
    assert missing == 404  # not set yet: ParameterNotFound, said as such

    done = cli("secret", "set", "dev", "API_TOKEN", stdin=SECRET + "\n")
    assert SECRET not in done.stdout + done.stderr
    assert "/secrets-demo/dev/API_TOKEN" in done.stdout
    listed = cli("secret", "list", "dev").stdout.split()
    assert listed == ["API_TOKEN"]

    status, body = http(cli.url("/secrets-demo/dev/get-secret"), method="POST", body=b"{}")
    assert status == 200, body
    assert json.loads(body) == {"value": SECRET}

    status, body = http(cli.url("/secrets-demo/dev/steal-secret"), method="POST", body=b"{}")
    assert status == 403, body
    assert json.loads(body)["error"] == "AccessDeniedException"

    # Set again (a new value), then delete: the reader sees each.
    cli("secret", "set", "dev", "API_TOKEN", stdin="second")
    status, body = http(cli.url("/secrets-demo/dev/get-secret"), method="POST", body=b"{}")
    assert json.loads(body) == {"value": "second"}
    cli("secret", "delete", "dev", "API_TOKEN")
    assert cli("secret", "list", "dev").stdout.split() == []

    # No secret value in the daemon's log, the state, the function logs or the endpoint's
    # snapshot (encrypted) once the platform has stopped and saved.
    cli.stop()
    home = Path(cli.env["ALOFT_HOME"])
    for path in home.rglob("*"):
        if path.is_file() and "artifacts" not in path.parts:
            data = path.read_bytes()
            assert SECRET.encode() not in data, path
