"""The provider-backed commands are thin shells: each calls one Provider method and renders.

An in-memory provider (memory_provider.py) records the calls; the tests check what reaches it
and what is printed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from aloft.cli import providers
from aloft.config.models import Service
from aloft.errors import ProviderError
from aloft.provider import Certifies, DeadLetter, DeadLetters, LocalRuns, Templates
from tests.unit.cli.cli_helpers import Run, write
from tests.unit.cli.memory_provider import PLAN_STEP, STATUS, MemoryProvider, install

CONFIG = """\
service: shop
app: shop.wsgi:application
functions:
  nightly:
    handler: jobs.nightly
    events:
      - schedule: "rate(1 day)"
stages:
  dev: {}
"""


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MemoryProvider:
    return install(monkeypatch, tmp_path, CONFIG)


def test_deploy_prints_url_and_versions(run: Run, provider: MemoryProvider) -> None:
    result = run("deploy", "dev")
    assert result.exit_code == 0, result.output
    assert provider.calls == [("deploy", ("dev", False))]
    assert "http://127.0.0.1:9999/shop/dev/" in result.stdout
    assert "nightly" in result.stdout and "version 3" in result.stdout


def test_deploy_says_what_passed_the_health_check(run: Run, provider: MemoryProvider) -> None:
    result = run("deploy", "dev")
    assert provider.health_check is True
    assert ("✓ the new versions passed their health check: app v3 (GET / answered 200), "
            "nightly v1 (initialised)") in result.stderr
    unchecked = run("deploy", "dev", "--no-health-check")
    assert unchecked.exit_code == 0, unchecked.output
    assert provider.health_check is False
    assert "health check:" not in unchecked.stderr
    assert "serves without a health check (--no-health-check)" in unchecked.stderr
    provider.changes = False
    assert "health" not in run("deploy", "dev").stderr  # nothing published, nothing checked


def test_deploy_json_and_update_alias(run: Run, provider: MemoryProvider) -> None:
    result = run("update", "dev", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"url": "http://127.0.0.1:9999/shop/dev/", "version": 3,
                                         "functions": {"app": 3, "nightly": 1},
                                         "changed": True}


def test_deploy_plan_changes_nothing(run: Run, provider: MemoryProvider) -> None:
    result = run("deploy", "dev", "--plan")
    assert result.exit_code == 0, result.output
    assert provider.calls == [("deploy", ("dev", True))]
    assert "create" in result.stdout and "function shop-dev-app" in result.stdout
    assert "memory: 512" in result.stdout


def test_a_deploy_without_changes_says_so(run: Run, provider: MemoryProvider) -> None:
    provider.changes = False
    result = run("deploy", "dev")
    assert result.exit_code == 0, result.output
    title = result.stdout.splitlines()[0]
    assert title == "no changes: shop dev serves version 3 already (nothing was deployed)"
    assert "http://127.0.0.1:9999/shop/dev/" in result.stdout
    assert "deployed shop" not in result.stdout
    assert json.loads(run("deploy", "dev", "--json").stdout)["changed"] is False


def test_rollback_steps(run: Run, provider: MemoryProvider) -> None:
    result = run("rollback", "dev", "-n", "2")
    assert result.exit_code == 0, result.output
    assert provider.calls == [("rollback", 2)]
    assert "version 1" in result.stdout


def test_rollback_to_a_version(run: Run, provider: MemoryProvider) -> None:
    result = run("rollback", "dev", "--to", "2")
    assert result.exit_code == 0, result.output
    assert provider.calls == [("rollback", ("to", 2))]
    assert result.stdout.splitlines()[0] == "rolled shop dev back to version 2"
    same = run("rollback", "dev", "--to", "3", "--json")
    assert json.loads(same.stdout)["changed"] is False
    assert run("rollback", "dev", "--to", "3").stdout.startswith(
        "no changes: shop dev is already at version 3; nothing was rolled back\n")


def test_rollback_takes_steps_or_a_version_not_both(run: Run, provider: MemoryProvider) -> None:
    result = run("rollback", "dev", "-n", "1", "--to", "2")
    assert result.exit_code == 2
    assert "-n and --to" in result.stderr
    assert provider.calls == []


def test_undeploy_needs_yes_when_not_interactive(run: Run, provider: MemoryProvider) -> None:
    refused = run("undeploy", "dev")
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert provider.calls == []
    assert run("undeploy", "dev", "--yes").exit_code == 0
    assert provider.calls == [("undeploy", "dev")]


def test_status_not_deployed_is_two_lines(run: Run, provider: MemoryProvider) -> None:
    result = run("status", "dev")
    assert result.exit_code == 1
    first, second = result.stderr.strip().splitlines()
    assert first == "error: stage 'dev' is not deployed"
    assert second == "fix: deploy the stage first: aloft deploy <stage>"


def test_status_renders_and_json(run: Run, provider: MemoryProvider) -> None:
    provider.deployed = True
    table = run("status", "dev")
    assert table.exit_code == 0, table.output
    assert "instances" in table.stdout and "http://127.0.0.1:9999/shop/dev/" in table.stdout
    as_json = run("status", "dev", "--json")
    assert json.loads(as_json.stdout)["version"] == 3


def test_invoke_deployed_function(run: Run, provider: MemoryProvider) -> None:
    result = run("invoke", "dev", "nightly", "--data", '{"n": 1}')
    assert result.exit_code == 0, result.output
    assert provider.calls == [("invoke", ("nightly", {"n": 1}, False))]
    assert json.loads(result.stdout) == {"ok": True}
    assert "a log line" in result.stderr


def test_invoke_default_stage_http_convenience(run: Run, provider: MemoryProvider) -> None:
    result = run("invoke", "app", "--path", "/cart?x=1", "--method", "post", "--body", "hi")
    assert result.exit_code == 0, result.output
    (_, (function, event, _)), = provider.calls
    assert (function, event["rawPath"], event["rawQueryString"]) == ("app", "/cart", "x=1")
    assert event["requestContext"]["http"]["method"] == "POST" and event["body"] == "hi"


def test_invoke_stage_with_raw_defaults_to_the_app(run: Run, provider: MemoryProvider) -> None:
    result = run("invoke", "dev", "--raw", "print(1)")
    assert result.exit_code == 0, result.output
    (_, (function, event, _)), = provider.calls
    assert (function, event) == ("app", {"aloft": "raw", "source": "print(1)"})


def test_invoke_failure_exits_1(run: Run, provider: MemoryProvider) -> None:
    result = run("invoke", "dev", "nightly", "--data", '{"fail": true}')
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"errorMessage": "boom"}
    assert "error: " in result.stderr and "ValueError: boom" in result.stderr
    # Lambda's error record, its lines joined by CR: one row each, not overwriting each other
    assert "[ERROR] ValueError: boom\nTraceback (most recent call last):\n  File \"jobs.py\"" \
        in result.stderr and "\r" not in result.stderr


def test_invoke_rejects_unknown_function_and_bad_json(run: Run, provider: MemoryProvider) -> None:
    unknown = run("invoke", "dev", "nope")
    assert unknown.exit_code == 2 and "app, nightly" in unknown.stderr
    bad = run("invoke", "dev", "app", "--data", "{nope")
    assert bad.exit_code == 2 and "not valid JSON" in bad.stderr
    both = run("invoke", "dev", "app", "--data", "{}", "--path", "/")
    assert both.exit_code == 2 and "cannot be combined" in both.stderr
    assert provider.calls == []


def test_manage_sends_the_envelope_and_prints_output(run: Run, monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    # a Django project (deploying one would run collectstatic: not what this tests)
    django = CONFIG.replace("app: shop.wsgi:application", "django_settings: shop.settings")
    provider = install(monkeypatch, tmp_path, django)
    result = run("manage", "dev", "migrate", "--noinput")
    assert result.exit_code == 0, result.output
    assert provider.calls == [
        ("invoke", ("app", {"aloft": "manage", "args": ["migrate", "--noinput"]}, False))
    ]
    assert result.stdout == "Applied 3 migrations.\n"


def test_tail_passes_filters_and_since(run: Run, provider: MemoryProvider) -> None:
    before = time.time()
    result = run("tail", "dev", "--function", "app", "--since", "2h", "--filter", "GET",
                 "--no-follow")
    assert result.exit_code == 0, result.output
    (_, (function, since, text, follow)), = provider.calls
    assert (function, text, follow) == ("app", "GET", False)
    assert before - 7200 - 1 <= since <= time.time() - 7200
    assert "shop-dev-app GET / 200" in result.stdout


def test_schedule_and_unschedule(run: Run, provider: MemoryProvider) -> None:
    assert "enabled shop-dev-nightly" in run("schedule", "dev").stdout
    assert "disabled shop-dev-nightly" in run("unschedule", "dev", "nightly").stdout
    assert provider.calls == [("schedule", (True, ())), ("schedule", (False, ("nightly",)))]


def test_missing_provider_module_is_a_provider_error(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    from aloft.config import load_project

    write(tmp_path, {"aloft.yml": CONFIG})
    service = load_project(tmp_path).service("dev")
    monkeypatch.setitem(providers._PROVIDERS, "local",
                        ("aloft.no_such_provider_module", "Nothing"))
    with pytest.raises(ProviderError) as info:
        providers.provider_for(service)
    assert "not available yet" in info.value.message
    assert info.value.where is not None and info.value.where.stage == "dev"


# -- what scripts read: `--json` prints the provider's records as they were -----------------------


def test_json_keeps_the_providers_keys(run: Run, provider: MemoryProvider) -> None:
    planned = json.loads(run("deploy", "dev", "--plan", "--json").stdout)
    assert planned["plan"] == [PLAN_STEP]  # the instruction in the provider's words
    assert set(planned) == {"url", "version", "functions", "changed", "plan"}
    provider.deployed = True
    assert json.loads(run("status", "dev", "--json").stdout) == STATUS


# -- capabilities: a command asks for what it needs, not which provider it holds -------------------


class DeadLetterProvider(MemoryProvider):
    """A provider with the DeadLetters capability."""

    def dead_letters(self, service: Service) -> list[DeadLetter]:
        self.calls.append(("dead_letters", service.stage))
        return [DeadLetter("e1", "shop-dev-nightly", "dev", 3, time.time() - 60, "dead",
                           "boom", '{"n": 1}')]

    def redrive(self, service: Service, ids: Sequence[str] = ()) -> list[str]:
        self.calls.append(("redrive", tuple(ids)))
        return list(ids) or ["e1"]


def test_commands_need_their_capability(run: Run, provider: MemoryProvider) -> None:
    assert not isinstance(provider, DeadLetters | Certifies | Templates | LocalRuns)
    dlq = run("dlq", "dev")
    assert dlq.exit_code == 2 and "keeps no failed async events" in dlq.stderr
    for command in ("certify", "template"):
        refused = run(command, "dev")
        assert refused.exit_code == 2, refused.output
        assert "stage 'dev' uses provider 'local'" in refused.stderr
    assert provider.calls == []


def test_dlq_lists_json_and_redrives(run: Run, monkeypatch: pytest.MonkeyPatch,
                                     tmp_path: Path) -> None:
    write(tmp_path, {"aloft.yml": CONFIG})
    letters = DeadLetterProvider()
    monkeypatch.setattr(providers, "provider_for", lambda service: letters)
    table = run("dlq", "dev")
    assert table.exit_code == 0, table.output
    assert "e1" in table.stdout and "nightly" in table.stdout and "boom" in table.stdout
    [event] = json.loads(run("dlq", "dev", "--json").stdout)
    assert list(event) == ["id", "function", "qualifier", "attempts", "created", "status",
                           "error", "payload"]  # the keys the control API has always sent
    assert run("dlq", "dev", "--redrive").stdout.strip() == "re-drove 1 event"
    assert letters.calls[-1] == ("redrive", ())
