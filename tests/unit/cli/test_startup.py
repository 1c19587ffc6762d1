"""Startup: `aloft --help` and completion import no command module, no pydantic validator build,
no rich, no provider; the lazy command table says exactly what the commands say.

The import checks run a fresh interpreter (this test process has imported everything already);
they assert which modules load, never how long it takes (the machine is shared).
"""

from __future__ import annotations

import copy
import importlib
import json
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import aloft.cli.commands
from aloft.cli.main import ALIASES, COMMANDS, CommandEntry, _AloftGroup, cli

HEAVY = ("pydantic", "aloft.config.models", "rich", "aloft.cli.render", "boto3", "botocore",
         "pluggy", "aloft.plugins", "aloft.local", "aloft.aws", "aloft.package", "aloft.provider",
         "aloft.cli.commands")
"""Nothing `aloft --help` or completion needs: not even pydantic (the config is read, not
validated, to find plugin commands)."""

_PROBE = textwrap.dedent("""
    import atexit, json, sys

    def report():
        models = sys.modules.get("aloft.config.models")
        with open(sys.argv[1], "w") as out:
            json.dump({"modules": sorted(sys.modules),
                       "service_built": bool(models and models.Service.__pydantic_complete__)},
                      out)

    atexit.register(report)
    from aloft.cli.main import main
    main(sys.argv[2:])
""")


