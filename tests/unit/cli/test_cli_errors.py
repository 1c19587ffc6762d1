"""The top level's contract: two lines for an AloftError (its detail, if any, in between), exit
codes 1 and 2, no tracebacks."""

from __future__ import annotations

import signal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from aloft.cli import errors
from aloft.cli.errors import format_error
from aloft.cli.main import cli
from aloft.cli.prompts import Declined
from aloft.errors import (
    AloftError,
    ConfigError,
    ConfigErrors,
    Interrupted,
    Location,
    UsageError,
)
from tests.unit.cli.cli_helpers import Run, write


def lines(text: str) -> list[str]:
    return text.strip().splitlines()


def test_config_error_is_two_lines_with_file_and_line(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {"aloft.yml": "service: demo\napp: app:app\nmemroy: 256\n"})
    result = run("validate")
    assert result.exit_code == 1
    first, second = lines(result.stderr)
    assert first.startswith("error: ") and "aloft.yml:3" in first and "memroy" in first
    assert second.startswith("fix: ")
    assert "Traceback" not in result.output


def test_missing_config_says_to_run_init(run: Run) -> None:
    result = run("package")
    assert result.exit_code == 1
    first, second = lines(result.stderr)
    assert first.startswith("error: ") and "no aloft.yml" in first
    assert "aloft init" in second


def test_usage_error_exits_2(run: Run, tmp_path: Path) -> None:
    write(tmp_path, {"aloft.yml": "service: demo\napp: app:app\n"})
    result = run("tail", "dev", "--since", "ten minutes")
    assert result.exit_code == 2
    first, second = lines(result.stderr)
    assert first == "error: --since 'ten minutes' is not a duration"
    assert second.startswith("fix: write a whole number and a unit")


def test_click_usage_errors_use_the_same_format(run: Run) -> None:
    result = run("deploy")  # STAGE missing
    assert result.exit_code == 2
    first, second = lines(result.stderr)
    assert first.startswith("error: Missing argument")
    assert second == "fix: see `aloft deploy --help`"
    unknown = run("deploy", "dev", "--bogus")
    assert unknown.exit_code == 2
    assert lines(unknown.stderr)[0].startswith("error: No such option")
    assert "--bogus" in unknown.stderr


def test_unexpected_exception_is_one_line_plus_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    @click.command("explode")
    def explode() -> None:
        raise RuntimeError("kaboom\nsecond line")

    monkeypatch.setitem(cli.commands, "explode", explode)
    result = CliRunner().invoke(cli, ["explode"])
    assert result.exit_code == 1
    assert lines(result.stderr) == [
        "error: unexpected RuntimeError: kaboom; second line",
        "run with --verbose for the traceback",
    ]
    verbose = CliRunner().invoke(cli, ["--verbose", "explode"])
    assert verbose.exit_code == 1
    assert "Traceback (most recent call last)" in verbose.stderr
    assert "hint" not in verbose.stderr


def test_format_error_collapses_lines_and_falls_back_to_a_fix() -> None:
    error = ConfigError("bad value\nreally", where=Location(file="aloft.yml", line=4, stage="dev"))
    assert format_error(error) == (
        "error: aloft.yml:4, stage 'dev': bad value; really",
        "fix: correct aloft.yml, then check it with `aloft validate`",
    )
    many = ConfigErrors([ConfigError("one", fix="a"), ConfigError("two", fix="b")])
    assert format_error(many) == ("error: one (and 1 more problem(s))", "fix: a")


def test_the_fallback_fix_names_the_file_the_error_is_in() -> None:
    """serverless.yml and zappa_settings.json are read as they are: the fix names them, not
    an aloft.yml the project does not have."""
    error = ConfigError("nothing to deploy", where=Location(file="/p/serverless.yml", line=1))
    assert format_error(error)[1] == "fix: correct serverless.yml, then check it with " \
        "`aloft validate`"
    errors = ConfigErrors([ConfigError("a", where=Location(file="/p/zappa_settings.json")),
                           ConfigError("b")])
    assert format_error(errors)[1] == "fix: correct zappa_settings.json; `aloft validate` " \
        "lists every problem"
    assert format_error(ConfigError("no file"))[1] == "fix: correct aloft.yml, then check it " \
        "with `aloft validate`"


