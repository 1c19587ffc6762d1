"""`aloft schedule` / `aloft unschedule`: turn a stage's schedules on or off."""

from __future__ import annotations

import click

from aloft.cli import providers, render
from aloft.cli.completers import stage_argument
from aloft.cli.helptext import examples
from aloft.cli.project import begin

_json = click.option("--json", "as_json", is_flag=True,
                     help='Print {"enabled": ..., "changed": [...]}.')


def _run(stage: str, names: tuple[str, ...], enabled: bool, as_json: bool = False) -> None:
    lifecycle = begin("schedule" if enabled else "unschedule", stage)  # start, run, finish
    service = lifecycle.service
    with lifecycle.step("run"):
        changed = providers.provider_for(service).schedule(service, enabled, names)
    with lifecycle.step("finish"):
        _show(service.service, stage, changed, enabled, as_json)


def _show(service: str, stage: str, changed: list[str], enabled: bool, as_json: bool) -> None:
    if as_json:
        render.print_json({"enabled": enabled, "changed": changed})
        return
    word = "enabled" if enabled else "disabled"
    if changed:
        for name in changed:
            render.out().print(f"{word} {name}", markup=False)
    else:
        render.out().print(f"no schedules in {service} {stage}", markup=False)


@click.command(
    "schedule",
    short_help="Enable a stage's schedules.",
    epilog=examples("aloft schedule dev", "aloft schedule dev nightly-report"),
)
@stage_argument()
@click.argument("names", nargs=-1)
@_json
def schedule_command(stage: str, names: tuple[str, ...], as_json: bool) -> None:
    """Enable the schedules of STAGE (all, or the NAMES given)."""
    _run(stage, names, True, as_json)


@click.command(
    "unschedule",
    short_help="Disable a stage's schedules.",
    epilog=examples("aloft unschedule dev", "aloft unschedule dev nightly-report"),
)
@stage_argument()
@click.argument("names", nargs=-1)
@_json
def unschedule_command(stage: str, names: tuple[str, ...], as_json: bool) -> None:
    """Disable the schedules of STAGE (all, or the NAMES given); deployed code stays."""
    _run(stage, names, False, as_json)
