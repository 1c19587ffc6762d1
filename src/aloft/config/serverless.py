"""serverless.yml (Serverless Framework v3, Python services) read as aloft stages.

One file describes every stage: the stage is the STAGE argument (`--stage` to the Serverless
Framework, `${opt:stage}` and `${sls:stage}` here), else `provider.stage`, else `dev`; any stage
name works. `params.<stage>` (v3) names stages for `--all-stages` and gives `${param:key}`.
As the Serverless Framework does, `provider.stage` (`dev`) and `provider.region` (`us-east-1`)
get their defaults before any variable is resolved, `.env` files are read first with
`useDotenv` or serverless-dotenv-plugin, and then the resolved document is mapped onto aloft
keys: the provider section (serverless_provider), resources (serverless_resources), plugins
and their `custom` sections (serverless_plugins, serverless_lift), functions and their events
(serverless_functions, serverless_events). CloudFormation functions that only need what is
known now (`AWS::Region`, `AWS::StackName`, conditions on the stage) are folded into values;
the others stay typed (aloft.config.intrinsics).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aloft.config.builder import Builder, unsupported
from aloft.config.cfn_resolve import fold, static_conditions
from aloft.config.dotenv import dotenv_files, load_dotenv
from aloft.config.intrinsics import Equals
from aloft.config.locate import Locator
from aloft.config.native import DEFAULT_STAGE, check_stage
from aloft.config.reader import Kind, StageTree
from aloft.config.serverless_events import RefusedEvent
from aloft.config.serverless_functions import convert_functions
from aloft.config.serverless_lift import LIFT, Lift
from aloft.config.serverless_plugins import convert_custom, convert_plugins, plugin_list
from aloft.config.serverless_provider import convert_provider
from aloft.config.serverless_resources import convert_resources
from aloft.config.source import Document, KeyPath
from aloft.config.stages import type_name
from aloft.config.variable_sources import DEFAULT_REGION, LOCAL_REGION
from aloft.config.variables import SERVERLESS_SOURCES, Resolver, VariableContext
from aloft.errors import ConfigError

DOTENV_PLUGIN = "serverless-dotenv-plugin"
_META = {"frameworkVersion", "variablesResolutionMode", "configValidationMode",
         "deprecationNotificationMode", "disabledDeprecations", "params", "useDotenv",
         "unresolvedVariablesNotificationMode", "projectDir"}
_TOP = {"service", "provider", "functions", "custom", "resources", "package", "plugins",
        "constructs"}
_TOP_WARNINGS = {
    "app": "the Serverless Dashboard is not used",
    "org": "the Serverless Dashboard is not used",
    "console": "the Serverless Console is not used; `aloft tail` and the dashboard show logs",
    "dashboard": "the Serverless Dashboard is not used",
    "layers": "aloft builds one dependency layer per stage from your requirements; list other "
              "layers' ARNs under `provider.layers` (aws)",
    "outputs": "Serverless Dashboard outputs are not used",
    "stepFunctions": "Step Functions are not supported by aloft",
}
INSTANCE_ID = secrets.token_hex(8)
"""`${sls:instanceId}`: one random value per run, as the Serverless Framework's."""


