"""`aloft status`: what a stage runs now."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from aloft.cli import formatting, providers, render
from aloft.cli.completers import stage_argument
from aloft.cli.helptext import examples
from aloft.cli.project import begin

if TYPE_CHECKING:
    from aloft.provider import StageStatus


@click.command(
    "status",
    short_help="Show what a stage runs.",
    epilog=examples("aloft status dev", "aloft status prod --json"),
)
@stage_argument()
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


def _show(status: StageStatus, as_json: bool) -> None:
    if as_json:  # the provider's report, raw: epoch seconds and ISO times, true/false
        render.print_json(dict(status.report))
        return
    render.sections(formatting.document_sections(status.report))
