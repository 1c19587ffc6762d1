"""The hooks a plugin may implement (pluggy hook specifications, project name `aloft`).

A plugin is a module (or any object) with functions named like these, decorated with
`aloft.plugins.hookimpl`. A hook implementation may take any subset of the arguments listed
here, by name. docs/plugins.md says when each runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from pydantic import BaseModel

    from aloft.config.models import Service
    from aloft.package.manifest import Manifest
    from aloft.package.target import Target
    from aloft.plugins.context import Context
    from aloft.provider import DeployResult

PROJECT = "aloft"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def aloft_config_sections() -> dict[str, type[BaseModel]]:  # type: ignore[empty-body]
    """{top-level key of aloft.yml: pydantic model}: sections this plugin reads; validated with
    the rest of the file (file:line errors) and available as `context.config(name)` or
    `service.plugin_config[name]`."""


@hookspec
def aloft_commands() -> list[click.Command]:  # type: ignore[empty-body]
    """click commands added to `aloft` (listed in `aloft --help` after aloft's own)."""


@hookspec
def aloft_service(service: Service, config: Any) -> Service | None:
    """Change the service model: return a modified copy (`service.model_copy(update=...)`) or
    None to keep it. Runs at every command's first step (`deploy:validate`, `<cmd>:start`), each
    plugin receiving the previous plugin's result. `config` is this plugin's section (or None)."""


@hookspec
def aloft_before_step(step: str, context: Context) -> None:
    """Before step `step` (`deploy:apply`, `rollback:run`, ...). Raise `aloft.plugins.Abort` to
    stop the command there."""


@hookspec
def aloft_step(step: str, context: Context) -> None:
    """At step `step`: right after aloft's own work of the step, as part of it."""


@hookspec
def aloft_after_step(step: str, context: Context) -> None:
    """After step `step` and every `aloft_step` hook of it succeeded."""


@hookspec
def aloft_prepare_dependencies(directory: Path, target: Target, service: Service) -> None:
    """Change the installed dependency tree `directory` (pip's --target for `target`) before it is
    zipped into the layer. Runs only when the layer is (re)built: the plugin's name and
    `ALOFT_PACKAGING_VERSION` (a module attribute, default "1") are part of the cache key."""


@hookspec
def aloft_package(manifest: Manifest, service: Service) -> None:
    """The artifact is built (`deploy:package`, `package:run`): inspect it, or Abort."""


@hookspec
def aloft_deployed(service: Service, result: DeployResult) -> None:
    """A deploy finished and the new version serves (`deploy:finalize`)."""
