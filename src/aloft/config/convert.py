"""Writing a zappa or serverless config as aloft.yml.

Each stage is read as aloft data with `${env:...}` (and the values read at deploy time,
`${ssm:...}`, `${cf:...}`, ...) left as variables, so no secret is copied into the file, and the
stage's name left as `${stage}` (`${opt:stage}`, `${sls:stage}`), so that derived names stay
parametric, and the region as `${aws:region}` (also serverless.yml's `AWS::Region`), which is
the local cloud's on the local provider and the stage's AWS region on aws. What every stage
shares becomes the top level; each stage keeps only what differs, and Zappa's `extends` stays
`extends`. Loading the result gives the same Service per stage as loading the original; what
could not be carried is listed (file and key) at the top.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from aloft.config.project import load_project, reader_for
from aloft.errors import ConfigError, Location

_ORDER = ("service", "app", "django_settings", "runtime", "provider", "memory", "timeout")


def convert_to_aloft_yaml(path: Path) -> tuple[str, list[str]]:
    """The aloft.yml text equivalent to the zappa/serverless config at `path`, and warnings."""
    project = load_project(path)
    if project.kind == "aloft":
        raise ConfigError(
            f"{project.file.name} is already an aloft config", where=Location(str(project.file)),
            fix="pass a zappa_settings or serverless.yml file",
        )
    reader = reader_for(project.file)
    keep = frozenset({"env", "stage", "instanceId", "aws"})
    trees = {
        stage: reader.stage_tree(stage, env=os.environ, options={}, keep=keep)
        for stage in project.stages
    }
    warnings = list(project.warnings)
    for tree in trees.values():
        warnings += [w for w in tree.warnings if w not in warnings]
    data = {stage: tree.data for stage, tree in trees.items()}
    base = common(list(data.values()))
    document = _ordered(base)
    parents: dict[str, str] = getattr(reader, "extends", {})
    stages: dict[str, Any] = {}
    for stage, values in data.items():
        parent = parents.get(stage)
        if parent in data and covers(values, data[parent]):
            # mirror the original `extends`: only what differs from the parent stage
            stages[stage] = {"extends": parent, **difference(values, data[parent])}
        else:
            if parent in data:
                dropped = ", ".join(sorted(_dropped(values, data[parent])))
                warnings.append(f"`{stage}.extends`: written out in full, because the stage "
                                f"leaves out {dropped} of {parent!r}, which aloft's `extends` "
                                "(a deep merge) would keep")
            stages[stage] = difference(values, base) or None
    document["stages"] = stages
    return _header(project.file.name, warnings) + _dump(document), warnings


def _dropped(values: dict[str, Any], parent: dict[str, Any], path: str = "") -> list[str]:
    """The keys of `parent` (dotted) that `values` does not have."""
    out: list[str] = []
    for key, value in parent.items():
        here = f"{path}.{key}" if path else str(key)
        if key not in values:
            out.append(f"`{here}`")
        elif isinstance(value, dict) and isinstance(values[key], dict):
            out.extend(_dropped(values[key], value, here))
    return out


def common(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The keys (recursively) every mapping in `items` has with the same value."""
    first, rest = items[0], items[1:]
    out: dict[str, Any] = {}
    for key, value in first.items():
        others = [item.get(key, _ABSENT) for item in rest]
        if isinstance(value, dict) and others and all(isinstance(o, dict) for o in others):
            shared = common([value, *others])
            if shared or (all(not o for o in others) and not value):
                out[key] = shared
        elif all(o == value for o in others):
            out[key] = value
    return out


def difference(values: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """What `values` sets beyond `base`: deep-merging it over `base` gives back `values`."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in base:
            out[key] = value
        elif isinstance(value, dict) and isinstance(base[key], dict):
            below = difference(value, base[key])
            if below:
                out[key] = below
        elif value != base[key]:
            out[key] = value
    return out


def covers(values: dict[str, Any], parent: dict[str, Any]) -> bool:
    """Whether `values` has every key of `parent` (mappings recursively): merging can't delete."""
    for key, value in parent.items():
        if key not in values:
            return False
        nested = isinstance(value, dict) and isinstance(values[key], dict)
        if nested and not covers(values[key], value):
            return False
    return True


class _Absent:
    pass


_ABSENT = _Absent()


def _ordered(data: dict[str, Any]) -> dict[str, Any]:
    first = {k: data[k] for k in _ORDER if k in data}
    return {**first, **{k: v for k, v in data.items() if k not in first}}


def _header(source: str, warnings: list[str]) -> str:
    lines = [
        f"# aloft.yml converted from {source} by `aloft`.",
        "# provider: local runs every stage in aloft's local cloud (no account needed);",
        "# set `provider: aws` (here or in a stage) to deploy to AWS with the `aws:` settings.",
    ]
    if warnings:
        lines.append(f"# Not converted, or converted differently (keys of {source}):")
        lines += [f"#   - {w}" for w in warnings]
    return "\n".join(lines) + "\n\n"


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(document: dict[str, Any]) -> str:
    return yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
        allow_unicode=True, width=100,
    )
