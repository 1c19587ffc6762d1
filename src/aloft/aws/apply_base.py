"""What every group of apply steps shares: the client, what is known so far, small helpers."""

from __future__ import annotations

import secrets
from typing import Any

from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.client import AwsClient
from aloft.aws.record import Release
from aloft.aws.state import ActualState
from aloft.provider import HealthPassed
from aloft.stage.names import stage_prefix

Undo = list[st.Step]
"""The steps that delete what a step created (run in reverse when a later step fails)."""


def aws_tags(tags: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags]


def cors_config(c: s.CorsSpec, *, url: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"AllowOrigins": list(c.origins), "AllowMethods": list(c.methods),
                           "AllowHeaders": list(c.headers), "AllowCredentials": c.credentials,
                           "MaxAge": c.max_age}
    if c.expose_headers:
        out["ExposeHeaders"] = list(c.expose_headers)
    if url:  # function URLs accept at most 6 methods
        out["AllowMethods"] = list(c.methods)[:6]
    return out


class ApplyContext:
    """State one apply run builds up: resolved `${ref}`s, published versions, the API."""

    def __init__(self, aws: AwsClient, desired: s.Desired, actual: ActualState) -> None:
        self.aws, self.actual, self.region = aws, actual, desired.region
        self.service, self.stage = desired.service, desired.stage
        self.stage_prefix = stage_prefix(desired.service, desired.stage)
        self.code_sha256 = desired.code_sha256
        self.static = desired.static
        self.physical = {f.name: f.physical for f in desired.functions}
        self.refs: dict[str, str] = {k: v for k, v in actual.refs.items() if k != "layer"}
        for arn, sha in actual.layers:
            if sha == desired.layer_sha256:
                self.refs["layer"] = arn
        self.published: dict[str, str] = {}
        self.health: list[HealthPassed] = []  # the versions that passed their health check
        self.warnings: list[str] = []  # a first deploy published with a 5xx (aloft.health)
        self.versions = {n: f.alias_version for n, f in actual.functions.items()
                         if f.alias_version}
        self.api = (actual.api.kind, actual.api.id) if actual.api else None
        self.release: Release | None = None
        self.cdn: dict[str, str] | None = actual.record.cdn  # the distribution (`cdn: true`)

    def _ignore_missing(self, service: str, op: str, **params: Any) -> None:
        """Delete-style calls: a resource already gone is what we wanted."""
        self.aws.find(service, op, **params)

    def _invalidate(self, keys: list[str]) -> None:
        """Changed static files: CloudFront serves the new ones at once."""
        if self.cdn is None or not keys:
            return
        paths = ["/" + k for k in keys] if len(keys) <= 15 else [
            f"/{self.static.prefix}*" if self.static else "/*"]
        self.aws.call("cloudfront", "create_invalidation", DistributionId=self.cdn["id"],
                      InvalidationBatch={"Paths": {"Quantity": len(paths), "Items": paths},
                                         "CallerReference": secrets.token_hex(8)})