def _startup(cwd: Path, tmp_path: Path, *args: str) -> dict[str, object]:
    """What a fresh `aloft ARGS` in `cwd` imported, and whether it built the Service model."""
    out = tmp_path / "probe.json"
    done = subprocess.run([sys.executable, "-c", _PROBE, str(out), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(out.read_text())
    return found


def _heavy(modules: object) -> list[str]:
    assert isinstance(modules, list)
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


@pytest.mark.parametrize("where", ["no config", "a project"])
def test_help_imports_no_command_and_builds_no_model(where: str, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    if where == "a project":  # no `plugins:`: the config is read, not validated
        (project / "aloft.yml").write_text("service: quick\napp: app:app\n")
    found = _startup(project, tmp_path, "--help")
    assert _heavy(found["modules"]) == []
    assert found["service_built"] is False


def test_completion_imports_no_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_ALOFT_COMPLETE", "zsh_complete")
    monkeypatch.setenv("COMP_WORDS", "aloft ")
    monkeypatch.setenv("COMP_CWORD", "1")
    found = _startup(tmp_path, tmp_path)
    assert _heavy(found["modules"]) == []


STAGE_COMPLETION_HEAVY = ("pydantic", "aloft.config.models", "rich", "boto3", "botocore",
                          "pluggy", "aloft.plugins", "aloft.local", "aloft.aws", "aloft.package")
"""What completing a command's STAGE or function must not import (the command's own module and
the config reader load; the config is read, not validated)."""


@pytest.mark.parametrize("words", [
    "aloft deploy ", "aloft status ", "aloft rollback ", "aloft undeploy ", "aloft schedule ",
    "aloft secret list ", "aloft dlq ", "aloft package ", "aloft manage ", "aloft invoke ",
    "aloft invoke dev ", "aloft invoke --local ",
])
def test_completing_a_stage_or_function_reads_the_config_cheaply(
    words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "aloft.yml").write_text("service: quick\napp: app:app\nstages:\n  dev: {}\n")
    monkeypatch.setenv("_ALOFT_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(len(words.split())))
    found = _startup(project, tmp_path)
    modules = found["modules"]
    assert isinstance(modules, list)
    assert [m for m in modules if any(m == h or m.startswith(h + ".")
                                      for h in STAGE_COMPLETION_HEAVY)] == []
    assert found["service_built"] is False


def test_a_command_imports_only_its_own_module(tmp_path: Path) -> None:
    found = _startup(tmp_path, tmp_path, "schema")
    modules = found["modules"]
    assert isinstance(modules, list)
    assert [m for m in modules if m.startswith("aloft.cli.commands.")] == [
        "aloft.cli.commands.schema"]
    # JSON output: no rich; no provider
    assert not [m for m in modules if m.split(".")[0] in ("rich", "boto3", "botocore")]
    assert not [m for m in modules if m.startswith(("aloft.local", "aloft.aws"))]


def _commands_in_modules() -> set[tuple[str, str]]:
    """(module, attribute) of every top-level command (not a group's subcommand) defined in
    aloft.cli.commands."""
    found = set()
    for info in pkgutil.iter_modules(aloft.cli.commands.__path__):
        module = importlib.import_module(f"aloft.cli.commands.{info.name}")
        defined = {k: v for k, v in vars(module).items() if isinstance(v, click.Command)
                   and v.callback is not None and v.callback.__module__ == module.__name__}
        nested = {id(c) for v in defined.values() if isinstance(v, click.Group)
                  for c in v.commands.values()}
        found |= {(info.name, k) for k, v in defined.items() if id(v) not in nested}
    return found


def test_the_table_names_every_command_module() -> None:
    assert {(e.module, e.attribute) for e in COMMANDS} == _commands_in_modules()


@pytest.mark.parametrize("entry", COMMANDS, ids=lambda e: e.name)
def test_the_table_summarises_each_command_as_it_does(entry: CommandEntry) -> None:
    real, summary = entry.load(), entry.summary()
    assert real.name == entry.name
    assert real.hidden is False and not real.deprecated
    for limit in (20, 45, 64, 120):
        assert summary.get_short_help_str(limit) == real.get_short_help_str(limit)


def _fresh() -> _AloftGroup:
    """`cli` as a new process has it: no command module loaded into it yet."""
    group = copy.copy(cli)
    group.commands = {}
    return group


@pytest.mark.parametrize("width", [None, 50])
def test_help_is_the_same_before_and_after_loading_every_command(width: int | None) -> None:
    group = _fresh()
    lazy = CliRunner().invoke(group, ["--help"], terminal_width=width)
    assert lazy.exit_code == 0, lazy.output
    assert group.commands == {}  # nothing was imported for it
    ctx = click.Context(group)
    for name in [*(e.name for e in COMMANDS), *ALIASES]:
        assert group.get_command(ctx, name) is not None
    loaded = CliRunner().invoke(group, ["--help"], terminal_width=width)
    assert lazy.output == loaded.output
    assert "  update      Same as `aloft deploy`." in loaded.output


def test_completion_is_the_same_before_and_after_loading_every_command() -> None:
    group = _fresh()

    def complete(incomplete: str) -> list[tuple[str, str | None]]:
        ctx = group.make_context("aloft", [], resilient_parsing=True)
        return [(item.value, item.help) for item in group.shell_complete(ctx, incomplete)]

    lazy = {incomplete: complete(incomplete) for incomplete in ("", "s", "te", "-")}
    assert group.commands == {}
    for name in [*(e.name for e in COMMANDS), *ALIASES]:
        group.get_command(click.Context(group), name)
    assert lazy == {incomplete: complete(incomplete) for incomplete in lazy}
    assert ("template", "Print the CloudFormation template of an...") in lazy["te"]
    assert ("--chdir", "Run as if started in DIR (where aloft.yml is).") in lazy["-"]


def test_a_mistyped_command_gets_suggestions_from_unloaded_commands() -> None:
    result = CliRunner().invoke(_fresh(), ["valdate"])
    assert result.exit_code == 2
    assert "No such command 'valdate'. (Did you mean one of: 'update', 'validate'?)" \
        in result.stderr


def test_a_serverless_command_names_aloft_s_own() -> None:
    for typed, ours in (("logs", "tail"), ("remove", "undeploy"), ("info", "status"),
                        ("offline", "dev")):
        result = CliRunner().invoke(_fresh(), [typed, "dev"])
        assert result.exit_code == 2
        assert f"No such command {typed!r}: `aloft {ours}` does what `serverless {typed}` " \
            "does." in result.stderr


def test_builtin_plugins_add_no_commands() -> None:
    # Listing skips loading the plugins of a project that lists none: only true while
    # aloft's own plugins add no command.
    from aloft.plugins import builtin_plugins

    assert builtin_plugins().commands() == []


PLUGIN = '''
import click
from aloft.plugins import hookimpl


@click.command("hello", short_help="Say hello from a plugin.")
def hello():
    click.echo("hello")


@hookimpl
def aloft_commands():
    return [hello]
'''


def test_a_plugin_command_is_listed_and_a_broken_config_still_explains(tmp_path: Path) -> None:
    module = tmp_path / "startup_hello_plugin.py"
    module.write_text(PLUGIN)
    config = tmp_path / "aloft.yml"
    config.write_text("service: quick\napp: app:app\nplugins: [startup_hello_plugin]\n")
    try:
        listed = CliRunner().invoke(_fresh(), ["-C", str(tmp_path), "--help"])
        assert "  hello       Say hello from a plugin." in listed.output
        assert CliRunner().invoke(_fresh(), ["-C", str(tmp_path), "hello"]).output == "hello\n"
        config.write_text("service: quick\napp: app:app\nmemory: lots\n")
        helped = CliRunner().invoke(_fresh(), ["-C", str(tmp_path), "--help"])
        assert helped.exit_code == 0 and "hello" not in helped.output
        missing = CliRunner().invoke(_fresh(), ["-C", str(tmp_path), "hello"])
        assert missing.exit_code != 0
        assert "aloft.yml:3" in missing.stderr  # the config's error, where it is
    finally:
        sys.modules.pop("startup_hello_plugin", None)
        if str(tmp_path) in sys.path:
            sys.path.remove(str(tmp_path))