def test_run_returns_exit_codes() -> None:
    def fail(error: BaseException) -> None:
        raise error

    def interrupted() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise click.exceptions.Abort() from exc

    assert errors.run(lambda: fail(UsageError("x", fix="y")), verbose=False) == 2
    assert errors.run(lambda: fail(AloftError("x")), verbose=False) == 1
    assert errors.run(lambda: 3, verbose=False) == 3  # click's ctx.exit(3)
    assert errors.run(lambda: None, verbose=False) == 0
    assert errors.run(interrupted, verbose=False) == 130
    assert errors.run(lambda: fail(click.exceptions.Abort()), verbose=False) == 1


def test_interrupts_and_cancelled_prompts(capsys: pytest.CaptureFixture[str]) -> None:
    def fail(error: BaseException) -> None:
        raise error

    def ctrl_c_at_prompt() -> None:  # click.confirm: `raise Abort() from None` on Ctrl-C
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise click.exceptions.Abort() from None

    assert errors.run(lambda: fail(KeyboardInterrupt()), verbose=False) == 130
    assert capsys.readouterr().err == "interrupted\n"
    assert errors.run(ctrl_c_at_prompt, verbose=False) == 130
    assert capsys.readouterr().err == "interrupted\n"
    detail = "the new version was not published\nversion 2 keeps serving"
    assert errors.run(lambda: fail(Interrupted(detail)), verbose=False) == 130
    assert capsys.readouterr().err == (
        "interrupted: the new version was not published; version 2 keeps serving\n")
    assert errors.run(lambda: fail(Interrupted(exit_code=143)), verbose=False) == 143
    assert capsys.readouterr().err == "terminated\n"
    # answering no at a confirmation prompt (or end of input there): what it left
    assert errors.run(lambda: fail(Declined("nothing was undeployed")), verbose=False) == 1
    assert capsys.readouterr().err == "aborted: nothing was undeployed\n"
    assert errors.run(lambda: fail(click.exceptions.Abort()), verbose=False) == 1
    assert capsys.readouterr().err == "aborted\n"  # click's own, never "Aborted!"


def test_sigterm_unwinds_like_ctrl_c() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    try:
        errors.install_signal_handlers()
        with pytest.raises(Interrupted) as caught:
            signal.raise_signal(signal.SIGTERM)
        assert caught.value.exit_code == 143 and isinstance(caught.value, KeyboardInterrupt)
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_bare_group_prints_its_help(run: Run) -> None:
    result = CliRunner().invoke(cli, [])
    assert result.exit_code == 2
    assert result.stderr.startswith("Usage: aloft [OPTIONS] COMMAND")
    assert "error:" not in result.stderr


def test_version_and_help(run: Run) -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("aloft, version ")


def test_an_error_with_detail_shows_it_between_its_two_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aloft.errors import DeployError

    error = DeployError(
        "version 2 of 'app' failed to initialise; the previous version keeps serving",
        where=Location(function="app", stage="dev"),
        detail="Runtime.ImportModuleError: m\n  File \"/p/app.py\", line 1, in <module>\n"
               "    import requests\n",
        fix="add `requests` to requirements.txt",
    )
    assert errors.error_lines(error) == [
        "error: function 'app', stage 'dev': version 2 of 'app' failed to initialise; the "
        "previous version keeps serving",
        "  Runtime.ImportModuleError: m",
        '    File "/p/app.py", line 1, in <module>',
        "      import requests",
        "fix: add `requests` to requirements.txt",
    ]
    assert errors.error_text(error).splitlines()[0].startswith("function 'app', stage 'dev'")
    assert errors.error_text(error).splitlines()[-1] == "  fix: add `requests` to requirements.txt"
    assert str(error).splitlines()[1] == "  Runtime.ImportModuleError: m"

    @click.command("deployish")
    def deployish() -> None:
        raise error

    monkeypatch.setitem(cli.commands, "deployish", deployish)
    result = CliRunner().invoke(cli, ["deployish"])
    assert result.exit_code == 1
    assert lines(result.stderr) == errors.error_lines(error)


def test_the_detail_crosses_the_control_api() -> None:
    import json

    from aloft.errors import DeployError
    from aloft.local.control.client import _error_from
    from aloft.local.control.control_api import error_reply

    sent = DeployError("failed", where=Location(function="app"), detail="T: m\n  File x",
                       fix="do y")
    reply = error_reply(sent)
    back = _error_from(reply.status, json.loads(reply.body), reply.body)
    assert isinstance(back, DeployError)
    assert (back.message, back.detail, back.fix, back.where) == (
        "failed", "T: m\n  File x", "do y", sent.where)
