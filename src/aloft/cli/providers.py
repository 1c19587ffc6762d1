"""Which provider serves a stage: `local` (the embedded cloud) or `aws`.

Providers are imported lazily: `aloft validate` must not pay for boto3, and a provider whose
package is absent is reported as an error instead of an ImportError.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, cast

from aloft.errors import Location, ProviderError

if TYPE_CHECKING:  # annotations only: completing a command's arguments imports this module
    from aloft.config.models import Service
    from aloft.provider import Provider

_PROVIDERS = {
    "local": ("aloft.local.provider", "LocalProvider"),
    "aws": ("aloft.aws.provider", "AwsProvider"),
}


def provider_for(service: Service) -> Provider:
    """The provider named by the stage's `provider:` key, constructed with no arguments."""
    where = Location(
        file=str(service.config_file) if service.config_file else None,
        key_path="provider",
        stage=service.stage,
    )
    try:
        module_name, class_name = _PROVIDERS[service.provider]
    except KeyError:
        raise ProviderError(
            f"unknown provider {service.provider!r}", where=where, fix="use `local` or `aws`"
        ) from None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module_name.startswith(exc.name):
            raise  # a dependency of the provider is missing: a real bug, keep the traceback
        raise ProviderError(
            f"the {service.provider} provider is not available yet in this version of aloft",
            where=where,
            fix="use `aloft invoke --local` and `aloft package` meanwhile, or upgrade aloft",
        ) from None
    factory = getattr(module, class_name)
    return cast("Provider", factory())
