"""`aloft secret` is a thin shell over the provider's SecretStore: the value comes from stdin
or a hidden prompt, reaches the store as typed, and is never echoed or printed."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from aloft.cli.commands import secret as secret_command
from tests.unit.cli.cli_helpers import Run
from tests.unit.cli.memory_provider import MemoryProvider, install

CONFIG = """\
service: shop
app: app:app
stages:
  dev: {}
"""
VALUE = "tok-9f3a2c"


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MemoryProvider:
    return install(monkeypatch, tmp_path, CONFIG)


def test_set_from_stdin_list_delete(run: Run, provider: MemoryProvider) -> None:
    done = run("secret", "set", "dev", "API_TOKEN", input=VALUE + "\n")
    assert done.exit_code == 0, done.output
    assert done.stdout == "set /shop/dev/API_TOKEN (SecureString, key alias/aloft/shop-dev)\n"
    assert provider.secret_values == {"/shop/dev/API_TOKEN": VALUE}  # the newline is not kept
    run("secret", "set", "dev", "DB_URL", input="postgres://x")
    listed = run("secret", "list", "dev")
    assert listed.exit_code == 0 and listed.stdout == "API_TOKEN\nDB_URL\n"
    gone = run("secret", "delete", "dev", "API_TOKEN")
    assert gone.exit_code == 0 and gone.stdout == "deleted /shop/dev/API_TOKEN\n"
    assert run("secret", "list", "dev").stdout == "DB_URL\n"
    assert ("secret set", "API_TOKEN") in provider.calls
    assert all(VALUE not in repr(call) for call in provider.calls)


def test_hidden_prompt_asks_twice_and_echoes_nothing(run: Run, provider: MemoryProvider,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    # The command asks when stdin is a terminal; CliRunner's stdin is not one.
    monkeypatch.setattr(secret_command, "sys", types.SimpleNamespace(stdin=Terminal()))
    done = run("secret", "set", "dev", "API_TOKEN", input=f"{VALUE}\n{VALUE}\n")
    assert done.exit_code == 0, done.output
    assert "value of API_TOKEN" in done.output and "Repeat for confirmation" in done.output
    assert VALUE not in done.output
    assert provider.secret_values == {"/shop/dev/API_TOKEN": VALUE}


def test_delete_of_a_missing_secret_says_how_to_list(run: Run, provider: MemoryProvider) -> None:
    result = run("secret", "delete", "dev", "NOPE")
    assert result.exit_code == 1
    assert "stage 'dev' has no secret 'NOPE'" in result.stderr
    assert "`aloft secret list dev` shows its secrets" in result.stderr


def test_bad_name_is_refused_before_the_value_is_read(run: Run,
                                                      provider: MemoryProvider) -> None:
    result = run("secret", "set", "dev", "no/slashes", input=VALUE)
    assert result.exit_code == 2
    assert "may only use letters, digits" in result.stderr and VALUE not in result.output
    assert provider.calls == []


def test_empty_value_is_refused(run: Run, provider: MemoryProvider) -> None:
    result = run("secret", "set", "dev", "API_TOKEN", input="\n")
    assert result.exit_code == 2 and "value is empty" in result.stderr
    assert provider.secret_values == {}
