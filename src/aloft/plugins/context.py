"""What step hooks receive: the command, its stage, the service and what the steps produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aloft.config.models import Service

if TYPE_CHECKING:
    from aloft.package.manifest import Manifest
    from aloft.provider import DeployResult


@dataclass
class Context:
    """One run of a command. Steps fill it in as they go: `manifest` after `deploy:package`,
    `result` after `deploy:apply` (or `rollback:run`). `data` is free space for plugins."""

    command: str
    service: Service
    plan_only: bool = False
    manifest: Manifest | None = None
    result: DeployResult | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def stage(self) -> str:
        return self.service.stage

    def config(self, section: str) -> Any:
        """A plugin's validated config section (its pydantic model), or None when not written."""
        return self.service.plugin_config.get(section)
