"""aloft.cli.prompts.ask: Enter on an empty value declines (click alone would ask again, with
nothing said), and a value typed twice that differs says so and asks both again.
tests/pty/test_hidden_prompts.py runs the same in a real terminal."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from aloft.cli import prompts


def ask(typed: str, *, twice: bool = True) -> tuple[str | prompts.Declined, str]:
    """The value asked (hidden) with `typed` as the keyboard's lines, or its Declined; and the
    screen."""
    with CliRunner().isolation(input=typed) as (out, _, _):
        try:
            found: str | prompts.Declined = prompts.ask(
                "value of TOKEN", hide_input=True, confirmation_prompt=twice,
                left="TOKEN was not set")
        except prompts.Declined as declined:
            found = declined
        return found, out.getvalue().decode()


@pytest.mark.parametrize("typed", ["\n", "s3cret\n\n"], ids=["value", "repeat"])
def test_enter_on_an_empty_value_declines(typed: str) -> None:
    found, screen = ask(typed)
    assert isinstance(found, prompts.Declined) and found.left == "TOKEN was not set"
    assert "s3cret" not in screen


def test_enter_on_an_empty_value_declines_asked_once() -> None:
    found, _ = ask("\n", twice=False)
    assert isinstance(found, prompts.Declined)


def test_two_values_that_differ_are_asked_again() -> None:
    found, screen = ask("s3cret\nsecret\ns3cret\ns3cret\n")
    assert found == "s3cret"
    assert screen == ("value of TOKEN: \nRepeat for confirmation: \n"
                      "Error: The two entered values do not match.\n"
                      "value of TOKEN: \nRepeat for confirmation: \n")


def test_a_value_asked_once_is_returned_as_typed() -> None:
    assert ask(" two words \n", twice=False) == (" two words ", "value of TOKEN: \n")
