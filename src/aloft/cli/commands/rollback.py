"""`aloft rollback`: point a stage back at an earlier version."""

from __future__ import annotations

import click

from aloft.cli import providers, render
from aloft.cli.commands.deploy import print_result
from aloft.cli.helptext import examples
from aloft.cli.project import begin


@click.command(
    "rollback",
    short_help="Serve an earlier version of a stage.",
    epilog=examples("aloft rollback prod          # the previous version",
                    "aloft rollback prod -n 3     # three versions back"),
)
@click.argument("stage")
@click.option("-n", "--steps", default=1, show_default=True, type=click.IntRange(min=1),
              help="How many versions back.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"url": ..., "version": ..., "functions": ...}.')
def command(stage: str, steps: int, as_json: bool) -> None:
    """Serve an earlier version of STAGE again (instantly: nothing is rebuilt)."""
    lifecycle = begin("rollback", stage)  # steps: start, run, finish
    service = lifecycle.service
    with lifecycle.step("run"):
        lifecycle.context.result = providers.provider_for(service).rollback(service, steps)
    with lifecycle.step("finish"):
        if as_json:
            result = lifecycle.context.result
            render.print_json({"url": result.url, "version": result.version,
                               "functions": result.functions})
            return
        print_result(lifecycle.context.result, f"rolled {service.service} {service.stage} back to")
        for step in lifecycle.context.result.plan:  # e.g. schedules an old record cannot restore
            if step.get("note"):
                render.warning(str(step["note"]))
