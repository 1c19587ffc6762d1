"""Shell completion of stage and function names, through click's own completion protocol
(`_ALOFT_COMPLETE`, COMP_WORDS, COMP_CWORD) driving the real `aloft` command."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from aloft.cli.main import cli
from tests.unit.cli.cli_helpers import write

CONFIG = """\
service: shop
app: app:app
functions:
  worker:
    handler: jobs.work
  nightly:
    handler: jobs.nightly
stages:
  dev: {}
  staging:
    extends: dev
  prod:
    provider: aws
    functions:
      report:
        handler: jobs.report
"""


def complete(line: str, cwd: Path, shell: str = "bash") -> list[str]:
    """What `aloft` offers for the last word of `line` (a trailing space: a new word)."""
    words = shlex.split(line)
    cword = len(words) if line.endswith(" ") else len(words) - 1
    result = CliRunner().invoke(cli, [], prog_name="aloft", env={
        "_ALOFT_COMPLETE": f"{shell}_complete", "COMP_WORDS": line, "COMP_CWORD": str(cword),
        "ALOFT_HOME": str(cwd / "no-home")})
    assert result.exit_code == 0, result.output
    rows = [row for row in result.output.splitlines() if row]
    if shell == "bash":  # "type,value" per line
        return [row.split(",", 1)[1] for row in rows]
    return rows


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path, {"aloft.yml": CONFIG})
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("command", [
    "deploy", "status", "rollback", "tail", "undeploy", "dlq", "manage", "template", "certify",
    "schedule", "unschedule", "package", "validate", "dev", "secret list", "secret set",
])
def test_stage_arguments_complete_the_configs_stages(project: Path, command: str) -> None:
    assert complete(f"aloft {command} ", project) == ["dev", "staging", "prod"]
    assert complete(f"aloft {command} st", project) == ["staging"]


def test_function_names_come_from_the_stage_given(project: Path) -> None:
    assert complete("aloft tail dev --function ", project) == ["app", "worker", "nightly"]
    assert complete("aloft tail prod -f ", project) == ["app", "worker", "nightly", "report"]
    assert complete("aloft tail prod --function r", project) == ["report"]


def test_invoke_completes_a_stage_then_its_functions(project: Path) -> None:
    assert complete("aloft invoke ", project) == ["dev", "staging", "prod"]
    assert complete("aloft invoke prod ", project) == ["app", "worker", "nightly", "report"]
    assert complete("aloft invoke dev w", project) == ["worker"]
    assert complete("aloft invoke dev worker ", project) == []  # both given
    # --local runs a function of the default stage: no stage first
    assert complete("aloft invoke --local ", project) == ["app", "worker", "nightly"]
    assert complete("aloft invoke --local n", project) == ["nightly"]


def test_the_help_of_a_function_is_what_runs(project: Path) -> None:
    offered = complete("aloft tail dev --function ", project, shell="zsh")
    # zsh: type, value, help per item
    assert offered[:6] == ["plain", "app", "app:app", "plain", "worker", "jobs.work"]


def test_chdir_names_the_project(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = tmp_path_factory.mktemp("other")
    write(other, {"aloft.yml": "service: other\napp: app:app\nstages:\n  qa: {}\n"})
    assert complete(f"aloft -C {other} deploy ", project) == ["qa"]
    assert complete(f"aloft --chdir {other} tail qa -f ", project) == ["app"]


def test_no_config_or_a_broken_one_completes_nothing(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert complete("aloft deploy ", tmp_path) == []
    (tmp_path / "aloft.yml").write_text("service: [unclosed\n")
    assert complete("aloft deploy ", tmp_path) == []
    assert complete("aloft tail dev -f ", tmp_path) == []


def test_a_config_without_stages_offers_its_default_stage(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"aloft.yml": "service: solo\nfunctions:\n  hello:\n    handler: h.h\n"})
    monkeypatch.chdir(tmp_path)
    assert complete("aloft deploy ", tmp_path) == ["dev"]
    assert complete("aloft invoke dev ", tmp_path) == ["hello"]
