"""`aloft dlq STAGE [--redrive [ID]]`: async events that failed every retry."""

from __future__ import annotations

import dataclasses

import click

from aloft.cli import formatting, providers, render
from aloft.cli.completers import stage_argument
from aloft.cli.helptext import examples
from aloft.cli.project import load_service
from aloft.errors import Location, UsageError
from aloft.provider import DeadLetters

ALL = "*"


@click.command(
    "dlq",
    short_help="List or re-drive a stage's failed async events.",
    epilog=examples(
        "aloft dlq dev                     # list dead-lettered events",
        "aloft dlq dev --redrive           # queue them all again",
        "aloft dlq dev --redrive 3f2c...   # queue one again",
    ),
)
@stage_argument()
@click.option("--redrive", is_flag=False, flag_value=ALL, default=None, metavar="[ID]",
              help="Queue dead-lettered events again (all, or the one with ID).")
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
def command(stage: str, redrive: str | None, as_json: bool) -> None:
    """List (or re-drive) the async events of STAGE that failed every retry."""
    service = load_service(stage)
    provider = providers.provider_for(service)
    if not isinstance(provider, DeadLetters):
        raise UsageError(
            f"stage {stage!r}'s provider ({service.provider}) keeps no failed async events",
            where=Location(stage=stage),
            fix="read the function's on-failure destination",
        )
    if redrive is not None:
        ids = [] if redrive == ALL else [redrive]
        done = provider.redrive(service, ids)
        if ids and not done:
            raise UsageError(f"no dead-lettered event {redrive!r} in stage {stage!r}",
                             fix=f"`aloft dlq {stage}` lists them")
        render.out().print(f"re-drove {formatting.count(len(done), 'event')}", markup=False)
        return
    events = provider.dead_letters(service)
    if as_json:
        render.print_json([dataclasses.asdict(e) for e in events])
        return
    if not events:
        render.out().print(f"no dead-lettered events in {service.service} {stage}",
                           markup=False)
        return
    from aloft.stage.names import stage_prefix

    prefix = stage_prefix(service.service, stage) + "-"
    rows = [
        (e.id, e.function.removeprefix(prefix), formatting.time_cell(e.created),
         formatting.cell(e.attempts), (e.error or "")[:80])
        for e in events
    ]
    render.out().print(render.table(f"dead-letter queue of {stage}",
                                    ["id", "function", "queued", "attempts", "error"], rows))
