"""Questions asked at the terminal, each saying what it leaves when it gets no answer.

Answering no to a confirmation, Enter on an empty value or ending the input at any prompt
(Ctrl-D) prints `aborted: <what was left>` on a line of its own and exits 1 (`Declined`); Ctrl-C
there prints `interrupted: <what was left>`, exit 130 (SIGTERM: `terminated: ...`, 143). Never
click's bare "Aborted!", never a traceback: aloft.cli.errors.run prints both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from aloft.errors import Interrupted, interrupt_exit_code


class Declined(click.exceptions.Abort):
    """A confirmation answered no, or a prompt whose input ended: nothing was done. `left` says
    so in the command's words ("nothing was undeployed")."""

    def __init__(self, left: str) -> None:
        super().__init__(left)
        self.left = left


def confirm(question: str, *, left: str) -> None:
    """Ask `question` [y/N] and return on yes; no (the default) raises Declined(left)."""
    with _asking(left, hidden=False):
        yes = click.confirm(question, default=False)
    if not yes:
        raise Declined(left)


def ask(text: str, *, left: str, hide_input: bool = False,
        confirmation_prompt: bool = False) -> str:
    """A value typed at the terminal (hidden: not echoed). Enter on an empty value declines
    (click would ask again, silently: at a hidden prompt the user sees nothing happen). With
    `confirmation_prompt` the value is typed twice; two that differ say so and ask both again."""
    while True:
        value = _typed(text, left=left, hidden=hide_input)
        if not confirmation_prompt:
            return value
        if _typed("Repeat for confirmation", left=left, hidden=hide_input) == value:
            return value
        click.echo("Error: The two entered values do not match.")


def _typed(text: str, *, left: str, hidden: bool) -> str:
    with _asking(left, hidden=hidden):
        value = click.prompt(text, default="", show_default=False, hide_input=hidden)
    if not value:  # (outside _asking: a Declined is a click Abort, which it would wrap)
        raise Declined(left)
    return str(value)


def interrupt_of(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C (or SIGTERM) behind a click Abort: click raises Abort from it, or from None at
    a prompt (the KeyboardInterrupt is then the Abort's context)."""
    for linked in (exc.__cause__, exc.__context__):
        if isinstance(linked, KeyboardInterrupt):
            return linked
    return None


@contextmanager
def _asking(left: str, *, hidden: bool) -> Iterator[None]:
    try:
        yield
    except click.exceptions.Abort as exc:  # click's answer to Ctrl-D, Ctrl-C or SIGTERM
        interrupt = interrupt_of(exc)
        if interrupt is not None:
            stopped = Interrupted(left, exit_code=interrupt_exit_code(interrupt))
            if hidden:  # click's prompt has ended the line: an Abort, which click's main
                raise click.exceptions.Abort() from stopped  # passes on without a second one
            raise stopped from None  # (click's main ends the line, as at any Ctrl-C)
        if not hidden:  # (a hidden prompt has ended its line already)
            click.echo()  # `aborted: ...` starts a line, not after the prompt's text
        raise Declined(left) from None
