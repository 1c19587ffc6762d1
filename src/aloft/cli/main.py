"""The `aloft` command group: global options and the one list of commands."""

from __future__ import annotations

import copy
import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from aloft import __version__
from aloft.cli import errors
from aloft.cli.helptext import examples
from aloft.cli.project import CliState
from aloft.errors import AloftError


@dataclass(frozen=True)
class CommandEntry:
    """A command known by name and summary; its module is imported only when it runs.

    `short_help` is the command's own short help, else the first paragraph of its help (click
    shortens that to fit): `aloft --help` and completion read this, not the module, so they
    never pay for pydantic, rich or a provider. tests/unit/cli/test_startup.py keeps the two in
    step.
    """

    name: str
    module: str  # under aloft.cli.commands
    attribute: str = "command"
    short_help: str | None = None
    help: str | None = None

    def load(self) -> click.Command:
        module = importlib.import_module(f"aloft.cli.commands.{self.module}")
        command: click.Command = getattr(module, self.attribute)
        return command

    def summary(self) -> click.Command:
        """A stand-in with the same short help (click computes it, for any width)."""
        return click.Command(self.name, short_help=self.short_help, help=self.help)


COMMANDS: tuple[CommandEntry, ...] = (
    CommandEntry("init", "init",
                 short_help="Write aloft.yml for this project, or scaffold a new one."),
    CommandEntry("validate", "validate", short_help="Check aloft.yml and summarise a stage."),
    CommandEntry("schema", "schema", help="Print the JSON Schema of aloft.yml."),
    CommandEntry("import", "import_config",
                 short_help="Convert zappa_settings or serverless.yml to aloft.yml."),
    CommandEntry("package", "package", short_help="Build the deployment artifact."),
    CommandEntry("invoke", "invoke", short_help="Call a function once, locally or on a stage."),
    CommandEntry("deploy", "deploy",
                 short_help="Deploy a stage (--plan: only show the changes)."),
    CommandEntry("dev", "dev", short_help="Run a stage locally and redeploy it on every save."),
    CommandEntry("rollback", "rollback", short_help="Serve an earlier version of a stage."),
    CommandEntry("status", "status", short_help="Show what a stage runs."),
    CommandEntry("tail", "tail", short_help="Show and follow a stage's logs."),
    CommandEntry("manage", "manage",
                 short_help="Run a Django management command on a stage."),
    CommandEntry("schedule", "schedule", "schedule_command",
                 short_help="Enable a stage's schedules."),
    CommandEntry("unschedule", "schedule", "unschedule_command",
                 short_help="Disable a stage's schedules."),
    CommandEntry("undeploy", "undeploy", short_help="Delete a stage and what it created."),
    CommandEntry("template", "template",
                 help="Print the CloudFormation template of an aws STAGE."),
    CommandEntry("certify", "certify", short_help="Give an aws stage its custom domain."),
    CommandEntry("dlq", "dlq", short_help="List or re-drive a stage's failed async events."),
    CommandEntry("cloud", "cloud", help="Run the local cloud (deploy starts it when needed)."),
    CommandEntry("secret", "secret", short_help="Set, list and delete a stage's secrets."),
    CommandEntry("dashboard", "dashboard", short_help="Open the local cloud's web dashboard."),
    CommandEntry("doctor", "doctor",
                 short_help="Check this machine: python, pip, the local cloud, token, port, "
                 "disk."),
    CommandEntry("completion", "completion",
                 short_help="Print the shell completion script (bash, zsh, fish)."),
    CommandEntry("config", "config_cmd",
                 short_help="Set up aloft's environment (AWS credentials)."),
)
"""Every command, in the order `aloft --help` lists them."""

ALIASES: dict[str, str] = {"update": "deploy"}
"""Other names of a command: the same parameters and callback, their own short help."""

OTHER_TOOLS: dict[str, tuple[str, str]] = {
    "logs": ("tail", "serverless logs"), "remove": ("undeploy", "serverless remove"),
    "info": ("status", "serverless info"), "offline": ("dev", "serverless offline"),
}
"""Commands of the Serverless Framework that aloft has under another name: typing one says
which (their names are too far from aloft's for click's suggestions)."""



def _alias(name: str, target: str) -> CommandEntry:
    entry = next(e for e in COMMANDS if e.name == target)
    return CommandEntry(name, entry.module, entry.attribute,
                        short_help=f"Same as `aloft {target}`.")


_ENTRIES = {e.name: e for e in COMMANDS} | {a: _alias(a, t) for a, t in ALIASES.items()}


