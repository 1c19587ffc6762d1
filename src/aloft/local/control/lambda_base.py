"""What the handlers of Lambda's API share (lambda_api.py, lambda_tuning.py,
lambda_mappings.py): the platform, and finding functions, versions and bindings in it."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from aloft import errors
from aloft.local.control import lambda_shapes as shapes
from aloft.local.control.invoke_api import ApiRequest, Reply, function_arn
from aloft.local.triggers.pollers.bindings import Binding, bindings_from_extras
from aloft.local.types import FunctionVersion

if TYPE_CHECKING:
    from aloft.local.control.platform import Platform


class LambdaBase:
    def __init__(self, platform: Platform):
        self.p = platform

    # -- lookups ---------------------------------------------------------------------------

    def _function(self, raw: str, query: dict[str, str], request_id: str,
                  ) -> tuple[FunctionVersion, str | None] | Reply:
        name, qualifier = shapes.split_name(raw, query.get("Qualifier"))
        fv = self.p.registry.resolve(name, qualifier)
        if fv is None:
            target = function_arn(name) + (f":{qualifier}" if qualifier else "")
            return shapes.not_found(f"Function not found: {target}", request_id)
        return fv, qualifier

    def _facts(self, fv: FunctionVersion) -> shapes.VersionFacts:
        rec = self.p.state.version(fv.function, fv.version)
        sha = rec.code_sha256 if rec else ""
        path = self.p.store.zip_path(sha) if sha else None
        size = path.stat().st_size if path is not None and path.is_file() else 0
        return shapes.VersionFacts(sha, size, rec.created if rec else 0.0,
                                   bool(rec and rec.layer_sha256))

    async def _config(self, fv: FunctionVersion, qualifier: str | None) -> dict[str, Any]:
        version = str(fv.version) if qualifier and qualifier.isdigit() else "$LATEST"
        facts = await asyncio.to_thread(self._facts, fv)
        return shapes.configuration(fv, facts, version=version,
                                    stage=self.p.registry.snapshot.stage_of.get(fv.function))

    def _stage_of(self, function: str) -> tuple[str, str]:
        owner = self.p.registry.snapshot.stage_of.get(function)
        if owner is None:
            raise errors.NotDeployedError(f"function {function} is not deployed")
        return owner

    def _bindings(self) -> list[Binding]:
        stages = self.p.registry.snapshot.stages.values()
        return bindings_from_extras(((i.deployment.service, i.deployment.stage),
                                     i.deployment.extra) for i in stages)


def request_body(req: ApiRequest) -> dict[str, Any] | str:
    try:
        data = json.loads(req.body or b"{}")
    except ValueError:
        return "Could not parse request body into json"
    return data if isinstance(data, dict) else "the request body must be a JSON object"
