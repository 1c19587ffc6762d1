"""`aloft manage`: run a Django management command inside the deployed app."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from aloft.cli import providers
from aloft.cli.completers import stage_argument
from aloft.cli.events import manage_event
from aloft.cli.helptext import examples
from aloft.cli.project import load_service
from aloft.errors import InvokeError, Location, UsageError
from aloft.provider import PublishesStatic

if TYPE_CHECKING:
    from aloft.config.models import Service


def command_output(payload: Any) -> str:
    """The text a management command printed, from the runtime's reply."""
    if isinstance(payload, str):
        return payload
    if isinstance(payload, dict):
        parts = [str(payload[k]) for k in ("output", "stdout", "stderr") if payload.get(k)]
        if parts or any(k in payload for k in ("output", "stdout")):
            return "".join(p if p.endswith("\n") else p + "\n" for p in parts)
    return json.dumps(payload, indent=2)


def _collectstatic(service: Service, provider: PublishesStatic, args: tuple[str, ...]) -> bool:
    """collectstatic of a project whose static files aloft serves: run here, where the
    project's files are (as a build runs it), into the directory the stage serves, and published
    (uploaded to the bucket on aws); inside the function it would write into the unpacked,
    read-only build, and nothing would serve it. False: aloft does not serve them (a storage
    of the project's own, such as django-storages: the function runs it)."""
    from aloft.cli import render
    from aloft.package.build import collect_static_files
    from aloft.package.django_static import served
    from aloft.package.target import Target

    progress = render.StepProgress()
    try:
        collected = collect_static_files(service, args, target=Target.for_service(service),
                                         progress=progress)
    finally:
        progress.close()
    if collected is None:
        return False
    published = provider.publish_static(served(service, collected))
    changes = f"; {published.uploaded} uploaded, {published.deleted} removed" \
        if published.uploaded or published.deleted else ""
    render.out().print(f"{collected.count} static files in {collected.directory}/, served at "
                       f"{collected.path}/ ({published.url}) by {published.where}{changes}",
                       markup=False, soft_wrap=True)
    return True


@click.command(
    "manage",
    short_help="Run a Django management command on a stage.",
    context_settings={"ignore_unknown_options": True},
    epilog=examples(
        "aloft manage dev migrate",
        "aloft manage dev createsuperuser --noinput --username admin --email a@example.com",
        "aloft manage prod collectstatic --noinput",
    ),
)
@stage_argument()
@click.argument("args", nargs=-1, required=True, type=click.UNPROCESSED, metavar="COMMAND...")
def command(stage: str, args: tuple[str, ...]) -> None:
    """Run a Django management COMMAND in STAGE's app and print its output.

    collectstatic, when aloft serves the project's static files (`static:`, or Django's
    STATIC_ROOT and STATIC_URL), runs on this machine into the directory the stage serves and
    publishes it (the local gateway serves it; on aws, what changed is uploaded to the stage's
    static bucket)."""
    from aloft.config.models import APP_FUNCTION

    service = load_service(stage)
    if not service.django_settings:
        raise UsageError(
            f"{service.service} is not a Django project (no `django_settings`)",
            where=Location(file=str(service.config_file) if service.config_file else None,
                           stage=stage),
            fix="set `django_settings: yourproject.settings` in aloft.yml",
        )
    provider = providers.provider_for(service)
    if args[0] == "collectstatic" and isinstance(provider, PublishesStatic) \
            and _collectstatic(service, provider, args[1:]):
        return
    output = provider.invoke(service, APP_FUNCTION, manage_event(args))
    if output.logs:
        sys.stderr.write(output.logs if output.logs.endswith("\n") else output.logs + "\n")
    text = command_output(output.payload)
    if text:
        sys.stdout.write(text)
    failure = output.error or (
        output.payload.get("error") if isinstance(output.payload, dict) else None
    )
    if failure:
        hint = output.payload.get("hint") if isinstance(output.payload, dict) else None
        raise InvokeError(f"`manage {' '.join(args)}` failed: {failure}",
                          where=Location(function=APP_FUNCTION, stage=stage),
                          fix=str(hint) if hint else
                          f"`aloft tail {stage} --function app` shows the app's logs")
    if isinstance(output.payload, dict) and output.payload.get("exit_code") not in (None, 0):
        raise click.exceptions.Exit(int(output.payload["exit_code"]))
