"""`aloft import`: convert zappa_settings.json/yml or serverless.yml to aloft.yml."""

from __future__ import annotations

from pathlib import Path

import click

from aloft.cli import render
from aloft.cli.helptext import examples
from aloft.cli.project import state
from aloft.config import convert_to_aloft_yaml
from aloft.errors import Location, UsageError


@click.command(
    "import",
    short_help="Convert zappa_settings or serverless.yml to aloft.yml.",
    epilog=examples(
        "aloft import zappa_settings.json",
        "aloft import serverless.yml -o aloft.yml --force",
        "aloft import zappa_settings.json -o -      # print instead of writing",
    ),
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", default="aloft.yml", show_default=True,
              help="Where to write the result; `-` prints it.")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
def command(file: Path, output: str, force: bool) -> None:
    """Write the aloft.yml equivalent of a Zappa or Serverless Framework FILE.

    Settings with no equivalent are listed as warnings naming the file and key (and at the
    top of the written file); nothing is dropped silently.
    """
    root = state().root
    source = file if file.is_absolute() else root / file
    if not source.is_file():
        raise UsageError(f"{file} does not exist", where=Location(file=str(source)),
                         fix="pass the path of zappa_settings.json or serverless.yml")
    text, warnings = convert_to_aloft_yaml(source)
    if output == "-":
        click.echo(text, nl=not text.endswith("\n"))
    else:
        target = Path(output) if Path(output).is_absolute() else root / output
        if target.exists() and not force:
            raise UsageError(f"{output} already exists", where=Location(file=str(target)),
                             fix="pass --force to overwrite it, or -o another file")
        target.write_text(text, encoding="utf-8")
        render.note(f"Wrote {target} from {source.name}")
    for warning in warnings:  # what was not carried, by key of the source file
        render.warning(f"{source.name}: {warning}")
