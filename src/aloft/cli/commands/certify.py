"""`aloft certify`: a custom domain (ACM certificate + Route 53) for an aws stage's API."""

from __future__ import annotations

import click

from aloft.cli import providers, render
from aloft.cli.completers import stage_argument
from aloft.cli.helptext import examples
from aloft.cli.project import load_service
from aloft.errors import Location, UsageError
from aloft.provider import Certifies


@click.command(
    "certify",
    short_help="Give an aws stage its custom domain.",
    epilog=examples("aloft certify prod"),
)
@stage_argument()
@click.option("--timeout", default=600, show_default=True, type=click.IntRange(min=1),
              help="Seconds to wait for the certificate's DNS validation.")
def command(stage: str, timeout: int) -> None:
    """Request a certificate for `aws.domain` of STAGE, validate it through Route 53 and map
    the domain to the stage's API (run it again to finish an interrupted run)."""
    service = load_service(stage)
    provider = providers.provider_for(service)
    if not isinstance(provider, Certifies):
        raise UsageError(f"stage {stage!r} uses provider {service.provider!r}",
                         where=Location(stage=stage, key_path="provider"),
                         fix="custom domains are for `provider: aws` stages")
    done = provider.certify(service, timeout=float(timeout))
    console = render.out()
    console.print(f"{done.domain} -> {done.target}", markup=False)
    console.print(f"certificate {done.certificate_arn}", markup=False)
    console.print(done.url, markup=False)
