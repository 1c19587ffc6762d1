"""The account the local cloud's resources live in, and a stage of a service in it.

The local cloud has one account, `000000000000` (LocalStack's, and what `${aws:accountId}` gives
locally): Lambda's ARNs, the endpoint's resources (moto's server runs with MOTO_ACCOUNT_ID) and
the stage model (aloft.stage), which names a local stage's functions, resources and grants in
it, with queue URLs at the endpoint. Homes made before it lived in moto's default account,
`123456789012`: their data is moved over when it is loaded (snapshot.py, state.py).
"""

from __future__ import annotations

from aloft.config.models import Service
from aloft.config.variable_sources import LOCAL_REGION
from aloft.local.types import ACCOUNT_ID, LEGACY_ACCOUNT_ID
from aloft.stage import Stage, stage_of
from aloft.stage.names import Account

__all__ = ["ACCOUNT", "ACCOUNT_ID", "LEGACY_ACCOUNT_ID", "REGION", "local_account", "local_stage"]

REGION = LOCAL_REGION
"""The local cloud's region: every stage of it is there, whatever region its config names for
AWS (that region is where the aws provider deploys; `${aws:region}` and `AWS::Region` are
this one on the local provider)."""
ACCOUNT = Account(account_id=ACCOUNT_ID, region=REGION)
"""The local cloud's account; every resource of the local cloud lives in it."""


def local_account(endpoint: str | None) -> Account:
    """The local account, its services answering at `endpoint` (the local AWS endpoint)."""
    return Account(ACCOUNT_ID, REGION, endpoint=endpoint or None)


def local_stage(service: Service, endpoint: str | None = None, *, tasks: bool = True) -> Stage:
    """The stage model of `service` on the local cloud."""
    return stage_of(service, local_account(endpoint), tasks=tasks)
