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


def test_human_output_on_aws(project: Path) -> None:
    plan = run(project, "deploy", "prod", "--plan")
    assert "enabled: yes" in plan and "True" not in plan and "{" not in plan.replace("${", "")
    run(project, "deploy", "prod")
    again = run(project, "deploy", "prod")
    assert "no changes: hello prod serves version 1 already (nothing was deployed)" in again
    assert ".execute-api.eu-west-1.amazonaws.com/" in again  # the URL it serves
    assert "applied" not in again

    status = run(project, "status", "prod")
    for python_repr in ("True", "False", "None", "{", "'"):
        assert python_repr not in status, status
    lines = status.splitlines()
    assert any(line.split()[:2] == ["deployed", "at"] and line.endswith(("just now", "s ago"))
               for line in lines), status
    assert any(line.split() == ["hello-prod-tick-schedule", "enabled"] for line in lines)
    releases = lines.index("releases")
    assert lines[releases + 1].split() == ["release", "deployed", "current", "functions"]
    assert lines[releases + 2].split()[0] == "1"
    assert lines[releases + 2].split()[-5:] == ["yes", "app:", "1,", "tick:", "1"]

    back = CliRunner().invoke(cli, ["--chdir", str(project), "rollback", "prod", "--to", "5"])
    assert back.exit_code == 2
    error, fix = back.stderr.splitlines()
    assert error.startswith("error: ") and error.endswith("no release 5 to roll back to")
    assert fix == "fix: releases kept: 1 (`aloft status prod` lists them)"


def test_rollback_to_the_release_the_stage_serves_changes_nothing(project: Path) -> None:
    run(project, "deploy", "prod")
    (project / "app.py").write_text("def app(environ, start_response):\n    return [b'2']\n")
    run(project, "deploy", "prod")
    assert run(project, "rollback", "prod", "--to", "2").startswith(
        "no changes: hello prod is already at version 2; nothing was rolled back\n")
    assert run(project, "rollback", "prod", "--to", "1").startswith(
        "rolled hello prod back to version 3\n")  # release 3 repeats release 1
    # it serves release 1's versions, routes and rules already: nothing to apply or record
    again = run(project, "rollback", "prod", "--to", "1")
    assert again.startswith("no changes: hello prod is already at version 1 (version 3 "
                            "repeats it); nothing was rolled back\n"), again
    same = json.loads(run(project, "rollback", "prod", "--to", "1", "--json"))
    assert (same["changed"], same["version"], same["functions"]) == (
        False, 3, {"app": 1, "tick": 1})
    status = json.loads(run(project, "status", "prod", "--json"))
    assert [r["release"] for r in status["releases"]] == [1, 2, 3]


def test_json_keeps_its_keys(project: Path) -> None:
    """Scripts read these keys: the typed records print as the dicts they replaced."""
    planned = json.loads(run(project, "deploy", "prod", "--plan", "--json"))
    assert set(planned) == {"url", "version", "functions", "changed", "plan"}
    assert all({"op", "resource"} <= set(step) for step in planned["plan"])
    assert {"op": "CreateFunction", "resource": "hello-prod-tick"}.items() <= next(
        s for s in planned["plan"] if s["resource"] == "hello-prod-tick").items()
    run(project, "deploy", "prod")
    status = json.loads(run(project, "status", "prod", "--json"))
    assert list(status) == ["provider", "service", "stage", "region", "url", "release",
                            "deployed_at", "releases", "functions", "schedules", "api",
                            "resources", "deployment_bucket"]
    assert status["release"] == 1 and status["releases"][0]["current"] is True


def test_plan_shows_changes_status_shows_times_dlq_reads_the_queue(project: Path) -> None:
    run(project, "deploy", "prod")
    assert "no changes: hello prod is up to date" in run(project, "deploy", "prod", "--plan")
    (project / "aloft.yml").write_text(CONFIG.replace("app: app:app\n", (
        "app: app:app\nmemory: 1024\nenvironment: {API_TOKEN: s3cret}\n")))
    plan = run(project, "deploy", "prod", "--plan")
    assert "changes: memory 512 → 1024; environment +API_TOKEN=***" in plan
    assert "s3cret" not in plan
    status = run(project, "status", "prod")
    # a time for people ("just now" within a second of the deploy), not epoch seconds
    assert ("ago" in status or "just now" in status) and "17965" not in status
    assert "no dead-lettered events in hello prod" in run(project, "dlq", "prod")
