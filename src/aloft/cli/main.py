"""The `aloft` command group: global options and the one list of commands."""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from aloft import __version__
from aloft.cli import errors
from aloft.cli.commands import (
    certify,
    cloud,
    completion,
    config_cmd,
    dashboard,
    deploy,
    dev,
    dlq,
    doctor,
    import_config,
    init,
    invoke,
    manage,
    package,
    rollback,
    schedule,
    schema,
    secret,
    status,
    tail,
    template,
    undeploy,
    validate,
)
from aloft.cli.helptext import examples
from aloft.cli.project import CliState
from aloft.errors import AloftError

COMMANDS: list[click.Command] = [
    init.command,
    validate.command,
    schema.command,
    import_config.command,
    package.command,
    invoke.command,
    deploy.command,
    dev.command,
    rollback.command,
    status.command,
    tail.command,
    manage.command,
    schedule.schedule_command,
    schedule.unschedule_command,
    undeploy.command,
    template.command, certify.command,
    dlq.command,
    cloud.command,
    secret.command,
    dashboard.command,
    doctor.command,
    completion.command,
    config_cmd.command,
]
"""Every command, in the order `aloft --help` lists them."""

ALIASES: dict[str, click.Command] = {"update": deploy.command}


class _AloftGroup(click.Group):
    """Lists commands in registration order (the order a user meets them), not A-Z, and routes
    every error through `aloft.cli.errors` (also under click's CliRunner, for tests)."""

    root_hint: Path | None = None  # -C DIR, read from argv before parsing (for --help)
    _plugin_commands: dict[str, click.Command] | None = None
    _plugin_error: AloftError | None = None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.commands, *(n for n in self.plugin_commands() if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None:
            return found
        plugin = self.plugin_commands().get(cmd_name)
        if plugin is None and self._plugin_error is not None:
            raise self._plugin_error  # why a plugin's command may be missing
        return plugin

    def plugin_commands(self) -> dict[str, click.Command]:
        """Commands of the project's plugins (`aloft_commands` hooks); aloft's own win."""
        if self._plugin_commands is None:
            from aloft.plugins.loading import project_commands

            self._plugin_commands = {}
            try:
                for command in project_commands((self.root_hint or Path.cwd()).resolve()):
                    self._plugin_commands.setdefault(str(command.name), command)
            except AloftError as exc:
                self._plugin_error = exc
        return self._plugin_commands

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        self.root_hint, self._plugin_commands, self._plugin_error = _chdir(argv), None, None
        if not standalone_mode:
            return super().main(argv, prog_name, complete_var, False, **extra)
        verbose = "-v" in argv or "--verbose" in argv or bool(os.environ.get("ALOFT_VERBOSE"))
        code = errors.run(
            lambda: super(_AloftGroup, self).main(
                argv, prog_name or "aloft", complete_var, False, **extra
            ),
            verbose=verbose,
        )
        sys.exit(code)


def _chdir(argv: list[str]) -> Path | None:
    """The -C/--chdir value in argv (plugins' commands come from that project)."""
    for index, arg in enumerate(argv):
        if arg in ("-C", "--chdir") and index + 1 < len(argv):
            return Path(argv[index + 1])
        if arg.startswith("--chdir="):
            return Path(arg.split("=", 1)[1])
        if arg.startswith("-C") and len(arg) > 2:
            return Path(arg[2:])
    return None


@click.group(
    "aloft",
    cls=_AloftGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=examples(
        "aloft init                      # write aloft.yml for the app in this directory",
        "aloft invoke --local app --path /",
        "aloft deploy dev",
        "aloft tail dev",
    ),
)
@click.option(
    "-C", "--chdir", "chdir", type=click.Path(file_okay=False, path_type=Path),
    help="Run as if started in DIR (where aloft.yml is).", metavar="DIR",
)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and debug output.")
@click.version_option(__version__, "-V", "--version", prog_name="aloft")
@click.pass_context
def cli(ctx: click.Context, chdir: Path | None, verbose: bool) -> None:
    """Deploy Python web apps and functions serverlessly: locally or on AWS Lambda."""
    root = (chdir or Path.cwd()).resolve()
    if not root.is_dir():
        raise click.BadParameter(f"{chdir} is not a directory", param_hint="--chdir")
    ctx.obj = CliState(root=root, verbose=verbose)


for _command in COMMANDS:
    cli.add_command(_command)
for _alias, _target in ALIASES.items():
    _copy = copy.copy(_target)  # same parameters and callback; its own name and short help
    _copy.name, _copy.short_help = _alias, f"Same as `aloft {_target.name}`."
    cli.add_command(_copy)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (`aloft`): exits with the command's exit code."""
    cli.main(args=argv, prog_name="aloft")


if __name__ == "__main__":
    main()
