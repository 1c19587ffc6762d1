"""`aloft_settings.json`: the slice of the service the runtime needs inside the artifact."""

from __future__ import annotations

import json

from aloft.config.models import Service
from aloft.runtime.settings import FunctionSpec, RuntimeSettings


def runtime_settings(service: Service) -> RuntimeSettings:
    functions: dict[str, FunctionSpec] = {
        name: FunctionSpec(handler=fn.handler, records=fn.records, payload=fn.payload)
        for name, fn in service.resolved_functions().items()
    }
    return RuntimeSettings(
        service=service.service,
        stage=service.stage,
        app=service.app,
        django_settings=service.django_settings,
        functions=functions,
        exception_handler=service.exception_handler,
        binary_types=list(service.binary_types),
        debug=service.debug,
        task_function=service.tasks.function,
        slim=service.slim,
    )


def settings_json(settings: RuntimeSettings) -> bytes:
    """Stable bytes (sorted keys) so that the code zip stays deterministic."""
    return (json.dumps(settings, sort_keys=True, indent=2) + "\n").encode("utf-8")
