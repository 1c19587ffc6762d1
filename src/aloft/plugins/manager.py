"""`Plugins`: the loaded plugins of one project, and calling their hooks one by one.

Hooks are called plugin by plugin (in pluggy's order: last registered first, `tryfirst` /
`trylast` respected) rather than through `pm.hook.<name>(...)`, so that an exception is
attributed to the plugin that raised it and the step it was in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy
from pluggy import HookImpl
from pydantic import BaseModel

from aloft.config.models import Service
from aloft.errors import AloftError, PluginError
from aloft.plugins import hookspecs

if TYPE_CHECKING:
    import click

    from aloft.package.dependencies import DependencyStep
    from aloft.package.target import Target

RESERVED_SECTIONS = frozenset(Service.model_fields) | {"stages"}
"""Keys aloft itself owns: a plugin section may not take one of them."""

Stopped = Callable[[str, BaseException], PluginError]
"""(plugin name, what it raised) -> the error the command stops with."""


def stopped_at(step: str, fix: str | None = None) -> Stopped:
    """The error for a hook that raised; `step` says when ("before deploy:apply",
    "at deploy:package", "while adding its commands")."""

    def make(plugin: str, exc: BaseException) -> PluginError:
        if isinstance(exc, AloftError):
            return PluginError(f"plugin {plugin!r} stopped {step}: {exc.message}",
                               where=exc.where, fix=exc.fix or fix)
        return PluginError(f"plugin {plugin!r} failed {step}: {type(exc).__name__}: {exc}",
                           fix=fix or f"fix the plugin {plugin!r} (rerun with --verbose for "
                                      "its traceback), or remove it from `plugins:`")

    return make


class Plugins:
    """A pluggy PluginManager holding aloft's built-in plugins and the project's."""

    def __init__(self, plugins: Sequence[tuple[str, object]] = ()) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        for name, plugin in plugins:
            self.register(name, plugin)

    def register(self, name: str, plugin: object) -> None:
        if self.pm.has_plugin(name):
            return  # listed twice, or a built-in listed by name: once is enough
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {name!r} is not valid: {exc}",
                              fix="hook functions must be named and take arguments as listed "
                                  "in docs/plugins.md") from None

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.pm.list_name_plugin()]

    def has(self, name: str) -> bool:
        return self.pm.has_plugin(name)

    # -- calling hooks -------------------------------------------------------------------------

    def call(self, hook: str, stopped: Stopped, **kwargs: Any) -> list[tuple[str, Any]]:
        """Each implementation of `hook` in turn: [(plugin name, its result)]."""
        results: list[tuple[str, Any]] = []
        for impl in _plain(getattr(self.pm.hook, hook).get_hookimpls()):
            name = impl.plugin_name
            try:
                out = impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
            except Exception as exc:
                raise stopped(name, exc) from exc
            results.append((name, out))
        return results

    # -- what plugins provide ------------------------------------------------------------------

    def sections(self) -> dict[str, tuple[str, type[BaseModel]]]:
        """{section name: (plugin name, model)} of every plugin."""
        out: dict[str, tuple[str, type[BaseModel]]] = {}
        fix = "rename the section in the plugin, or list only one of the plugins"
        for plugin, declared in self.call("aloft_config_sections",
                                          stopped_at("while loading its config sections")):
            for name, model in (declared or {}).items():
                if not (isinstance(model, type) and issubclass(model, BaseModel)):
                    raise PluginError(f"plugin {plugin!r} declares section {name!r} with "
                                      f"{model!r}, not a pydantic model",
                                      fix="return {name: a pydantic BaseModel subclass}")
                if name in RESERVED_SECTIONS:
                    raise PluginError(f"plugin {plugin!r} declares section {name!r}, a key "
                                      "aloft itself uses", fix=fix)
                if name in out:
                    raise PluginError(f"plugins {out[name][0]!r} and {plugin!r} both declare "
                                      f"the section {name!r}", fix=fix)
                out[name] = (plugin, model)
        return out

    def commands(self) -> list[click.Command]:
        found: list[click.Command] = []
        stopped = stopped_at("while adding its commands")
        for plugin, commands in self.call("aloft_commands", stopped):
            for command in commands or []:
                if command.name is None:
                    raise PluginError(f"plugin {plugin!r} returned a command with no name",
                                      fix="give the click command a name")
                found.append(command)
        return found

    def apply_service(self, service: Service, step: str) -> Service:
        """`service` after every `aloft_service` hook, each seeing the previous one's result."""
        stopped = stopped_at(step)
        sections = self.sections()
        for impl in _plain(self.pm.hook.aloft_service.get_hookimpls()):
            name = impl.plugin_name
            section = next((s for s, (owner, _) in sections.items() if owner == name), None)
            args = {"service": service,
                    "config": service.plugin_config.get(section) if section else None}
            try:
                out = impl.function(**{arg: args[arg] for arg in impl.argnames})
            except Exception as exc:
                raise stopped(name, exc) from exc
            if out is None:
                continue
            if not isinstance(out, Service):
                raise PluginError(f"plugin {name!r} returned {type(out).__name__} from "
                                  "aloft_service, not a Service",
                                  fix="return service.model_copy(update={...}) or None")
            service = out
        return service

    def dependency_steps(self, service: Service) -> list[DependencyStep]:
        """The `aloft_prepare_dependencies` hooks as package steps (their key: name+version)."""
        from aloft.package.dependencies import DependencyStep  # not for commands that only read

        steps: list[DependencyStep] = []
        for impl in _plain(self.pm.hook.aloft_prepare_dependencies.get_hookimpls()):
            version = getattr(impl.plugin, "ALOFT_PACKAGING_VERSION", "1")
            steps.append(DependencyStep(key=f"{impl.plugin_name}:{version}",
                                        run=_dependency_runner(impl, service)))
        return steps


def _plain(impls: Sequence[HookImpl]) -> list[HookImpl]:
    """Implementations in call order (pluggy's: last registered first), without wrappers: a
    wrapper makes no sense around one named step called plugin by plugin."""
    return [impl for impl in reversed(impls) if not (impl.hookwrapper or impl.wrapper)]


def _dependency_runner(impl: Any, service: Service) -> Callable[[Path, Target], None]:
    def run(directory: Path, target: Target) -> None:
        args = {"directory": directory, "target": target, "service": service}
        try:
            impl.function(**{arg: args[arg] for arg in impl.argnames})
        except Exception as exc:
            raise stopped_at("while preparing the dependencies",
                             "correct what the plugin reports, or remove it from `plugins:`"
                             )(impl.plugin_name, exc) from exc

    return run
