"""`aloft status`: what a stage runs now."""

from __future__ import annotations

import json
from typing import Any

import click

from aloft.cli import providers, render
from aloft.cli.helptext import examples
from aloft.cli.project import begin


@click.command(
    "status",
    short_help="Show what a stage runs.",
    epilog=examples("aloft status dev", "aloft status prod --json"),
)
@click.argument("stage")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def command(stage: str, as_json: bool) -> None:
    """Show the URL, versions, functions and schedules of STAGE."""
    lifecycle = begin("status", stage)  # steps: start, run, finish
    service = lifecycle.service
    with lifecycle.step("run"):
        status = providers.provider_for(service).status(service)
        lifecycle.context.data["status"] = status
    with lifecycle.step("finish"):
        _show(status, as_json)


def _show(status: dict[str, Any], as_json: bool) -> None:
    if as_json:
        render.print_json(status)
        return
    console = render.out()
    scalars = [(k, v) for k, v in status.items() if not isinstance(v, dict | list)]
    if scalars:
        console.print(render.table(None, ["key", "value"], scalars, header=False))
    for key, value in status.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            columns = list(dict.fromkeys(c for row in value for c in row))
            console.print()
            console.print(render.table(key, columns,
                                       [[_cell(row.get(c)) for c in columns] for row in value]))
        elif isinstance(value, dict) and value:
            console.print()
            console.print(render.table(key, ["name", "value"],
                                       [(k, _cell(v)) for k, v in value.items()]))
        elif isinstance(value, list):
            console.print(f"{key}: {', '.join(_cell(v) for v in value) or '-'}", markup=False)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)
