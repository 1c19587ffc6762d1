"""Shell completion of the project's own names: stages and functions, read from its config.

The config file is read as data (the reader `aloft --help` uses to find plugin commands), never
validated: no pydantic, no rich, no provider, so a TAB answers in the time Python starts. A
config that does not read completes nothing; completion never prints an error.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

APP = "app"  # aloft.config.models.APP_FUNCTION, without importing the models


def _root(ctx: click.Context) -> Path:
    """The project directory: `-C DIR` if given before the word being completed."""
    chdir = ctx.find_root().params.get("chdir")
    return Path(chdir) if chdir else Path.cwd()


def _reader(root: Path) -> Any:
    from aloft.config.project import find_config_file, reader_for

    return reader_for(find_config_file(root))


def stage_names(root: Path) -> list[str]:
    """The stages the config declares (its default stage when it declares none)."""
    reader = _reader(root)
    return list(reader.stages) or [reader.default_stage]


def function_names(root: Path, stage: str | None = None) -> list[tuple[str, str]]:
    """(name, what runs) of every function of `stage` (default: the default stage), `app`
    first, as `aloft invoke` and `tail --function` name them."""
    reader = _reader(root)
    if stage not in reader.stages:
        stage = reader.default_stage
    data = reader.stage_tree(stage, env=os.environ, options={}).data
    out: list[tuple[str, str]] = []
    if data.get("app") or data.get("django_settings"):
        out.append((APP, str(data.get("app") or f"django: {data.get('django_settings')}")))
    functions = data.get("functions")
    if isinstance(functions, dict):
        for name, spec in functions.items():
            handler = spec.get("handler") if isinstance(spec, dict) else None
            out.append((str(name), str(handler or "")))
    return out


def _quietly(find: Callable[[], list[CompletionItem]]) -> list[CompletionItem]:
    """Completion must never fail the shell: a missing or broken config completes nothing."""
    try:
        return find()
    except Exception:  # any reading problem means "nothing to offer"
        return []


def _stages(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(name, help="stage") for name in stage_names(_root(ctx))
            if name.startswith(incomplete)]


def _functions(ctx: click.Context, stage: str | None, incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(name, help=what or None)
            for name, what in function_names(_root(ctx), stage) if name.startswith(incomplete)]


def complete_stage(ctx: click.Context, param: click.Parameter,
                   incomplete: str) -> list[CompletionItem]:
    """`shell_complete` of a STAGE argument."""
    return _quietly(lambda: _stages(ctx, incomplete))


def complete_function(ctx: click.Context, param: click.Parameter,
                      incomplete: str) -> list[CompletionItem]:
    """`shell_complete` of a function name, among those of the command's STAGE if given."""
    stage = ctx.params.get("stage")
    if not isinstance(stage, str):
        # completing an option's value, click leaves the words before it unparsed
        stage = next((a for a in ctx.args if not a.startswith("-")), None)
    return _quietly(lambda: _functions(ctx, stage, incomplete))


def complete_invoke_target(ctx: click.Context, param: click.Parameter,
                           incomplete: str) -> list[CompletionItem]:
    """`aloft invoke [STAGE] [FUNCTION]`: with --local a function; else a stage first, then a
    function of that stage."""
    given = [a for a in ctx.params.get(param.name or "args") or () if isinstance(a, str)]

    def find() -> list[CompletionItem]:
        if ctx.params.get("local"):
            return [] if given else _functions(ctx, None, incomplete)
        if not given:
            return _stages(ctx, incomplete)
        return _functions(ctx, given[0], incomplete) if len(given) == 1 else []

    return _quietly(find)


def stage_argument(*, required: bool = True) -> Callable[[Any], Any]:
    """`@click.argument("stage")` that completes the project's stage names."""
    return click.argument("stage", required=required, shell_complete=complete_stage)
