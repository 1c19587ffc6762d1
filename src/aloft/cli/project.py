"""Loading the project a command works on: the config file under `--chdir`, one stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from aloft.config import load_project
from aloft.config.models import Service


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
    """The service for `stage` (the project's default stage when None); config errors say
    which stages exist."""
    return load_project(state().root).service(stage)
