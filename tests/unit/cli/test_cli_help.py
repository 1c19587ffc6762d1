from __future__ import annotations

import pytest
from click.testing import CliRunner

from aloft.cli.main import ALIASES, COMMANDS, cli


@pytest.mark.parametrize("name", [c.name for c in COMMANDS] + list(ALIASES))
def test_every_command_has_examples(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    examples = result.stdout.split("Examples:", 1)
    assert len(examples) == 2, f"{name} --help has no Examples section"
    assert "aloft " in examples[1]


def test_top_level_help_lists_commands_in_registration_order() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    positions = [result.stdout.index(f"  {c.name} ") for c in COMMANDS if c.name]
    assert positions == sorted(positions)
    assert "Examples:" in result.stdout
