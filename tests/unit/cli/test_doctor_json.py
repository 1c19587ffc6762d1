"""`--json` on the commands scripts drive (rollback, tail, schedule, unschedule, undeploy,
validate): each prints one parseable document (tail: one object per line) and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aloft.provider import LogLine
from tests.unit.cli.cli_helpers import Run, write
from tests.unit.cli.memory_provider import MemoryProvider, install

CONFIG = """\
service: shop
app: app:app
functions:
  nightly:
    handler: jobs.nightly
    events:
      - schedule: "rate(1 day)"
stages:
  dev: {}
"""


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> MemoryProvider:
    memory = install(monkeypatch, tmp_path, CONFIG)
    memory.log_lines = [
        LogLine(timestamp=1.5, function="app", text="GET / 200", request_id="r1"),
        LogLine(timestamp=2.5, function="app", text='say "hi"\n', request_id=None)]
    return memory


def test_rollback_json(run: Run, recorder: MemoryProvider) -> None:
    result = run("rollback", "dev", "-n", "2", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"url": "http://127.0.0.1:9999/shop/dev/", "version": 1,
                                         "functions": {"app": 1}, "changed": True}


def test_tail_json_lines(run: Run, recorder: MemoryProvider) -> None:
    result = run("tail", "dev", "--no-follow", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {"timestamp": 1.5, "function": "app", "request_id": "r1", "text": "GET / 200"},
        {"timestamp": 2.5, "function": "app", "request_id": None, "text": 'say "hi"\n'},
    ]


def test_schedule_unschedule_undeploy_json(run: Run, recorder: MemoryProvider) -> None:
    assert json.loads(run("schedule", "dev", "--json").stdout) == {
        "enabled": True, "changed": ["shop-dev-nightly"]}
    assert json.loads(run("unschedule", "dev", "--json").stdout)["enabled"] is False
    done = run("undeploy", "dev", "--yes", "--json")
    assert json.loads(done.stdout) == {"service": "shop", "stage": "dev", "undeployed": True}
    assert recorder.calls == [("schedule", (True, ())), ("schedule", (False, ())),
                              ("undeploy", "dev")]


def test_validate_json(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {"aloft.yml": CONFIG, "app.py": "app = object()\n",
                     "jobs.py": "import requests\n\ndef nightly(event, context): ...\n"})
    result = run("validate", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["valid"] is True and data["errors"] == []
    assert data["services"]["dev"]["service"] == "shop"
    assert data["warnings"] == [
        "jobs.py:1 imports `requests`, which is neither in the project nor in requirements.txt: "
        "add `requests` to it, unless another requirement installs it"]
    write(tmp_path, {"aloft.yml": CONFIG.replace("rate(1 day)", "every day")})
    bad = run("validate", "--json")
    assert bad.exit_code == 1
    data = json.loads(bad.stdout)
    assert data["valid"] is False and "every day" in data["errors"][0]["error"]


def test_cloud_stop_json_when_nothing_runs(run: Run, tmp_path: Path) -> None:
    result = run("cloud", "stop", "--home", str(tmp_path / "home"), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"stopped": False}
    status = run("cloud", "status", "--home", str(tmp_path / "home"), "--json")
    assert json.loads(status.stdout)["running"] is False
