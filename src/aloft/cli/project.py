"""Loading the project a command works on: the config file under `--chdir`, one stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from aloft.config import load_project
from aloft.config.models import Service
from aloft.errors import ConfigError, Location


@dataclass
class CliState:
    """Global options, shared by every command through the click context."""

    root: Path = field(default_factory=Path.cwd)
    verbose: bool = False


def state() -> CliState:
    ctx = click.get_current_context()
    found = ctx.find_object(CliState)
    if found is None:  # a command invoked on its own (tests): defaults
        found = ctx.ensure_object(CliState)
    return found


def load_service(stage: str | None) -> Service:
    """The service for `stage` (the project's default stage when None)."""
    project = load_project(state().root)
    name = stage or project.default_stage
    if name not in project.stages:
        raise ConfigError(
            f"stage {name!r} is not defined",
            where=Location(file=str(project.file), key_path="stages"),
            fix=f"use one of: {', '.join(project.stages)}, or add `{name}:` under `stages:`",
        )
    return project.service(name)