class ServerlessReader:
    """Reads a serverless.yml; its stages are provider.stage (or dev) and those in `params`."""

    kind: Kind = "serverless"

    def __init__(self, doc: Document):
        if not isinstance(doc.data, dict):
            raise Locator(doc).error(
                (), f"serverless.yml must be a mapping, not {type_name(doc.data)}",
                "start with `service: my-service`",
            )
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self._default = self._provider_stage()
        params = self.data.get("params")
        self.params: dict[str, Any] = params if isinstance(params, dict) else {}
        named = [str(s) for s in self.params if s != "default" and s != self._default]
        self.stages = [self._default, *named]
        self.warnings: list[str] = []

    def _provider_stage(self) -> str:
        provider = self.data.get("provider")
        stage = provider.get("stage") if isinstance(provider, dict) else None
        if stage is None:
            return DEFAULT_STAGE
        # `${opt:stage, 'dev'}` with no --stage: the fallback is the default stage.
        ctx = VariableContext(stage=DEFAULT_STAGE, env={}, base_dir=self.doc.file.parent,
                              sources=frozenset({"opt", "self"}), cloudformation=True)
        try:
            value = Resolver(self.data, ctx, Locator(self.doc)).text(
                str(stage), ("provider", "stage"))
        except ConfigError:  # e.g. `${env:STAGE}` unset: serverless' own default
            return DEFAULT_STAGE
        return str(value) if isinstance(value, str) and value else DEFAULT_STAGE

    @property
    def default_stage(self) -> str:
        return self._default

    def stage_tree(
        self,
        stage: str,
        *,
        env: Mapping[str, str],
        options: Mapping[str, str],
        keep: frozenset[str] = frozenset(),
    ) -> StageTree:
        check_stage(stage, self.stages, self.doc, allow_any=True, how="")
        locator = Locator(self.doc, stage=stage)
        root = with_provider_defaults({k: v for k, v in self.data.items() if k != "params"})
        env, dotenv, dotenv_setting = self._environment(stage, env)
        params = {**_mapping(self.params.get("default")), **_mapping(self.params.get(stage))}
        lift = Lift.of(self.data) if LIFT in plugin_list(self.data) else None
        ctx = VariableContext(
            stage=stage, env=env, base_dir=self.doc.file.parent,
            options={**options, "stage": stage}, params=params,
            sources=SERVERLESS_SOURCES, keep=keep, cloudformation=True,
            region_path=("provider", "region"), provider_path=None, instance_id=INSTANCE_ID,
            constructs=lift.variable if lift else None,
        )
        resolved = Resolver(root, ctx, locator).resolve_all()
        try:
            built = convert_serverless(resolved, self.doc.file.parent, stage=stage,
                                       region=options.get("region"), dotenv=dotenv, keep=keep,
                                       provider=options.get("provider") or "local")
            if dotenv_setting is not None:
                source = ("useDotenv",) if self.data.get("useDotenv") is True else ("plugins",)
                built.put(("dotenv",), dotenv_setting, source)
        except RefusedEvent as exc:
            raise locator.error(exc.path, exc.message, exc.fix, at_key=True) from None
        locator.origins = built.origins
        return StageTree(built.data, locator, built.warnings)

    def _environment(
        self, stage: str, env: Mapping[str, str]
    ) -> tuple[Mapping[str, str], dict[str, str], bool | list[str] | None]:
        """The process environment with the stage's .env files under it (the environment wins,
        as in the Serverless Framework), the .env variables alone, and aloft's `dotenv:` for
        the same files (None: no .env file is read)."""
        use = self.data.get("useDotenv") is True
        plugin = DOTENV_PLUGIN in plugin_list(self.data)
        if not (use or plugin):
            return env, {}, None
        root = self.doc.file.parent
        names = None if plugin else [f".env.{stage}", ".env"]
        if plugin:
            path = _mapping(_mapping(self.data.get("custom")).get("dotenv")).get("path")
            if isinstance(path, str) and "${" not in path:
                names = [path]
        files = dotenv_files(root, stage, names)
        # the framework's own useDotenv reads .env.{stage}, or else .env; the plugin reads all
        files = files if plugin else files[:1]
        values = load_dotenv(files, env)
        setting: bool | list[str] = True if plugin and names is None else \
            [str(f.relative_to(root)) for f in files] if not plugin else list(names or [])
        return {**values, **env}, values, setting


def with_provider_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with provider.stage (dev) and provider.region (us-east-1) set if absent, so that
    `${self:provider.stage}` and `${self:provider.region}` resolve as in the Serverless
    Framework."""
    provider = data.get("provider")
    if provider is None or isinstance(provider, dict):
        provider = dict(provider or {})
        provider.setdefault("name", "aws")
        provider.setdefault("stage", DEFAULT_STAGE)
        provider.setdefault("region", DEFAULT_REGION)
        return {**data, "provider": provider}
    return data


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _unkeep(value: Any, stage: str) -> Any:
    if isinstance(value, str):
        return value.replace("${stage}", stage)
    if isinstance(value, dict):
        return {k: _unkeep(v, stage) for k, v in value.items()}
    if isinstance(value, list):
        return [_unkeep(v, stage) for v in value]
    return value


def pseudo_parameters(service: str, stage: str, region: str) -> dict[str, str]:
    """CloudFormation's pseudo parameters as far as they are known before deploying (the
    account id is read at deploy time: `${aws:accountId}`). `region` is where the stage is
    deployed: on the local provider the local cloud's (LOCAL_REGION), as `${aws:region}`."""
    partition = ("aws-cn" if region.startswith("cn-") else
                 "aws-us-gov" if region.startswith("us-gov-") else "aws")
    return {
        "AWS::Region": region, "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
        "AWS::StackName": f"{service}-{stage}", "AWS::AccountId": "${aws:accountId}",
    }


