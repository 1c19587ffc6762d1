"""`aloft deploy` (alias `update`): deploy a stage through its provider."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from aloft.cli import formatting, providers, render
from aloft.cli.completers import stage_argument
from aloft.cli.helptext import examples
from aloft.cli.project import begin
from aloft.errors import AloftError, Interrupted, NotDeployedError, interrupt_exit_code

if TYPE_CHECKING:
    from aloft.config.models import Service
    from aloft.plugins import Lifecycle
    from aloft.provider import DeployResult, Provider


def print_result(result: DeployResult, title: str) -> None:
    """The closing summary table: URL, version, functions and their versions, schedules."""
    show_warnings(result)
    render.out().print(render.deploy_summary(title, result.url, result.version,
                                             result.functions, result.schedules, result.urls))


def show_warnings(result: DeployResult) -> None:
    """What the release commands printed (dim), and what the user must know although the
    deploy succeeded (yellow), on stderr."""
    from rich.markup import escape

    for command, output in result.release:
        render.err().print(f"[bold]release:[/bold] {escape(command)}")
        if output.strip():
            render.err().print(f"[dim]{escape(output.rstrip())}[/dim]")
    for warning in result.warnings:
        render.err().print(f"[yellow]warning:[/yellow] [yellow]{escape(warning)}[/yellow]")


def result_json(result: DeployResult) -> dict[str, Any]:
    """What `--json` prints for a deploy or rollback."""
    out: dict[str, Any] = {"url": result.url, "version": result.version,
                           "functions": result.functions, "changed": result.changed}
    if result.urls:
        out["urls"] = result.urls
    if result.warnings:
        out["warnings"] = result.warnings
    if result.release:
        out["release"] = [{"command": c, "output": o} for c, o in result.release]
    return out


@click.command(
    "deploy",
    short_help="Deploy a stage (--plan: only show the changes).",
    epilog=examples(
        "aloft deploy dev",
        "aloft deploy prod --plan      # show what would change, change nothing",
        "aloft deploy dev --json | jq -r .url",
    ),
)
@stage_argument()
@click.option("--plan", "plan_only", is_flag=True, help="Print the plan and stop.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"url": ..., "version": ..., "changed": ...}.')
@click.option("--no-health-check", "unchecked", is_flag=True,
              help="Let the new version serve without checking it first.")
def command(stage: str, plan_only: bool, as_json: bool, unchecked: bool) -> None:
    """Build and deploy STAGE; the new version serves only once it is healthy.

    Before the stage switches, each new version is invoked: the app must answer a GET of
    `health_path` without a 5xx, a function must initialise. Otherwise the old version keeps
    serving and the error shows the function's own. When the artifact and the configuration
    are those of the version STAGE serves, nothing is deployed: no new version, and the
    summary says "no changes"."""
    # Steps: validate, package, upload, apply, verify, finalize (plugins hook into each; the
    # provider runs upload, apply and verify through `steps=lifecycle`).
    lifecycle = begin("deploy", stage, first="validate", plan_only=plan_only)
    service = lifecycle.service
    for warning in service.warnings:  # a key ignored (a typo, say) is said before it deploys
        render.warning(warning)
    provider = providers.provider_for(service)
    try:
        result = _deploy(lifecycle, provider, plan_only=plan_only, as_json=as_json,
                         health_check=not unchecked)
    except Interrupted:
        raise  # the provider said what the stage serves
    except KeyboardInterrupt as exc:  # while packaging, or in a provider's own step
        raise Interrupted(_serving(provider, service, applied="apply" in lifecycle.done),
                          exit_code=interrupt_exit_code(exc)) from None
    lifecycle.context.result = result
    with lifecycle.step("finalize"):
        _show(service, result, plan_only=plan_only, as_json=as_json)


def _serving(provider: Provider, service: Service, *, applied: bool) -> str:
    """What the stage serves after an interrupted deploy, as the provider reports it.
    `applied`: the apply step had finished (the new version serves)."""
    try:
        version = provider.status(service).version
    except NotDeployedError:
        version = 0
    except AloftError:  # the local cloud is not running, AWS does not answer, ...
        return f"stage {service.stage} was not changed" if not applied else \
            f"see `aloft status {service.stage}` for the version that serves"
    if applied:
        return f"the new version was applied; version {version} serves"
    if not version:
        return f"nothing was deployed; stage {service.stage} stays undeployed"
    return f"nothing was deployed; version {version} keeps serving"


def _deploy(lifecycle: Lifecycle, provider: Provider, *, plan_only: bool,
            as_json: bool, health_check: bool = True) -> DeployResult:
    service = lifecycle.service
    if not plan_only:
        # Build here to show progress; the provider reuses this artifact.
        progress = render.StepProgress(quiet=as_json)
        lifecycle.progress = progress
        try:
            with lifecycle.step("package"):
                lifecycle.context.manifest = lifecycle.build(service)
        finally:
            progress.close()
            lifecycle.progress = None
    if plan_only:
        with render.spinner(f"planning {service.service} {service.stage}…"):
            result = provider.deploy(service, plan_only=True, steps=lifecycle,
                                     health_check=health_check)
    else:  # a spinner, then a timed ✓ line, for each of upload, apply and verify
        steps = render.DeployProgress(lifecycle, quiet=as_json)
        result = provider.deploy(service, plan_only=False, steps=steps,
                                 health_check=health_check)
        if not as_json:
            render.health_checked(result)
    return result


def _show(service: Service, result: DeployResult, *, plan_only: bool, as_json: bool) -> None:
    if as_json:
        show_warnings(result)
        payload = result_json(result)
        if plan_only:
            payload["plan"] = [dict(step.fields) for step in result.plan]
        render.print_json(payload)
        return
    if plan_only:
        rows = [formatting.instruction_row(step) for step in result.plan]
        if rows:
            render.out().print(render.table(f"plan for {service.stage}",
                                            ["action", "resource", "details"], rows))
        else:
            render.out().print(f"no changes: {service.service} {service.stage} is up to date",
                               markup=False)
        return
    if not result.changed:
        print_result(result, f"no changes: {service.service} {service.stage} serves version "
                             f"{result.version} already (nothing was deployed)")
        return
    print_result(result, f"deployed {service.service} to {service.stage}: version "
                         f"{result.version}")
