"""The account the local cloud's resources live in, and a stage of a service in it.

The local AWS endpoint is moto's server, whose resources belong to moto's default account; the
stage model (aloft.stage) names a local stage's functions, resources and grants in it, with
queue URLs at the endpoint.
"""

from __future__ import annotations

from aloft.config.models import Service
from aloft.stage import Stage, stage_of
from aloft.stage.names import Account

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
ACCOUNT = Account(account_id=ACCOUNT_ID, region=REGION)
"""moto's default account; every resource of the local cloud lives in it."""


def local_account(endpoint: str | None) -> Account:
    """The local account, its services answering at `endpoint` (the local AWS endpoint)."""
    return Account(ACCOUNT_ID, REGION, endpoint=endpoint or None)


def local_stage(service: Service, endpoint: str | None = None, *, tasks: bool = True) -> Stage:
    """The stage model of `service` on the local cloud."""
    return stage_of(service, local_account(endpoint), tasks=tasks)
