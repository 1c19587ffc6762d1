"""A project with a recording plugin, written into a tmp directory by the tests."""

from __future__ import annotations

PLUGIN = '''
"""Records every step hook to `recorder.file`; aborts at `recorder.abort_at`; sets GREETING."""

from pathlib import Path

import click
from pydantic import BaseModel, ConfigDict

from aloft.plugins import Abort, hookimpl


class Recorder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str
    abort_at: str = ""
    greeting: str = "hello from a plugin"
    times: int = 1


def _write(config, line):
    with open(config.file, "a", encoding="utf-8") as fh:
        fh.write(line + "\\n")


def _at(when, step, context):
    config = context.config("recorder")
    _write(config, f"{when} {step}")
    if f"{when} {step}" == config.abort_at:
        raise Abort(f"refusing at {when} {step}")


@hookimpl
def aloft_config_sections():
    return {"recorder": Recorder}


@hookimpl
def aloft_service(service, config):
    env = {**service.environment, "GREETING": config.greeting}
    return service.model_copy(update={"environment": env})


@hookimpl
def aloft_before_step(step, context):
    _at("before", step, context)


@hookimpl
def aloft_step(step, context):
    _at("at", step, context)


@hookimpl
def aloft_after_step(step, context):
    _at("after", step, context)


@hookimpl
def aloft_deployed(service, result):
    _write(service.plugin_config["recorder"], f"deployed v{result.version}")


@click.command("recorded", short_help="Print what the recorder plugin recorded.")
@click.option("--last", default=3, show_default=True)
def recorded(last):
    from aloft.cli.project import load_service

    config = load_service(None).plugin_config["recorder"]
    lines = Path(config.file).read_text().splitlines()
    click.echo("\\n".join(lines[-last:]))


@hookimpl
def aloft_commands():
    return [recorded]
'''

APP = '''
import json
import os

VERSION = "{version}"


def app(environ, start_response):
    body = json.dumps({{"version": VERSION, "greeting": os.environ.get("GREETING")}}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
'''

CONFIG = '''
service: {service}
app: app:app
memory: 128
keep_warm: {keep_warm}
plugins:
  - rec_plugins.record
recorder:
  file: ${{env:RECORD_FILE}}
  abort_at: ${{env:ABORT_AT, ''}}
stages:
  dev:
    provider: local
'''


def files(service: str, version: str = "one", keep_warm: str = "false") -> dict[str, str]:
    return {
        "aloft.yml": CONFIG.format(service=service, keep_warm=keep_warm),
        "app.py": APP.format(version=version),
        "rec_plugins/__init__.py": "",
        "rec_plugins/record.py": PLUGIN,
    }