def convert_serverless(
    doc: dict[str, Any], root: Path, *, stage: str = DEFAULT_STAGE, region: str | None = None,
    dotenv: Mapping[str, str] | None = None, keep: frozenset[str] = frozenset(),
    provider: str = "local",
) -> Builder:
    """A resolved serverless.yml (one stage) as aloft data; `provider` is the one the stage
    is loaded for (the `provider` option), which decides the region pseudo parameters name."""
    out = Builder()
    out.put(("provider",), "local", ())
    service = doc.get("service")
    if isinstance(service, dict):
        service = service.get("name")
    out.put(("service",), service, ("service",))
    settings = _mapping(doc.get("provider"))
    # where the stage is deployed, as `${aws:region}` (aloft.config.variables): the local
    # cloud's region on the local provider, else the region option or provider.region
    region = LOCAL_REGION if provider == "local" else \
        region or str(settings.get("region") or DEFAULT_REGION)
    kept = "stage" in keep  # converting: the stage stays `${stage}` in values
    real = pseudo_parameters(str(service), stage, region)
    known: dict[str, Any] = pseudo_parameters(str(service), "${stage}" if kept else stage, region)
    if "aws" in keep:  # converting: the region stays `${aws:region}`, per provider
        known["AWS::Region"] = "${aws:region}"
    resources = _mapping(doc.get("resources"))
    # conditions are decided for this stage, also when its name or region is kept in values
    written = _mapping(resources.get("Conditions"))
    conditions, truth = static_conditions(_unkeep(written, stage) if kept else written, real)
    decided = {name: Equals("true", "true" if held else "false") for name, held in truth.items()}
    doc = fold(doc, known, {**conditions, **decided})
    settings = _mapping(doc.get("provider"))
    convert_provider(out, settings)
    kinds = convert_resources(out, doc.get("resources"), ("resources",), truth)
    plugins = plugin_list(doc)
    convert_plugins(out, doc.get("plugins"), plugins)
    custom = convert_custom(out, _mapping(doc.get("custom")), plugins,
                            dotenv=dotenv or {}, keep_env="env" in keep)
    if LIFT in plugins:
        Lift.of(doc).convert(out, kinds)
    elif "constructs" in doc:
        out.warn(("constructs",), "constructs are serverless-lift's; list serverless-lift under "
                 "`plugins` to have them read")
    convert_functions(out, _mapping(doc.get("functions")), settings, custom, kinds,
                      stage=stage, per_function_iam="serverless-iam-roles-per-function" in plugins)
    _package(out, _mapping(doc.get("package")))
    for key in doc:
        if key not in _META and key not in _TOP:
            out.warn((key,), _TOP_WARNINGS.get(key) or unsupported(
                key, [*_META, *_TOP, *_TOP_WARNINGS]))
    return out


def _package(out: Builder, package: dict[str, Any]) -> None:
    excluded = False
    for key, value in package.items():
        at: KeyPath = ("package", key)
        if key == "patterns":
            for i, pattern in enumerate(value if isinstance(value, list) else [value]):
                if isinstance(pattern, str) and pattern.startswith("!"):
                    out.put(("exclude",), [*out.get(("exclude",), []), pattern[1:]], at)
                    excluded = True
                elif excluded:
                    out.warn((*at, i), "aloft includes every file that no `!pattern` excludes; "
                             "a pattern cannot include back what an earlier one excluded")
        elif key == "exclude":
            out.put(("exclude",), [*out.get(("exclude",), []),
                                   *(value if isinstance(value, list) else [value])], at)
        elif key == "include":
            continue  # aloft includes every file that is not excluded
        elif key == "individually":
            if value:
                out.warn(at, "aloft builds one bundle for all functions (the code is shared, "
                         "the dependencies are a layer)")
        elif key in ("excludeDevDependencies",):
            continue  # Node.js only
        else:
            out.warn(at, {"artifact": "aloft builds the artifact itself from your project"}
                     .get(key, "not supported by aloft; ignored"))