class _AloftGroup(click.Group):
    """Lists commands in registration order (the order a user meets them), not A-Z, imports a
    command's module only when that command runs, and routes every error through
    `aloft.cli.errors` (also under click's CliRunner, for tests)."""

    root_hint: Path | None = None  # -C DIR, read from argv before parsing (for --help)
    _plugin_commands: dict[str, click.Command] | None = None
    _plugin_error: AloftError | None = None

    def _own_names(self) -> list[str]:
        """aloft's commands, loaded or not, then any added to the group directly."""
        return [*_ENTRIES, *(n for n in self.commands if n not in _ENTRIES)]

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = self._own_names()
        plugins = self.plugin_commands(listing=True)
        return [*names, *(n for n in plugins if n not in names)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None:
            return found
        entry = _ENTRIES.get(cmd_name)
        if entry is not None:
            command = entry.load()
            if command.name != cmd_name:  # an alias
                command = copy.copy(command)
                command.name, command.short_help = cmd_name, entry.short_help
            self.add_command(command)  # imported once per process
            return command
        plugin = self.plugin_commands().get(cmd_name)
        if plugin is None and self._plugin_error is not None:
            raise self._plugin_error  # why a plugin's command may be missing
        return plugin

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.NoSuchCommand as exc:  # suggest among all of aloft's, loaded or not
            other = OTHER_TOOLS.get(exc.command_name)
            if other is not None:
                ours, theirs = other
                raise click.NoSuchCommand(
                    exc.command_name, ctx=ctx,
                    message=f"No such command {exc.command_name!r}: `aloft {ours}` does what "
                            f"`{theirs}` does.") from None
            raise click.NoSuchCommand(exc.command_name, possibilities=self._own_names(),
                                      ctx=ctx) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's own, with aloft's commands summarised from COMMANDS (no import)."""
        commands = [(name, cmd) for name in self.list_commands(ctx)
                    if (cmd := self._summary(ctx, name)) is not None and not cmd.hidden]
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit))
                                    for name, cmd in commands])

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """click's own (command names, then options), with the summaries of format_commands."""
        results = [CompletionItem(name, help=cmd.get_short_help_str())
                   for name in self.list_commands(ctx) if name.startswith(incomplete)
                   if (cmd := self._summary(ctx, name)) is not None and not cmd.hidden]
        results.extend(click.Command.shell_complete(self, ctx, incomplete))
        return results

    def _summary(self, ctx: click.Context, name: str) -> click.Command | None:
        entry = _ENTRIES.get(name)
        if entry is not None and name not in self.commands:
            return entry.summary()
        return self.get_command(ctx, name)

    def plugin_commands(self, *, listing: bool = False) -> dict[str, click.Command]:
        """Commands of the project's plugins (`aloft_commands` hooks); aloft's own win.

        `listing` (help, completion): a project whose stage lists no `plugins:` has none, found
        without validating its config; looking up an unknown name always loads it, so a broken
        config still explains a missing plugin command.
        """
        if self._plugin_commands is None:
            if listing and not _declares_plugins((self.root_hint or Path.cwd()).resolve()):
                return {}
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
        errors.install_signal_handlers()
        code = errors.run(
            lambda: super(_AloftGroup, self).main(
                argv, prog_name or "aloft", complete_var, False, **extra
            ),
            verbose=verbose,
        )
        sys.exit(code)


def _declares_plugins(root: Path) -> bool:
    """Whether the default stage of the project in `root` may list plugins, read without
    validating it. True when the config does not read: loading it decides, as before."""
    from aloft.config.project import find_config_file, reader_for

    try:
        file = find_config_file(root)
    except AloftError:
        return False  # no config: no plugins (loading would find none either)
    try:
        reader = reader_for(file)
        tree = reader.stage_tree(reader.default_stage, env=os.environ, options={})
    except AloftError:
        return True
    # aloft's built-in plugins add no commands (a test keeps it so)
    return bool(tree.data.get("plugins"))


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
@click.option(
    "--port", type=click.IntRange(0, 65535), envvar="ALOFT_PORT", metavar="PORT",
    help="The local cloud's port when a command starts it (default $ALOFT_PORT, else the "
    "port it had last, else 8750); a running one is found on its port.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks and debug output.")
@click.version_option(__version__, "-V", "--version", prog_name="aloft")
@click.pass_context
def cli(ctx: click.Context, chdir: Path | None, port: int | None, verbose: bool) -> None:
    """Deploy Python web apps and functions serverlessly: locally or on AWS Lambda."""
    root = (chdir or Path.cwd()).resolve()
    if not root.is_dir():
        raise click.BadParameter(f"{chdir} is not a directory", param_hint="--chdir")
    if port is not None:  # every command (and the provider it makes) reads the port from here
        os.environ["ALOFT_PORT"] = str(port)
    ctx.obj = CliState(root=root, verbose=verbose)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (`aloft`): exits with the command's exit code."""
    cli.main(args=argv, prog_name="aloft")


if __name__ == "__main__":
    main()
