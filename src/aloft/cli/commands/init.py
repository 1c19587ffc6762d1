"""`aloft init`: write aloft.yml for the app in this directory, or scaffold a new project."""

from __future__ import annotations

from pathlib import Path

import click

from aloft.cli import render
from aloft.cli.detect import detect, render_config, service_name
from aloft.cli.helptext import examples
from aloft.cli.project import state
from aloft.cli.scaffold import BUILD_DIR_PATTERN, TEMPLATE_IGNORES, TEMPLATES, add_ignores, scaffold
from aloft.errors import Location, UsageError

CONFIG_NAME = "aloft.yml"


@click.command(
    "init",
    short_help="Write aloft.yml for this project, or scaffold a new one.",
    epilog=examples(
        "aloft init                          # detect Flask/FastAPI/Django/handlers here",
        "aloft init --force                  # overwrite an existing aloft.yml",
        "aloft init --template flask myapp   # new Flask project in ./myapp",
        "aloft init --template function      # new function project here",
    ),
)
@click.option(
    "--template", "template", type=click.Choice(TEMPLATES),
    help="Scaffold a new project from a template instead of detecting one.",
)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def command(template: str | None, force: bool, directory: Path | None) -> None:
    """Create aloft.yml for the project in this directory (or DIRECTORY).

    Without --template, finds a Flask or FastAPI app (a module creating `Flask(` / `FastAPI(`),
    a Django project (manage.py) or functions named handler(event, context) and writes the
    matching aloft.yml. With --template, writes a complete new project: app code,
    requirements.txt, aloft.yml and a test. Either way `.aloft/` (aloft's builds) is added to
    .gitignore.
    """
    root = state().root
    target = (root / directory) if directory else root
    console = render.out()
    if template:
        target.mkdir(parents=True, exist_ok=True)
        name = service_name(target.resolve())
        written = scaffold(template, target, name, force=force)
        if add_ignores(target, (BUILD_DIR_PATTERN, *TEMPLATE_IGNORES.get(template, ()))):
            written.append(target / ".gitignore")
        console.print(f"Created a {template} project [bold]{name}[/bold] in {target}:")
        for path in written:
            console.print(f"  {path.relative_to(target)}")
        console.print("\nNext: " + ("" if target == root else f"cd {directory} && ")
                      + "aloft invoke --local " + ("hello --data '{}'" if template == "function"
                                                   else "app --path /"))
        return
    if not target.is_dir():
        raise UsageError(f"{target} is not a directory", fix="create it, or use --template")
    config = target / CONFIG_NAME
    if config.exists() and not force:
        raise UsageError(
            f"{CONFIG_NAME} already exists",
            where=Location(file=str(config)),
            fix="edit it, or pass --force to overwrite it",
        )
    found = detect(target)
    config.write_text(render_config(found, service_name(target.resolve())), encoding="utf-8")
    what = found.app or found.django_settings or ", ".join(found.handlers.values())
    kind = {"flask": "Flask app", "fastapi": "FastAPI app", "django": "Django project",
            "functions": "functions"}[found.kind]
    console.print(f"Wrote {config} for the {kind} in {found.source}: {what}", markup=False)
    if add_ignores(target):
        console.print(f"Added {BUILD_DIR_PATTERN} (aloft's builds) to {target / '.gitignore'}",
                      markup=False)
    if found.others:
        console.print(f"[yellow]note:[/yellow] also found {', '.join(found.others)}; "
                      f"edit {CONFIG_NAME} to choose another.")
    console.print("Next: aloft validate, then aloft invoke --local "
                  + ("app --path /" if found.kind != "functions"
                     else f"{next(iter(found.handlers))} --data '{{}}'"))
