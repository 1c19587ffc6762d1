"""Lambda's API: event source mappings (the stage's queue and stream events), listed, read and
updated (enabled, batch size, window: the poller restarts with them)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aloft.local.control import lambda_shapes as shapes
from aloft.local.control.invoke_api import ApiRequest, Reply
from aloft.local.control.lambda_base import LambdaBase, request_body
from aloft.local.triggers.pollers.bindings import EXTRA_KEY as SOURCES_KEY
from aloft.local.triggers.pollers.bindings import Binding, bindings_from_extras


class LambdaMappings(LambdaBase):
    # -- event source mappings ---------------------------------------------------------------

    def _mappings(self) -> list[tuple[Binding, float]]:
        out = []
        for info in self.p.registry.snapshot.stages.values():
            dep = info.deployment
            for b in bindings_from_extras([((dep.service, dep.stage), dep.extra)]):
                if b.kind in shapes.MAPPED_KINDS:
                    out.append((b, dep.created))
        return sorted(out, key=lambda m: (m[0].function, m[0].source))

    async def _list_event_source_mappings(self, req: ApiRequest, params: dict[str, str],
                                          request_id: str) -> Reply:
        mappings = self._mappings()
        if req.query.get("FunctionName"):
            name, _ = shapes.split_name(req.query["FunctionName"])
            mappings = [m for m in mappings if m[0].function == name]
        if req.query.get("EventSourceArn"):
            mappings = [m for m in mappings
                        if shapes.source_arn(m[0]) == req.query["EventSourceArn"]]
        return await shapes.paged("EventSourceMappings", mappings, req.query, request_id,
                                  lambda m: shapes.mapping(*m), default=100)

    def _mapping(self, uuid: str, request_id: str) -> tuple[Binding, float] | Reply:
        for m in self._mappings():
            if shapes.mapping_uuid(m[0]) == uuid:
                return m
        return shapes.not_found(f"The resource you requested does not exist. (Service: Lambda, "
                                f"Status Code: 404, mapping {uuid})", request_id)

    async def _get_event_source_mapping(self, req: ApiRequest, params: dict[str, str],
                                        request_id: str) -> Reply:
        found = self._mapping(params["uuid"], request_id)
        if isinstance(found, Reply):
            return found
        return shapes.json_reply(200, shapes.mapping(*found), request_id)

    async def _update_event_source_mapping(self, req: ApiRequest, params: dict[str, str],
                                           request_id: str) -> Reply:
        found = self._mapping(params["uuid"], request_id)
        if isinstance(found, Reply):
            return found
        binding, _ = found
        body = request_body(req)
        if isinstance(body, str):
            return shapes.invalid(body, request_id)
        changes: dict[str, Any] = {}
        if "Enabled" in body:
            changes["enabled"] = bool(body["Enabled"])
        if "BatchSize" in body:
            size = body["BatchSize"]
            limit = 10 if binding.kind == "queue" and not binding.window else 10000
            if not isinstance(size, int) or not 1 <= size <= limit:
                return shapes.invalid(f"BatchSize must be between 1 and {limit}", request_id)
            changes["batch_size"] = size
        if "MaximumBatchingWindowInSeconds" in body:
            changes["window"] = int(body["MaximumBatchingWindowInSeconds"])
        if "FunctionResponseTypes" in body:
            changes["partial_failures"] = "ReportBatchItemFailures" in body[
                "FunctionResponseTypes"]
        other = set(body) - {"Enabled", "BatchSize", "MaximumBatchingWindowInSeconds",
                             "FunctionResponseTypes", "UUID"}
        if other:
            return shapes.invalid(f"the local cloud does not change {', '.join(sorted(other))}"
                                  " of a mapping: set them in aloft.yml and run `aloft deploy`",
                                  request_id)
        updated = replace(binding, **changes)

        def update(old: Any) -> list[dict[str, Any]]:
            return [updated.to_json() if Binding.from_json(item).key == binding.key else item
                    for item in old or []]

        dep = await self.p.deployer.amend(*binding.stage, SOURCES_KEY, update)
        return shapes.json_reply(202, shapes.mapping(updated, dep.created), request_id)
