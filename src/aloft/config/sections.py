"""Config sections that plugins add to aloft.yml (`deploy_summary: {url: ...}`).

The config layer knows nothing about plugins: the caller passes a `SectionLoader`, which gets the
stage's `plugins:` list (and a Locator to report where it is written) and returns the section
models of those plugins. Each section is validated by its model here, with the same file:line
errors as the rest of aloft.yml; a key no plugin declared stays an "unknown key" error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from aloft.config.locate import Locator
from aloft.config.stages import suggest
from aloft.errors import ConfigError, ConfigErrors

SectionModels = Mapping[str, type[BaseModel]]
SectionLoader = Callable[[list[str], Locator], SectionModels]
"""(names listed under `plugins:`, locator) -> {section name: pydantic model}."""


def plugin_names(data: Mapping[str, Any]) -> list[str]:
    """The `plugins:` list of a resolved stage, if it is a list of names (else Service reports
    the type error)."""
    value = data.get("plugins")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return []
    return list(value)


def split_sections(
    data: Mapping[str, Any], locator: Locator, models: SectionModels
) -> tuple[dict[str, Any], dict[str, BaseModel]]:
    """(`data` without the plugins' sections, each section validated by its model)."""
    rest = {k: v for k, v in data.items() if k not in models}
    validated: dict[str, BaseModel] = {}
    problems: list[ConfigError] = []
    for name, model in models.items():
        raw = data.get(name)
        try:
            validated[name] = model.model_validate({} if raw is None else raw)
        except ValidationError as exc:
            problems.extend(_problems(name, model, exc, locator))
    if problems:
        raise problems[0] if len(problems) == 1 else ConfigErrors(problems)
    return rest, validated


def _problems(
    name: str, model: type[BaseModel], exc: ValidationError, locator: Locator
) -> list[ConfigError]:
    out: list[ConfigError] = []
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if isinstance(p, int) or not _is_tag(p))
        path = (name, *loc)
        kind = error["type"]
        message = str(error["msg"]).removeprefix("Value error, ")
        if kind == "extra_forbidden":
            key = str(path[-1])
            known = list(model.model_fields) if len(path) == 2 else []
            out.append(locator.error(
                path, f"unknown key `{key}` in the `{name}` section",
                suggest(key, known) or (f"keys allowed here: {', '.join(known)}" if known
                                        else "remove it"),
                at_key=True,
            ))
        elif kind == "missing":
            key = str(path[-1])
            out.append(locator.error(path[:-1], f"`{key}` is required in the `{name}` section",
                                     f"add `{key}: ...`"))
        else:
            out.append(locator.error(
                path, f"{message} (in the `{name}` section)",
                f"see the `{name}` plugin's documentation for this setting",
            ))
    return out


def _is_tag(part: Any) -> bool:
    """pydantic's union/validator tags in `loc` (`function-after[...]`, `str`), not keys."""
    text = str(part)
    return "[" in text or text in {"str", "int", "float", "bool", "dict", "list"}
