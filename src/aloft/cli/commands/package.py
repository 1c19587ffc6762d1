"""`aloft package`: build the artifact (code zip + dependency layer) and show what is in it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from aloft.cli import render
from aloft.cli.completers import stage_argument
from aloft.cli.helptext import examples
from aloft.cli.project import begin, state

if TYPE_CHECKING:
    from aloft.package import Manifest

_LARGEST = 8


def print_manifest(manifest: Manifest) -> None:
    """Artifacts (path, size, sha256 prefix), then the largest installed packages."""
    console = render.out()
    root = state().root
    rows = []
    for kind, artifact in (("code", manifest.code), ("layer", manifest.layer)):
        if artifact is None:
            continue
        try:
            shown = str(artifact.path.relative_to(root))
        except ValueError:
            shown = str(artifact.path)
        rows.append((kind, shown, render.human_size(artifact.size), artifact.sha256[:12]))
    console.print(render.table(None, ["artifact", "path", "size", "sha256"], rows))
    if manifest.packages:
        console.print()
        console.print(render.table(
            None,
            ["largest packages", "unzipped"],
            [(p.name, render.human_size(p.bytes)) for p in manifest.packages[:_LARGEST]],
        ))
    if manifest.layer is None:
        cache = "no dependency layer"
    else:
        cache = "layer from cache" if manifest.cached_layer else "layer built"
    console.print(
        f"\nPython {manifest.python_version} on {manifest.platform}, {cache}, "
        f"{manifest.build_seconds:.1f}s",
        highlight=False,
    )


@click.command(
    "package",
    short_help="Build the deployment artifact.",
    epilog=examples(
        "aloft package                 # the default stage",
        "aloft package prod",
        "aloft package --json | jq .code.sha256",
    ),
)
@stage_argument(required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the build manifest as JSON.")
def command(stage: str | None, as_json: bool) -> None:
    """Build the deployment artifact for STAGE (dependencies are cached between builds)."""
    lifecycle = begin("package", stage)  # steps: start, run, finish
    progress = render.StepProgress(quiet=as_json)
    lifecycle.progress = progress
    try:
        with lifecycle.step("run"):
            manifest = lifecycle.context.manifest = lifecycle.build(lifecycle.service)
    finally:
        progress.close()
    with lifecycle.step("finish"):
        if as_json:
            render.print_json(manifest.to_dict())
        else:
            print_manifest(manifest)
