"""aloft.cli.prompts: a question that gets no yes says what it left, and Ctrl-C there too."""

from __future__ import annotations

from collections.abc import Callable

import click
import pytest
from click.testing import CliRunner

from aloft.cli import errors, prompts
from aloft.errors import Interrupted


@click.command()
def delete() -> None:
    prompts.confirm("Delete it?", left="nothing was deleted")
    click.echo("deleted")


def run(typed: str, typing: Callable[[str], str] | None = None) -> tuple[int, str, str]:
    """`delete` as the CLI's top level runs it: exit code, stdout, stderr. `typing`: what the
    keyboard does at the prompt instead of typing `typed`."""
    with CliRunner().isolation(input=typed) as (out, err, _):
        if typing is not None:  # (the runner's isolation sets its own)
            click.termui.visible_prompt_func = typing
        code = errors.run(lambda: delete.main([], standalone_mode=False), verbose=False)
        return code, out.getvalue().decode(), err.getvalue().decode()


def test_yes_goes_on() -> None:
    assert run("y\n") == (0, "Delete it? [y/N]: y\ndeleted\n", "")


@pytest.mark.parametrize("typed", ["n\n", "no\n", "\n"])  # Enter: the default, no
def test_no_exits_1_saying_what_it_left(typed: str) -> None:
    code, out, err = run(typed)
    assert (code, err) == (1, "aborted: nothing was deleted\n")
    assert "deleted\n" not in out


def test_end_of_input_is_no_and_ends_the_prompts_line() -> None:
    code, out, err = run("")  # Ctrl-D
    assert (code, out, err) == (1, "Delete it? [y/N]: \n", "aborted: nothing was deleted\n")


@pytest.mark.parametrize(("signal", "code", "word"), [
    (KeyboardInterrupt(), 130, "interrupted"), (Interrupted(exit_code=143), 143, "terminated")])
def test_ctrl_c_and_sigterm_at_the_prompt(signal: KeyboardInterrupt, code: int,
                                          word: str) -> None:
    def typing(prompt: str) -> str:
        raise signal

    # the prompt's line ends (click's main does it, as at any Ctrl-C), then what it left
    assert run("", typing) == (code, "", f"\n{word}: nothing was deleted\n")


def test_a_hidden_value_not_given() -> None:
    def typing(prompt: str) -> str:
        raise EOFError  # Ctrl-D at getpass, which does not end the line

    with CliRunner().isolation() as (out, _, _):
        click.termui.hidden_prompt_func = typing
        with pytest.raises(prompts.Declined) as declined:
            prompts.ask("value of TOKEN", hide_input=True, left="TOKEN was not set")
    assert declined.value.left == "TOKEN was not set"
    assert out.getvalue().decode() == "\n"  # click ended the line: once, not twice
