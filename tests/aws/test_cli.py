"""The CLI on an aws stage, end to end in-process: the default provider, builder and client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from aloft.cli.main import cli
from tests.aws.conftest import boto

CONFIG = """\
service: hello
app: app:app
functions:
  tick:
    handler: jobs.tick
    events:
      - schedule: rate(1 hour)
stages:
  prod:
    provider: aws
    aws:
      region: eu-west-1
"""


@pytest.fixture
def project(tmp_path: Path, moto: None) -> Iterator[Path]:
    (tmp_path / "aloft.yml").write_text(CONFIG)
    (tmp_path / "app.py").write_text("def app(environ, start_response):\n    return []\n")
    (tmp_path / "jobs.py").write_text("def tick(event, context):\n    return 1\n")
    yield tmp_path


def run(project: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--chdir", str(project), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_deploy_status_template_undeploy(project: Path) -> None:
    plan = run(project, "deploy", "prod", "--plan")
    assert "CreateFunction" in plan and "hello-prod-tick" in plan
    assert boto("lambda").list_functions()["Functions"] == []
    out = run(project, "deploy", "prod")
    assert ".execute-api.eu-west-1.amazonaws.com/" in out
    status = json.loads(run(project, "status", "prod", "--json"))
    assert status["functions"]["tick"]["version"] == "1"
    assert status["schedules"] == {"hello-prod-tick-schedule": "enabled"}
    run(project, "unschedule", "prod", "tick")
    assert boto("events").describe_rule(Name="hello-prod-tick-schedule")["State"] == "DISABLED"
    template = json.loads(run(project, "template", "prod"))
    assert "LayerKey" not in template["Parameters"]  # no requirements: no layer
    run(project, "undeploy", "prod", "--yes")
    assert boto("lambda").list_functions()["Functions"] == []
