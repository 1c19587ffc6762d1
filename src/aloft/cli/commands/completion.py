"""`aloft completion bash|zsh|fish`: print the shell completion script (click's)."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from aloft.cli.helptext import examples

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_ALOFT_COMPLETE"


def completion_script(root: click.Command, shell: str, prog_name: str = "aloft") -> str:
    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - click.Choice keeps other names out
        raise click.BadParameter(f"no completion for {shell}", param_hint="SHELL")
    return cls(root, {}, prog_name, COMPLETE_VAR).source()


@click.command(
    "completion",
    short_help="Print the shell completion script (bash, zsh, fish).",
    epilog=examples(
        'eval "$(aloft completion bash)"          # in ~/.bashrc',
        'eval "$(aloft completion zsh)"           # in ~/.zshrc',
        "aloft completion fish > ~/.config/fish/completions/aloft.fish",
    ),
)
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def command(ctx: click.Context, shell: str) -> None:
    """Print the script that completes aloft's commands, options and stages in SHELL."""
    click.echo(completion_script(ctx.find_root().command, shell), nl=False)
