"""An aloft plugin: after every deploy, POST a JSON summary to the URL in `deploy_summary:`.

    plugins: [my_plugins.deploy_summary]
    deploy_summary:
      url: http://127.0.0.1:8765/deploys
      timeout: 5            # seconds
      required: false       # true: a failed post makes `aloft deploy` fail (the deploy stays)

It also adds `aloft summary STAGE`, which prints the summary the plugin would post.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import click
from pydantic import BaseModel, ConfigDict, Field, field_validator

from aloft.config.models import Service
from aloft.plugins import Abort, Context, hookimpl
from aloft.provider import DeployResult


class DeploySummary(BaseModel):
    """The `deploy_summary:` section of aloft.yml."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="Where the summary is POSTed (http or https).")
    timeout: float = Field(5.0, gt=0, le=60, description="Seconds to wait for the endpoint.")
    required: bool = Field(False, description="Fail the command when the post fails.")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"url {value!r} must start with http:// or https://")
        return value


def summary(service: Service, result: DeployResult, started: float | None) -> dict[str, Any]:
    return {
        "service": service.service,
        "stage": service.stage,
        "provider": service.provider,
        "version": result.version,
        "url": result.url,
        "functions": result.functions,
        "schedules": result.schedules,
        "seconds": round(time.time() - started, 3) if started else None,
    }


def post(config: DeploySummary, payload: dict[str, Any]) -> int:
    request = urllib.request.Request(
        config.url, data=json.dumps(payload).encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "aloft-deploy-summary"},
    )
    with urllib.request.urlopen(request, timeout=config.timeout) as reply:
        return int(reply.status)


@hookimpl
def aloft_config_sections() -> dict[str, type[BaseModel]]:
    return {"deploy_summary": DeploySummary}


@hookimpl
def aloft_before_step(step: str, context: Context) -> None:
    if step == "deploy:validate":
        context.data["deploy_summary.started"] = time.time()


@hookimpl
def aloft_step(step: str, context: Context) -> None:
    if step != "deploy:finalize" or context.plan_only or context.result is None:
        return
    config = context.config("deploy_summary")
    if config is None:
        return
    payload = summary(context.service, context.result,
                      context.data.get("deploy_summary.started"))
    try:
        post(config, payload)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if config.required:
            raise Abort(f"could not post the deploy summary to {config.url}: {reason}",
                        fix="start the endpoint, or set `deploy_summary.required: false`"
                        ) from None
        click.echo(f"deploy_summary: could not post to {config.url}: {reason}", err=True)


@click.command("summary", short_help="Print the deploy summary of a stage (deploy_summary).")
@click.argument("stage")
def summary_command(stage: str) -> None:
    """Print the JSON summary the deploy_summary plugin posts, for STAGE as deployed now."""
    from aloft.cli import providers
    from aloft.cli.project import load_service

    service = load_service(stage)
    status = providers.provider_for(service).status(service)
    report = status.report  # the local cloud's words: `functions` and `schedules` are lists
    result = DeployResult(
        url=status.url, version=status.version,
        functions={f["function"]: int(f["version"]) for f in report.get("functions") or []},
        schedules=[s["name"] for s in report.get("schedules") or []],
    )
    click.echo(json.dumps(summary(service, result, None), indent=2))


@hookimpl
def aloft_commands() -> list[click.Command]:
    return [summary_command]
