"""Finding plugins: aloft's built-ins, installed packages (entry point group `aloft.plugins`) and
modules of the project, as listed under `plugins:` in aloft.yml.

A listed name is an entry point's name if an installed package declares one, else a module
imported with the project directory on sys.path (`plugins: [my_plugins.deploy_summary]`).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import click
from pydantic import BaseModel

from aloft.config import load_project
from aloft.config.locate import Locator
from aloft.config.models import Service
from aloft.config.sections import SectionLoader
from aloft.errors import AloftError, ConfigError
from aloft.plugins.builtin import keep_warm
from aloft.plugins.manager import Plugins

ENTRY_POINT_GROUP = "aloft.plugins"

BUILTIN: tuple[tuple[str, object], ...] = (("aloft.keep_warm", keep_warm),)
"""Always registered: parts of aloft written as plugins (each acts only when configured)."""


def builtin_plugins() -> Plugins:
    return Plugins(BUILTIN)


def _on_path(root: Path) -> None:
    text = str(root)
    if text not in sys.path:
        sys.path.insert(0, text)


def installed_plugins() -> dict[str, EntryPoint]:
    """Entry points of the group `aloft.plugins`, by name (one scan of the installed packages)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def import_plugin(name: str, root: Path, installed: Mapping[str, EntryPoint] | None = None,
                  ) -> object:
    """The plugin object for `name`: an entry point's target, else the module `name`.

    Raises ImportError (the plugin is absent) or whatever importing it raised.
    """
    found = (installed_plugins() if installed is None else installed).get(name)
    if found is not None:
        return found.load()
    _on_path(root)
    return importlib.import_module(name)


def load_plugins(names: list[str], root: Path, locator: Locator | None = None) -> Plugins:
    """The built-ins plus the plugins `names`; ConfigError at the `plugins:` entry of one that
    cannot be imported."""
    plugins = builtin_plugins()
    installed = installed_plugins() if names else {}
    for index, name in enumerate(names):
        try:
            plugin = import_plugin(name, root, installed)
        except ModuleNotFoundError as exc:
            missing = exc.name or name
            if not (name == missing or name.startswith(missing + ".")):
                raise _error(locator, index, name, f"plugin {name!r} cannot be imported: it "
                             f"imports {missing!r}, which is not installed",
                             f"pip install {missing.split('.')[0]}") from exc
            raise _error(locator, index, name, f"plugin {name!r} cannot be imported: no "
                         "installed package provides it and there is no such module in "
                         f"{root}", f"pip install the package that provides {name!r}, or "
                         f"check the module path (a file {name.replace('.', '/')}.py under "
                         "the project directory)") from None
        except AloftError:
            raise
        except Exception as exc:
            raise _error(locator, index, name, f"plugin {name!r} failed while importing: "
                         f"{type(exc).__name__}: {exc}",
                         "fix the error in the plugin (rerun with --verbose for the "
                         "traceback), or remove it from `plugins:`") from exc
        plugins.register(name, plugin)
    return plugins


def _error(locator: Locator | None, index: int, name: str, message: str,
           fix: str) -> ConfigError:
    if locator is None:
        return ConfigError(message, fix=fix)
    return locator.error(("plugins", index), message, fix)


def load_service(
    root: Path, stage: str | None = None, *, options: Mapping[str, str] | None = None,
) -> tuple[Service, Plugins]:
    """Stage `stage` of the project in `root`, validated with its plugins' config sections, and
    those plugins. `aloft_service` hooks have not run yet (they belong to the first step)."""
    project = load_project(root)
    loaded: list[Plugins] = []
    service = project.service(stage, options=options,
                              sections=section_loader(project.root, loaded))
    return service, (loaded[-1] if loaded else builtin_plugins())


def section_loader(root: Path, loaded: list[Plugins] | None = None) -> SectionLoader:
    """For `Project.service(sections=...)`: loads the listed plugins (appended to `loaded`) and
    returns their config sections' models."""

    def sections(names: list[str], locator: Locator) -> dict[str, type[BaseModel]]:
        plugins = load_plugins(names, root, locator)
        if loaded is not None:
            loaded.append(plugins)
        try:
            return {name: model for name, (_, model) in plugins.sections().items()}
        except AloftError as exc:
            raise locator.error(("plugins",), exc.message, exc.fix) from exc

    return sections


def project_commands(root: Path) -> list[click.Command]:
    """The commands the plugins of the project in `root` add (none without a config file)."""
    from aloft.config import find_config_file

    try:
        find_config_file(root)
    except ConfigError:
        return []
    _, plugins = load_service(root)
    return plugins.commands()
