from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.cli.cli_helpers import Run, write

FUNCTIONS = """\
service: shop
app: web:app
functions:
  nightly:
    handler: jobs.nightly
    events:
      - schedule: "cron(0 2 * * ? *)"
  worker:
    handler: jobs.work
    events:
      - queue: orders
resources:
  queues:
    orders: {dead_letter: true}
stages:
  dev: {}
  prod:
    provider: aws
    memory: 2048
"""


CODE = {"web.py": "app = object()\n",
        "jobs.py": "def nightly(event, context): ...\n\ndef work(event, context): ...\n"}


def test_validate_prints_the_service_summary(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {"aloft.yml": FUNCTIONS, **CODE})
    result = run("validate")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "shop stage dev provider local" in out
    assert "web:app" in out and "http ANY /{proxy+}" in out
    assert "nightly" in out and "schedule cron(0 2 * * ? *)" in out
    assert "worker" in out and "queue orders" in out
    assert "queues: orders" in out
    assert "is valid (dev)" in result.stderr


def test_validate_a_named_stage_and_all_stages(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {"aloft.yml": FUNCTIONS, **CODE})
    prod = run("validate", "prod")
    assert prod.exit_code == 0, prod.output
    assert "shop stage prod provider aws" in prod.stdout
    both = run("validate", "--all-stages")
    assert both.exit_code == 0, both.output
    assert "stage dev" in both.stdout and "stage prod" in both.stdout


def test_unknown_stage_is_an_error_naming_the_stages(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {"aloft.yml": FUNCTIONS})
    result = run("validate", "staging")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 2
    assert "staging" in result.stderr and "dev" in result.stderr


def test_every_config_error_is_listed(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {"aloft.yml": "service: shop\napp: web:app\nmemory: 5\ntimeout: 0\n"})
    result = run("validate")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    fixes = [line for line in result.stderr.splitlines() if line.strip().startswith("fix: ")]
    assert len(errors) >= 2 and len(fixes) == len(errors)
    assert any("memory" in e for e in errors) and any("timeout" in e for e in errors)


def test_schema_is_json_schema_for_aloft_yml(run: Run) -> None:
    result = run("schema")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert "service" in schema["properties"]
    assert "functions" in schema["properties"]


def test_validate_checks_the_code_the_config_names(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {"aloft.yml": FUNCTIONS.replace("jobs.work", "jobs.wrok"), **CODE,
                     "web.py": "import helpers\napp = object()\n",
                     "helpers.py": "import requests\n"})
    result = run("validate")
    assert result.exit_code == 1
    error, fix = [line.strip() for line in result.stderr.splitlines()
                  if line.strip().startswith(("error:", "fix:"))]
    assert error.startswith(f"error: {tmp_path / 'aloft.yml'}:9:")
    assert error.endswith("`handler: jobs.wrok`: jobs.py does not define `wrok`")
    assert fix == "fix: did you mean `jobs.work`?"
    assert "warning: helpers.py:1 imports `requests`" in result.stderr.replace("\n", " ")


ZAPPA = '{"dev": {"app_function": "app.app", "project_name": "shop", "runtime": "python3.12"}}'
SERVERLESS = """service: shop
provider:
  name: aws
  runtime: python3.12
functions:
  hello:
    handler: handlers.hello
"""


def test_validate_a_zappa_or_serverless_file_says_it_is_read_as_it_is(
    run: Run, tmp_path: Path
) -> None:
    write(tmp_path, {"zappa_settings.json": ZAPPA, "app.py": "app = object()\n",
                     "serverless.yml": SERVERLESS,
                     "handlers.py": "def hello(event, context): ...\n"})
    for name in ("zappa_settings.json", "serverless.yml"):
        result = run("validate", name)
        assert result.exit_code == 0, result.output
        text = " ".join(result.stderr.split())
        assert f"aloft reads {name} directly: every command" in text
        assert "`aloft import`" in text and "not valid" not in text
        assert f"{tmp_path / name} is valid" in text
    missing = run("validate", "serverless.yaml")
    assert missing.exit_code == 2
    assert "serverless.yaml is not a file" in missing.stderr


def test_a_config_file_given_as_a_stage_says_what_to_do(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {"aloft.yml": FUNCTIONS, **CODE})
    result = run("status", "zappa_settings.json")
    assert result.exit_code == 1
    text = " ".join(result.stderr.split())
    assert "'zappa_settings.json' is a config file, not a stage of aloft.yml" in text
    assert "name a stage (dev, prod)" in text


def test_a_declared_python_not_installed_here_is_one_warning(
        run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))  # no python3.99 anywhere
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    write(tmp_path, {"aloft.yml": FUNCTIONS.replace("app: web:app", "app: web:app\nruntime: "
                                                    "python3.99"), **CODE})
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert result.output.count("declared python3.99, running on 3.") == 1
    assert "install python3.99 to match Lambda" in result.output
