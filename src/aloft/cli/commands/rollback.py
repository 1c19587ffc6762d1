"""`aloft rollback`: point a stage back at an earlier version."""

from __future__ import annotations

import click

from aloft.cli import providers, render
from aloft.cli.commands.deploy import print_result, result_json
from aloft.cli.completers import stage_argument
from aloft.cli.helptext import examples
from aloft.cli.project import begin
from aloft.errors import UsageError


@click.command(
    "rollback",
    short_help="Serve an earlier version of a stage.",
    epilog=examples("aloft rollback prod          # the previous version",
                    "aloft rollback prod -n 3     # three versions back",
                    "aloft rollback prod --to 7   # version 7 (`aloft status prod` lists them)"),
)
@stage_argument()
@click.option("-n", "--steps", type=click.IntRange(min=1),
              help="How many versions back.  [default: 1]")
@click.option("--to", "to", type=click.IntRange(min=1), metavar="VERSION",
              help="The version to serve (on aws: the release number).")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"url": ..., "version": ..., "functions": ..., "changed": ...}.')
def command(stage: str, steps: int | None, to: int | None, as_json: bool) -> None:
    """Serve an earlier version of STAGE again (instantly: nothing is rebuilt)."""
    if steps is not None and to is not None:
        raise UsageError("-n and --to both say which version to serve",
                         fix=f"pass one: aloft rollback {stage} --to {to}")
    lifecycle = begin("rollback", stage)  # steps: start, run, finish
    service = lifecycle.service
    with lifecycle.step("run"):
        lifecycle.context.result = providers.provider_for(service).rollback(
            service, steps or 1, to=to)
    with lifecycle.step("finish"):
        result = lifecycle.context.result
        if as_json:
            render.print_json(result_json(result))
            return
        if not result.changed:
            print_result(result, _unchanged_title(service.service, service.stage, to,
                                                  result.version))
            return
        print_result(result, f"rolled {service.service} {service.stage} back to version "
                             f"{result.version}")
        for step in result.plan:  # e.g. schedules an old record cannot restore
            if step.note:
                render.warning(step.note)


def _unchanged_title(service: str, stage: str, to: int | None, version: int) -> str:
    """What a rollback that changed nothing says: the stage is at the version asked for already
    (on aws a later release may repeat it: `version` is the stage's current one)."""
    asked = version if to is None else to
    repeated = f" (version {version} repeats it)" if asked != version else ""
    return (f"no changes: {service} {stage} is already at version {asked}{repeated}; "
            "nothing was rolled back")
