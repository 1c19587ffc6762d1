"""Finding and loading a project's config: the public entry points of `aloft.config`."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aloft.config.native import AloftReader
from aloft.config.reader import ConfigReader, Kind
from aloft.config.source import load_document
from aloft.config.variable_sources import localize
from aloft.errors import ConfigError, Location

if TYPE_CHECKING:
    from aloft.config.locate import Locator
    from aloft.config.models import Service
    from aloft.config.sections import SectionLoader
    from aloft.config.source import KeyPath

CONFIG_NAMES: tuple[tuple[str, Kind], ...] = (
    ("aloft.yml", "aloft"),
    ("aloft.yaml", "aloft"),
    ("zappa_settings.json", "zappa"),
    ("zappa_settings.yml", "zappa"),
    ("zappa_settings.yaml", "zappa"),
    ("zappa_settings.toml", "zappa"),
    ("serverless.yml", "serverless"),
    ("serverless.yaml", "serverless"),
)
_CONFIG_SUFFIXES = (".yml", ".yaml", ".json", ".toml")
_STAGE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")


def find_config_file(directory: Path) -> Path:
    """The config file of the project in `directory`, in the order of CONFIG_NAMES."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(
            f"{directory} is not a directory", where=Location(file=str(directory)),
            fix="pass the project directory or its config file",
        )
    for name, _ in CONFIG_NAMES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no aloft.yml (nor zappa_settings or serverless.yml) in {directory}",
        where=Location(file=str(directory)),
        fix="run `aloft init` to create aloft.yml, or pass the path of a config file",
    )


def config_kind(file: Path) -> Kind:
    name = file.name.lower()
    for known, kind in CONFIG_NAMES:
        if name == known:
            return kind
    if name.startswith("zappa_settings"):
        return "zappa"
    if name.startswith("serverless"):
        return "serverless"
    return "aloft"


