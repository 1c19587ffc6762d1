"""`aloft schema`: the JSON Schema of aloft.yml (for editors and CI)."""

from __future__ import annotations

import click

from aloft.cli import render
from aloft.cli.helptext import examples
from aloft.config import json_schema


@click.command(
    "schema",
    epilog=examples(
        "aloft schema > aloft.schema.json",
        "# then, first line of aloft.yml for editors with the YAML language server:",
        "# yaml-language-server: $schema=./aloft.schema.json",
    ),
)
def command() -> None:
    """Print the JSON Schema of aloft.yml."""
    render.print_json(json_schema())
