"""Loading the project a command works on: the config file under `--chdir`, one stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from aloft.config.models import Service
    from aloft.plugins import Lifecycle


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
    """The service for `stage` (the project's default stage when None), with its plugins' config
    sections and model hooks applied; config errors say which stages exist."""
    from aloft.plugins import load_service as load_with_plugins

    service, plugins = load_with_plugins(state().root, stage)
    return plugins.apply_service(service, "while loading the service")


def begin(command: str, stage: str | None, *, first: str = "start",
          plan_only: bool = False) -> Lifecycle:
    """Start `command` as lifecycle steps: load the stage and its plugins, run the first step."""
    from aloft.plugins import Lifecycle

    return Lifecycle.begin(command, state().root, stage, first=first, plan_only=plan_only)