class Project:
    """A loaded config file: its stages, and each stage as a validated `Service`."""

    def __init__(self, reader: ConfigReader, *, env: Mapping[str, str] | None = None):
        self._reader = reader
        self._env: Mapping[str, str] = os.environ if env is None else env
        self.file: Path = reader.doc.file
        self.root: Path = self.file.parent
        self.kind: Kind = reader.kind
        self.stages: list[str] = list(reader.stages)
        self.default_stage: str = reader.default_stage
        self.warnings: list[str] = list(reader.warnings)
        self._locators: dict[str, Locator] = {}
        if self.kind == "serverless":
            # Its warnings come from the resolved document; a stage that does not resolve
            # (a missing variable) reports that when it is asked for.
            try:
                tree = reader.stage_tree(self.default_stage, env=self._env, options={})
            except ConfigError:
                tree = None
            for warning in tree.warnings if tree else []:
                if warning not in self.warnings:
                    self.warnings.append(warning)

    def __repr__(self) -> str:
        return f"Project({str(self.file)!r}, kind={self.kind!r}, stages={self.stages!r})"

    def locate(self, stage: str, path: KeyPath) -> Location:
        """Where the value at resolved key `path` of a stage loaded by `service()` was written
        (file:line:column and key path: checks made after validation point there too)."""
        locator = self._locators.get(stage)
        return locator.where(path) if locator else Location(file=str(self.file), stage=stage)

    def service(
        self,
        stage: str | None = None,
        *,
        options: Mapping[str, str] | None = None,
        sections: SectionLoader | None = None,
    ) -> Service:
        """Stage `stage` (default: default_stage) resolved and validated.

        `options` are command-line options: `${opt:name}` reads them, `provider` and `region`
        override the stage's provider and AWS region. `sections` returns the config sections of
        the stage's plugins: they are validated by their models into `Service.plugin_config`.
        """
        # pydantic is imported when a stage is validated, not when a config file is read
        # (`aloft --help` reads the file to find plugin commands)
        from aloft.config import cfn_references, route_cors, unresolved
        from aloft.config.duplicate_routes import duplicate_route
        from aloft.config.sections import plugin_names, split_sections
        from aloft.config.source import format_path
        from aloft.config.validation import validate_service

        stage = stage or (options or {}).get("stage") or self.default_stage
        if not _STAGE_NAME.match(stage) and Path(stage).suffix.lower() in _CONFIG_SUFFIXES:
            raise ConfigError(
                f"{stage!r} is a config file, not a stage of {self.file.name}",
                where=Location(file=str(self.file)),
                fix="aloft reads aloft.yml, zappa_settings and serverless.yml directly, with "
                "their stages: run the command in that file's directory (or with -C DIR) and "
                f"name a stage ({', '.join(self.stages) or self.default_stage}); "
                "`aloft import` converts a file to aloft.yml if you want one",
            )
        if not _STAGE_NAME.match(stage):
            raise ConfigError(
                f"stage name {stage!r} is not valid", where=Location(file=str(self.file)),
                fix="use letters, digits, '-' or '_', starting with a letter",
            )
        opts = dict(options or {})
        tree = self._reader.stage_tree(stage, env=self._env, options=opts)
        self._locators[stage] = tree.locator
        data = apply_options(tree.data, opts)
        if data.get("provider", "local") == "local":
            data = localize(data, lambda path, message, fix: tree.locator.error(path, message, fix))
        warnings = list(dict.fromkeys([*self._reader.warnings, *tree.warnings]))
        for warning in warnings:
            if warning not in self.warnings:
                self.warnings.append(warning)
        plugin_config: dict[str, Any] = {}
        if sections is not None:
            models = sections(plugin_names(data), tree.locator)
            data, plugin_config = split_sections(data, tree.locator, models)
        service = validate_service(
            data, tree.locator, stage=stage, root=self.root, config_file=self.file,
            warnings=warnings, plugin_config=plugin_config,
        )
        duplicate = duplicate_route(service)
        if duplicate is not None:
            first = tree.locator.where(duplicate.first)
            at = f" (line {first.line})" if first.line else ""
            raise tree.locator.error(
                duplicate.second,
                f"route `{duplicate.method} {duplicate.path}` is also "
                f"`{format_path(duplicate.first)}`{at}: API Gateway refuses two routes for "
                "one method and path",
                "remove one of them, or give it another method or path",
            )
        cfn_references.check(service, tree.locator)
        for gap in unresolved.gaps(service):
            if gap not in service.warnings:
                service.warnings.append(gap)
            if gap not in self.warnings:
                self.warnings.append(gap)
        if service.provider == "aws":  # refused here too, for the line it was written on
            conflict = route_cors.aws_conflict(service)
            if conflict is not None:
                raise tree.locator.error(conflict.where or ("cors",), conflict.message,
                                         conflict.fix)
        return service

    def services(self, *, sections: SectionLoader | None = None) -> dict[str, Service]:
        """Every stage, validated (for `aloft validate`); raises on the first invalid stage."""
        return {stage: self.service(stage, sections=sections)
                for stage in self.stages or [self.default_stage]}


def apply_options(data: dict[str, Any], options: Mapping[str, str]) -> dict[str, Any]:
    out = dict(data)
    if options.get("provider"):
        out["provider"] = options["provider"]
    if options.get("region"):
        aws = out.get("aws")
        out["aws"] = {**(aws if isinstance(aws, dict) else {}), "region": options["region"]}
    return out


def reader_for(file: Path) -> ConfigReader:
    doc = load_document(file)
    kind = config_kind(file)
    if kind == "zappa":
        from aloft.config.zappa import ZappaReader

        return ZappaReader(doc)
    if kind == "serverless":
        from aloft.config.serverless import ServerlessReader

        return ServerlessReader(doc)
    return AloftReader(doc)


def load_project(
    path: Path | str | None = None, *, env: Mapping[str, str] | None = None
) -> Project:
    """The project whose directory or config file is `path` (default: the current directory)."""
    target = Path.cwd() if path is None else Path(path).absolute()
    file = find_config_file(target) if target.is_dir() else target
    return Project(reader_for(file), env=env)


def load_service(
    path: Path | str | None = None,
    stage: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> Service:
    """Shortcut: `load_project(path, env=env).service(stage)`."""
    return load_project(path, env=env).service(stage)
