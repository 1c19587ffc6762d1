"""`aloft doctor`, `aloft completion` and `aloft dashboard --json` in-process."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from aloft.cli.commands.doctor import (
    check_data_plane,
    check_disk,
    check_isolation,
    check_python,
    check_token,
)
from aloft.cli.main import cli
from tests.unit.cli.cli_helpers import Run


def _checks(result_output: str) -> dict[str, dict[str, object]]:
    return {c["name"]: c for c in json.loads(result_output)["checks"]}


def test_all_required_checks_pass_on_a_fresh_home(run: Run, tmp_path: Path) -> None:
    home = tmp_path / "home"
    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run("doctor", "--home", str(home), "--port", str(port), "--json")
    assert result.exit_code == 0, result.output
    checks = _checks(result.output)
    assert set(checks) >= {"python", "pip", "venv", "local cloud", "token", "port", "chromium",
                           "disk", "isolation"}
    assert checks["isolation"]["required"] is False
    assert checks["python"]["status"] == "ok" and checks["pip"]["status"] == "ok"
    assert checks["port"]["detail"] == f"{port} is free"
    assert checks["chromium"]["required"] is False


def test_taken_port_and_open_token_fail_with_fixes(run: Run, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    token = home / "token"
    token.write_text("secret\n")
    os.chmod(token, 0o644)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run("doctor", "--home", str(home), "--port", str(port))
        as_json = run("doctor", "--home", str(home), "--port", str(port), "--json")
    assert result.exit_code == 1
    # the holder is this very process: /proc names it
    assert f"✗ port: {port} is taken by another program (pid {os.getpid()}: " in result.output
    assert "fix: use another port: `aloft --port" in result.output
    assert "ALOFT_PORT" in result.output
    assert f"fix: chmod 600 {token}" in result.output
    assert "secret" not in result.output  # the token's value is never shown
    checks = _checks(as_json.output)
    assert as_json.exit_code == 1 and json.loads(as_json.output)["ok"] is False
    assert checks["token"]["failed"] is True and checks["port"]["failed"] is True
    os.chmod(token, 0o600)
    assert check_token(home).status == "ok"


def test_python_and_disk_thresholds(tmp_path: Path) -> None:
    assert check_python((3, 10, 9)).failed
    assert check_python((3, 12, 0)).status == "ok"
    missing = tmp_path / "not" / "yet"
    assert check_disk(missing, lambda p: (0, 0, 10**6)).failed
    low = check_disk(missing, lambda p: (0, 0, 10**9))
    assert low.status == "warn" and not low.failed
    assert str(tmp_path) in check_disk(missing, lambda p: (0, 0, 10**12)).detail


def test_isolation_says_which_is_in_force() -> None:
    ok = check_isolation(lambda: ("namespaces", "user + mount namespaces: $ALOFT_HOME hidden"))
    assert ok.status == "ok" and "namespaces" in ok.detail
    landlock = check_isolation(lambda: ("landlock", "Landlock, without user namespaces"))
    assert landlock.status == "ok" and "Landlock" in landlock.detail
    off = check_isolation(lambda: ("none", "neither user namespaces nor Landlock (EPERM)"))
    assert off.status == "warn" and not off.failed and off.detail.startswith("none: ")
    assert off.fix is not None and "user.max_user_namespaces" in off.fix
    assert check_isolation(lambda: ("none", "turned off by ALOFT_SANDBOX=0")).fix is None


def test_completion_scripts_and_completing_a_command() -> None:
    runner = CliRunner()
    for shell, marker in (("bash", "complete -o nosort -F"), ("zsh", "#compdef aloft"),
                          ("fish", "complete --no-files --command aloft")):
        result = runner.invoke(cli, ["completion", shell])
        assert result.exit_code == 0 and marker in result.output, result.output
        assert "_ALOFT_COMPLETE" in result.output
    assert runner.invoke(cli, ["completion", "tcsh"]).exit_code != 0
    done = runner.invoke(cli, [], prog_name="aloft", env={
        "_ALOFT_COMPLETE": "bash_complete", "COMP_WORDS": "aloft do", "COMP_CWORD": "1"})
    assert "plain,doctor" in done.output.splitlines()
    done = runner.invoke(cli, [], prog_name="aloft", env={
        "_ALOFT_COMPLETE": "bash_complete", "COMP_WORDS": "aloft doctor --j", "COMP_CWORD": "2"})
    assert "plain,--json" in done.output.splitlines()


def test_data_plane_says_whether_a_daemon_would_run_it_compiled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aloft.local import compiled

    monkeypatch.delenv(compiled.ENV_SWITCH, raising=False)
    monkeypatch.setenv(compiled.ENV_DIR, str(tmp_path))
    missing = check_data_plane()
    assert missing.status == "warn" and not missing.failed
    assert missing.fix is not None and "python -m aloft.local.compiled" in missing.fix
    build = compiled.build_dir()  # a build of these sources (its manifest is what counts)
    build.mkdir(parents=True)
    (build / compiled.MANIFEST).write_text(json.dumps({"modules": list(compiled.MODULES)}))
    built = check_data_plane()
    assert (built.status, built.detail) == ("ok", f"compiled with mypyc ({build})")
    monkeypatch.setenv(compiled.ENV_SWITCH, "0")
    assert check_data_plane().detail == "Python sources (ALOFT_COMPILED=0)"
