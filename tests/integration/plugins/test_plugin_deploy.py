"""Plugins on a real local cloud through the real CLI: the order of step hooks, a model change
the function sees, an abort that leaves the old version serving, a plugin command, a config
section error and an unimportable plugin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aloft.plugins import DEPLOY_STEPS
from tests.integration.plugins import plugin_project as recorder
from tests.integration.plugins.plugin_helpers import Aloft, get, write

pytestmark = pytest.mark.slow


def project(tmp_path: Path, service: str, **kw: str) -> tuple[Path, dict[str, str]]:
    root = write(tmp_path / service, recorder.files(service, **kw))
    return root, {"RECORD_FILE": str(tmp_path / f"{service}.log")}


def recorded(env: dict[str, str]) -> list[str]:
    return Path(env["RECORD_FILE"]).read_text().splitlines()


def test_deploy_runs_each_step_with_hooks_before_at_after(aloft: Aloft, tmp_path: Path) -> None:
    root, env = project(tmp_path, "plug-order")
    done = aloft("deploy", "dev", "--json", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    expected: list[str] = []
    for step in DEPLOY_STEPS:
        expected += [f"before deploy:{step}", f"at deploy:{step}"]
        if step == "finalize":
            expected.append("deployed v1")
        expected.append(f"after deploy:{step}")
    assert recorded(env) == expected

    # aloft_service added GREETING to the model: the deployed function sees it.
    url = json.loads(done.stdout)["url"]
    status, body = get(url)
    assert status == 200 and json.loads(body) == {"version": "one",
                                                  "greeting": "hello from a plugin"}


def test_an_abort_before_apply_leaves_the_old_version_serving(aloft: Aloft,
                                                              tmp_path: Path) -> None:
    root, env = project(tmp_path, "plug-abort")
    first = aloft("deploy", "dev", "--json", cwd=root, env=env)
    assert first.returncode == 0, first.stderr
    url = json.loads(first.stdout)["url"]
    assert json.loads(get(url)[1])["version"] == "one"

    write(root, {"app.py": recorder.APP.format(version="two")})
    Path(env["RECORD_FILE"]).unlink()
    stopped = aloft("deploy", "dev", cwd=root, env={**env, "ABORT_AT": "before deploy:apply"})
    assert stopped.returncode == 1
    lines = stopped.stderr.strip().splitlines()
    assert lines[-2] == ("error: plugin 'rec_plugins.record' stopped before deploy:apply: "
                         "refusing at before deploy:apply")
    assert lines[-1].startswith("fix: the previous version keeps serving")
    assert "at deploy:apply" not in recorded(env) and "after deploy:upload" in recorded(env)
    assert json.loads(get(url)[1])["version"] == "one"  # the old version still answers

    again = aloft("deploy", "dev", cwd=root, env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(get(url)[1])["version"] == "two"


def test_rollback_runs_as_steps_too(aloft: Aloft, tmp_path: Path) -> None:
    root, env = project(tmp_path, "plug-rollback")
    for version in ("one", "two"):
        write(root, {"app.py": recorder.APP.format(version=version)})
        assert aloft("deploy", "dev", cwd=root, env=env).returncode == 0
    Path(env["RECORD_FILE"]).unlink()
    back = aloft("rollback", "dev", cwd=root, env=env)
    assert back.returncode == 0, back.stderr
    assert recorded(env) == [f"{when} rollback:{step}" for step in ("start", "run", "finish")
                             for when in ("before", "at", "after")]


def test_a_plugin_command_is_listed_and_runs(aloft: Aloft, tmp_path: Path) -> None:
    root, env = project(tmp_path, "plug-command")
    Path(env["RECORD_FILE"]).write_text("a\nb\nc\nd\n")
    helped = aloft("--help", cwd=root, env=env)
    assert helped.returncode == 0, helped.stderr
    assert "recorded" in helped.stdout and "Print what the recorder plugin recorded." \
        in helped.stdout
    ran = aloft("recorded", "--last", "2", cwd=root, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == ["c", "d"]
    elsewhere = aloft("-C", str(root), "recorded", "--last", "1", cwd=tmp_path, env=env)
    assert elsewhere.stdout.splitlines() == ["d"]


def test_a_bad_plugin_section_is_reported_with_file_and_line(aloft: Aloft,
                                                             tmp_path: Path) -> None:
    root, env = project(tmp_path, "plug-section")
    config = (root / "aloft.yml").read_text().replace("recorder:\n", "recorder:\n  times: many\n")
    (root / "aloft.yml").write_text(config)
    line = config.splitlines().index("  times: many") + 1
    for command in (["deploy", "dev"], ["validate"]):
        failed = aloft(*command, cwd=root, env=env)
        assert failed.returncode == 1
        assert f"aloft.yml:{line}" in failed.stderr and "recorder.times" in failed.stderr, \
            failed.stderr


def test_an_unimportable_plugin_names_itself_its_line_and_the_fix(aloft: Aloft,
                                                                  tmp_path: Path) -> None:
    root, env = project(tmp_path, "plug-missing")
    config = (root / "aloft.yml").read_text().replace("rec_plugins.record", "rec_plugins.recordd")
    (root / "aloft.yml").write_text(config)
    line = config.splitlines().index("  - rec_plugins.recordd") + 1
    failed = aloft("deploy", "dev", cwd=root, env=env)
    assert failed.returncode == 1
    error, fix = failed.stderr.strip().splitlines()[-2:]
    assert f"aloft.yml:{line}:" in error and "'rec_plugins.recordd' cannot be imported" in error
    assert fix.startswith("fix: pip install") and "rec_plugins/recordd.py" in fix


def test_keep_warm_is_scheduled_by_its_plugin_on_the_local_cloud(aloft: Aloft,
                                                                 tmp_path: Path) -> None:
    root, env = project(tmp_path, "plug-warm", keep_warm="2 minutes")
    done = aloft("deploy", "dev", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    status = json.loads(aloft("status", "dev", "--json", cwd=root, env=env).stdout)
    assert [(s["name"], s["function"], s["expression"], s["enabled"])
            for s in status["schedules"]] == [
        ("plug-warm-dev-keep-warm", "plug-warm-dev-app", "rate(2 minutes)", True)]
