"""`aloft template`: the CloudFormation template equivalent to deploying an aws stage."""

from __future__ import annotations

from pathlib import Path

import click

from aloft.cli import providers
from aloft.cli.completers import stage_argument
from aloft.cli.helptext import examples
from aloft.cli.project import load_service
from aloft.errors import Location, UsageError
from aloft.provider import Templates


@click.command(
    "template",
    epilog=examples("aloft template prod", "aloft template prod -o stack.json"),
)
@stage_argument()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the template to this file instead of standard output.")
def command(stage: str, output: Path | None) -> None:
    """Print the CloudFormation template of an aws STAGE.

    The code zip and the dependency layer are parameters (ArtifactBucket, CodeKey, LayerKey):
    upload the zips that `aloft package STAGE` builds and pass their S3 keys.
    """
    service = load_service(stage)
    provider = providers.provider_for(service)
    if not isinstance(provider, Templates):
        raise UsageError(f"stage {stage!r} uses provider {service.provider!r}",
                         where=Location(stage=stage, key_path="provider"),
                         fix="set `provider: aws` on the stage: templates describe AWS stacks")
    # The last `aloft package` build says whether there is a dependency layer; without one,
    # the template assumes there is (a LayerKey parameter).
    from aloft.package import Manifest, default_out_dir
    from aloft.package.manifest import MANIFEST_FILE

    manifest = default_out_dir(service) / MANIFEST_FILE
    text = provider.template(service, Manifest.read(manifest) if manifest.exists() else None)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
