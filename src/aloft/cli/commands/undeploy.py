"""`aloft undeploy`: remove a stage and everything it created."""

from __future__ import annotations

import sys

import click

from aloft.cli import prompts, providers, render
from aloft.cli.completers import stage_argument
from aloft.cli.helptext import examples
from aloft.cli.project import begin
from aloft.errors import UsageError


@click.command(
    "undeploy",
    short_help="Delete a stage and what it created.",
    epilog=examples("aloft undeploy dev", "aloft undeploy dev --yes    # no question asked"),
)
@stage_argument()
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help='Print {"service": ..., "stage": ...}.')
def command(stage: str, yes: bool, as_json: bool) -> None:
    """Delete STAGE: its functions, routes, schedules and resources."""
    lifecycle = begin("undeploy", stage)  # steps: start, run, finish
    service = lifecycle.service
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError(f"undeploy {stage} needs confirmation",
                             fix=f"pass --yes: aloft undeploy {stage} --yes")
        prompts.confirm(f"Delete {service.service} stage {stage} ({service.provider})?",
                        left="nothing was undeployed")
    with lifecycle.step("run"):
        providers.provider_for(service).undeploy(service)
    with lifecycle.step("finish"):
        if as_json:
            render.print_json({"service": service.service, "stage": stage, "undeployed": True})
            return
        render.out().print(f"undeployed {service.service} {stage}", markup=False)
