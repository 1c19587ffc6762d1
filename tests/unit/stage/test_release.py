"""`release:` commands as the envelopes that run them in the app (aloft.stage.release)."""

from __future__ import annotations

from pathlib import Path

from aloft.config.models import Service
from aloft.stage import stage_of
from aloft.stage.names import Account
from aloft.stage.release import release_failure, release_output


def test_manage_and_function_commands_become_envelopes(tmp_path: Path) -> None:
    svc = Service.model_validate({
        "service": "shop", "stage": "dev", "root": tmp_path, "django_settings": "shop.settings",
        "release": ["manage migrate --noinput", "shop.release.warm 'a b' c"]})
    stage = stage_of(svc, Account("000000000000", "us-east-1"))
    assert [(c.command, dict(c.event)) for c in stage.release] == [
        ("manage migrate --noinput", {"aloft": "manage", "args": ["migrate", "--noinput"]}),
        ("shop.release.warm 'a b' c",
         {"aloft": "command", "function": "shop.release.warm", "args": ["a b", "c"]}),
    ]


def test_what_a_reply_says() -> None:
    assert release_failure({"output": "ok\n"}) is None
    assert release_failure({"output": "", "exit_code": 0}) is None
    assert release_failure({"error": "CommandError: no such table"}) == \
        "CommandError: no such table"
    assert release_failure({"exit_code": 2}) == "exit code 2"
    assert release_output({"output": "a\n", "stderr": "b\n"}) == "a\nb\n"
