"""`cdn: true` on AWS: a CloudFront distribution in front of the stage.

Two origins: the API (HTTPS only; every method, query string, cookie and header but Host
forwarded, nothing cached: CloudFront's managed `CachingDisabled` and
`AllViewerExceptHostHeader` policies) and, with `static:`, the static bucket, read through an
origin access control (the bucket policy lets CloudFront's service principal read it, for this
distribution only) and cached (`CachingOptimized`) under `static.path`. With a CDN the static
files' object keys carry that path (`static/app.css`), since CloudFront asks its origin for the
path it was asked for; the API's own static routes read the same keys. A deploy that changes
static files invalidates their paths. `aloft certify` attaches `aws.domain` (a certificate in
us-east-1, as CloudFront requires). Pure, except `wait_deployed`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from typing import Any

from aloft.aws import specs as s
from aloft.aws.client import AwsClient

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2"
"""The Route 53 hosted zone id of every CloudFront distribution (for alias records)."""
API_ORIGIN, STATIC_ORIGIN = "api", "static"
CDN_CACHE_CONTROL = "public, max-age=0, s-maxage=86400"
"""Static files behind a CDN: browsers revalidate, CloudFront keeps them a day (a deploy
invalidates what changed)."""

ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]


def spec_hash(spec: s.CdnSpec, certificate: str | None = None) -> str:
    """What a distribution was last configured from (the state record keeps it)."""
    data = json.dumps([dataclasses.asdict(spec), certificate], sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def _items(values: list[Any]) -> dict[str, Any]:
    return {"Quantity": len(values), "Items": values} if values else {"Quantity": 0}


def distribution_config(spec: s.CdnSpec, oac: str | None,
                        certificate: str | None = None) -> dict[str, Any]:
    """CloudFront's DistributionConfig for `spec` (`oac`: the static origin's access control;
    `certificate`: an us-east-1 ACM certificate for `spec.domain`)."""
    origins: list[dict[str, Any]] = [{
        "Id": API_ORIGIN, "DomainName": spec.api_domain, "OriginPath": spec.api_path,
        "CustomHeaders": {"Quantity": 0},
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                               "OriginProtocolPolicy": "https-only",
                               "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                               "OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5},
        "ConnectionAttempts": 3, "ConnectionTimeout": 10,
        "OriginShield": {"Enabled": False},
    }]
    behaviors: list[dict[str, Any]] = []
    if spec.static_bucket and spec.static_path:
        origins.append({
            "Id": STATIC_ORIGIN, "DomainName": spec.static_bucket, "OriginPath": "",
            "CustomHeaders": {"Quantity": 0},
            "S3OriginConfig": {"OriginAccessIdentity": ""},
            "OriginAccessControlId": oac or "",
            "ConnectionAttempts": 3, "ConnectionTimeout": 10,
            "OriginShield": {"Enabled": False},
        })
        behaviors.append({
            "PathPattern": f"{spec.static_path.lstrip('/')}/*",
            "TargetOriginId": STATIC_ORIGIN, "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"],
                               "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
            "Compress": True, "CachePolicyId": CACHING_OPTIMIZED,
        })
    config: dict[str, Any] = {
        "CallerReference": spec.reference, "Comment": spec.comment, "Enabled": True,
        "Aliases": _items([spec.domain] if spec.domain and certificate else []),
        "Origins": {"Quantity": len(origins), "Items": origins},
        "DefaultCacheBehavior": {
            "TargetOriginId": API_ORIGIN, "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {"Quantity": len(ALL_METHODS), "Items": ALL_METHODS,
                               "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
            "Compress": True, "CachePolicyId": CACHING_DISABLED,
            "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST,
        },
        "CacheBehaviors": _items(behaviors),
        "PriceClass": "PriceClass_100", "HttpVersion": "http2and3", "IsIPV6Enabled": True,
    }
    if certificate:
        config["ViewerCertificate"] = {"ACMCertificateArn": certificate,
                                       "SSLSupportMethod": "sni-only",
                                       "MinimumProtocolVersion": "TLSv1.2_2021"}
    else:
        config["ViewerCertificate"] = {"CloudFrontDefaultCertificate": True}
    return config


def oac_config(name: str) -> dict[str, str]:
    return {"Name": name, "Description": "aloft: the static bucket, read by CloudFront",
            "SigningProtocol": "sigv4", "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3"}


def wait_deployed(aws: AwsClient, distribution: str, timeout: float = 1800.0) -> None:
    """Until CloudFront has applied the last change (a disabled distribution can be deleted
    only then: minutes on AWS)."""
    deadline = time.monotonic() + timeout
    while aws.call("cloudfront", "get_distribution", Id=distribution)[
            "Distribution"]["Status"] != "Deployed":
        if time.monotonic() > deadline:
            return  # the delete that follows says what is left
        time.sleep(aws.poll_seconds or 0.01)


def template_config(config: dict[str, Any]) -> dict[str, Any]:
    """A DistributionConfig as CloudFormation writes it: lists without `Quantity`/`Items`,
    no CallerReference, and without the settings CloudFormation has no key for."""
    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) <= {"Quantity", "Items", "CachedMethods"} and "Quantity" in value:
                return [plain(v) for v in value.get("Items", [])]
            return {k: plain(v) for k, v in value.items() if k not in _NOT_IN_TEMPLATES}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    out: dict[str, Any] = plain(config)
    out["IPV6Enabled"] = out.pop("IsIPV6Enabled")
    for origin in out["Origins"]:
        custom = origin.get("CustomOriginConfig")
        if custom is not None:
            custom["OriginSSLProtocols"] = custom.pop("OriginSslProtocols")
    for behavior in [out["DefaultCacheBehavior"], *out.get("CacheBehaviors", [])]:
        methods = next(b for b in [config["DefaultCacheBehavior"],
                                   *config["CacheBehaviors"].get("Items", [])]
                       if b["TargetOriginId"] == behavior["TargetOriginId"])["AllowedMethods"]
        behavior["AllowedMethods"] = methods["Items"]
        behavior["CachedMethods"] = methods["CachedMethods"]["Items"]
    if not out.get("Aliases"):
        out.pop("Aliases", None)
    if not out.get("CacheBehaviors"):
        out.pop("CacheBehaviors", None)
    return out


_NOT_IN_TEMPLATES = frozenset({"CallerReference", "CustomHeaders"})
