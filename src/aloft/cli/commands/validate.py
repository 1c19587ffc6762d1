"""`aloft validate`: load aloft.yml and print what it describes, or every problem in it."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from aloft.cli import render
from aloft.cli.completers import stage_argument
from aloft.cli.errors import format_error
from aloft.cli.helptext import examples
from aloft.cli.project import state
from aloft.config import Project, load_project
from aloft.config.models import Event, Service
from aloft.errors import ConfigError, ConfigErrors, UsageError
from aloft.plugins.loading import section_loader

CONFIG_SUFFIXES = (".yml", ".yaml", ".json", ".toml")


def describe_event(event: Event) -> str:
    """One event as a short phrase: `http GET /items/{id}`, `schedule rate(5 minutes)`."""
    if event.http:
        return f"http {event.http.method} {event.http.path}"
    if event.schedule:
        state_ = "" if event.schedule.enabled else " (disabled)"
        return f"schedule {event.schedule.expression}{state_}"
    if event.queue:
        return f"queue {event.queue.name} (batch {event.queue.batch_size})"
    if event.topic:
        return f"topic {event.topic.name}"
    if event.bucket:
        return f"bucket {event.bucket.name} {', '.join(event.bucket.events)}"
    if event.stream:
        return f"stream {event.stream.type}:{event.stream.name}"
    return event.kind


def summary_rows(service: Service) -> list[tuple[str, str, str]]:
    """(function, handler, events) for every function of the service, the app first."""
    rows = []
    for name, fn in service.resolved_functions().items():
        if fn.is_app:
            handler = service.app or f"django: {service.django_settings}"
            events = "http ANY /{proxy+}"
        else:
            handler = fn.handler or ""
            events = "; ".join(describe_event(e) for e in fn.events) or "(invoke only)"
        rows.append((name, handler, events))
    return rows


def _print_service(service: Service) -> None:
    console = render.out()
    console.print(
        f"[bold]{service.service}[/bold] stage [bold]{service.stage}[/bold] "
        f"provider {service.provider}, Python {service.runtime}"
    )
    console.print(render.table(None, ["function", "handler", "events"], summary_rows(service)))
    resources = service.resources
    for kind in ("buckets", "queues", "topics", "tables", "parameters"):
        names = list(getattr(resources, kind))
        if names:
            console.print(f"{kind}: {', '.join(names)}")


def _print_errors(errors: list[ConfigError]) -> None:
    console = render.err()
    for error in errors:
        what, fix = format_error(error)
        console.print(what, markup=False, highlight=False)
        console.print("  " + fix, markup=False, highlight=False)


def _target(stage: str | None, all_stages: bool) -> tuple[Project, list[str]]:
    """The project and the stages to check. A STAGE that names a config file (as in
    `aloft validate zappa_settings.json`) checks every stage of that file: aloft reads it as it
    is, there is nothing to convert first."""
    root = state().root
    given = Path(stage) if stage else None
    if given is not None and (given.suffix.lower() in CONFIG_SUFFIXES or "/" in str(stage) or
                              (root / given).is_file()):
        file = given if given.is_absolute() else root / given
        if not file.is_file():
            raise UsageError(
                f"{stage} is not a file in {root}",
                fix="pass a stage name, or the path of an aloft.yml, zappa_settings or "
                "serverless.yml")
        project = load_project(file)
        if project.kind != "aloft":
            render.note(
                f"aloft reads {file.name} directly: every command (deploy, dev, invoke, ...) "
                "uses it as it is, with its stages; `aloft import` writes an aloft.yml from it "
                "if you would rather have one")
        return project, list(project.stages) or [project.default_stage]
    project = load_project(root)
    if all_stages:
        return project, list(project.stages) or [project.default_stage]
    return project, [stage or project.default_stage]


@click.command(
    "validate",
    short_help="Check aloft.yml and summarise a stage.",
    epilog=examples(
        "aloft validate               # the default stage",
        "aloft validate prod",
        "aloft validate --all-stages",
        "aloft validate serverless.yml   # every stage of that file",
    ),
)
@stage_argument(required=False)
@click.option("--all-stages", is_flag=True, help="Validate every stage.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"valid": ..., "services": {stage: service}, "errors": [...]}.')
def command(stage: str | None, all_stages: bool, as_json: bool) -> None:
    """Check aloft.yml and print the service it describes for STAGE.

    Besides the config itself, it checks the project's code without running it: the modules
    `app:` and each `handler:` name exist and define those names, the modules they import
    parse and find what they import (in the project or its requirements), and no route is
    written twice. STAGE may also be a config file (zappa_settings.json, serverless.yml): all
    of its stages are checked."""
    from aloft.package.code_check import check_project

    project, stages = _target(stage, all_stages)
    for warning in project.warnings:
        render.warning(warning)
    shown = set(project.warnings)  # loading a stage adds its own to project.warnings
    failed: list[ConfigError] = []
    code_warnings: list[str] = []
    code_errors: set[tuple[str, str | None, int | None]] = set()
    services: dict[str, Service] = {}
    for index, name in enumerate(stages):
        try:
            service = project.service(name, sections=section_loader(project.root))
        except ConfigErrors as exc:
            failed.extend(exc.errors)
            continue
        except ConfigError as exc:
            failed.append(exc)
            continue
        services[name] = service
        problems = check_project(service, partial(project.locate, name))
        for error in problems.errors:  # the same code is checked once, whatever the stages
            key = (error.message, error.where.file if error.where else None,
                   error.where.line if error.where else None)
            if key not in code_errors:
                code_errors.add(key)
                failed.append(error)
        found = [*problems.warnings, *_runtime_warnings(service)]
        fresh = [w for w in found if w not in code_warnings]
        code_warnings.extend(fresh)
        if as_json:
            continue
        if index:
            render.out().print()
        _print_service(service)
        for warning in [*service.warnings, *fresh]:
            if warning not in shown:
                shown.add(warning)
                render.warning(warning)
    if as_json:
        render.print_json({
            "file": str(project.file), "valid": not failed,
            "services": {k: v.model_dump(mode="json") for k, v in services.items()},
            "errors": [dict(zip(("error", "fix"), format_error(e), strict=True))
                       for e in failed],
            "warnings": code_warnings,
        })
        if failed:
            raise click.exceptions.Exit(1)
        return
    if failed:
        if len(failed) == 1:
            raise failed[0]
        _print_errors(failed)
        raise click.exceptions.Exit(1)
    render.err().print(f"[green]✓[/green] {project.file} is valid "
                       f"({', '.join(stages)})", highlight=False)


def _runtime_warnings(service: Service) -> list[str]:
    """The declared Python, when the local cloud cannot run the service on it here."""
    from aloft.package.python import runtime_warning

    warning = runtime_warning(service.runtime) if service.provider == "local" else None
    return [warning] if warning else []
