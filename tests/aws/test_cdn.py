"""`cdn: true` on AWS (moto models CloudFront): a distribution with the API and the static
bucket as origins, static paths cached, the rest forwarded; changed files invalidated; removed
when the config drops it and by undeploy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import moto.settings
import pytest

from aloft.aws import cdn
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from tests.aws.conftest import boto

BUCKET = "aloft-shop-prod-static-123456789012-eu-west-1"


@pytest.fixture
def site(tmp_path: Path, make_service: Callable[..., Service]) -> Callable[..., Service]:
    static = tmp_path / "static"
    static.mkdir()
    (static / "app.css").write_text("body { color: red }\n")

    def make(**extra: Any) -> Service:
        fields: dict[str, Any] = {"app": "app:app", "static": {"path": "/assets",
                                                               "directory": "static",
                                                               "cdn": True}}
        return make_service(**{**fields, **extra})

    return make


def distributions() -> list[dict[str, Any]]:
    return list(boto("cloudfront").list_distributions()["DistributionList"].get("Items", []))


def test_a_distribution_fronts_the_api_and_caches_the_static_files(
        provider: AwsProvider, site: Callable[..., Service], tmp_path: Path) -> None:
    service = site()
    result = provider.deploy(service)
    assert "CreateDistribution" in {s.action for s in result.plan}
    [dist] = distributions()
    assert result.url == f"https://{dist['DomainName']}/"
    cf = boto("cloudfront")
    config = cf.get_distribution_config(Id=dist["Id"])["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    api_id = boto("apigatewayv2").get_apis()["Items"][0]["ApiId"]
    assert origins["api"]["DomainName"] == f"{api_id}.execute-api.eu-west-1.amazonaws.com"
    assert origins["static"]["DomainName"] == f"{BUCKET}.s3.eu-west-1.amazonaws.com"
    assert origins["static"]["OriginAccessControlId"]
    default = config["DefaultCacheBehavior"]
    assert (default["TargetOriginId"], default["CachePolicyId"]) == ("api", cdn.CACHING_DISABLED)
    assert "POST" in default["AllowedMethods"]["Items"]
    [static] = config["CacheBehaviors"]["Items"]
    assert (static["PathPattern"], static["TargetOriginId"], static["CachePolicyId"]) == (
        "assets/*", "static", cdn.CACHING_OPTIMIZED)

    s3 = boto("s3")  # the key is the path CloudFront asks for; only it and the API may read
    head = s3.head_object(Bucket=BUCKET, Key="assets/app.css")
    assert head["CacheControl"] == cdn.CDN_CACHE_CONTROL
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    by_sid = {st["Sid"]: st for st in policy["Statement"]}
    assert by_sid["AloftStaticReadThroughCdn"]["Principal"] == {
        "Service": "cloudfront.amazonaws.com"}
    assert by_sid["AloftStaticReadThroughCdn"]["Condition"]["StringEquals"][
        "AWS:SourceArn"] == dist["ARN"]
    integrations = boto("apigatewayv2").get_integrations(ApiId=api_id)["Items"]
    assert any(i.get("IntegrationUri", "").endswith("/assets/{proxy}") for i in integrations)

    assert provider.deploy(service, plan_only=True).plan == []  # the record answers
    (tmp_path / "static" / "app.css").write_text("body { color: blue }\n")
    provider.deploy(service)
    [inv] = cf.list_invalidations(DistributionId=dist["Id"])["InvalidationList"]["Items"]
    got = cf.get_invalidation(DistributionId=dist["Id"], Id=inv["Id"])["Invalidation"]
    assert got["InvalidationBatch"]["Paths"]["Items"] == ["/assets/app.css"]


def test_dropping_the_cdn_or_undeploying_removes_the_distribution(
        provider: AwsProvider, site: Callable[..., Service]) -> None:
    provider.deploy(site())
    assert len(distributions()) == 1
    plain = site(static={"path": "/assets", "directory": "static"})
    result = provider.deploy(plain)
    assert "DeleteDistribution" in {s.action for s in result.plan}
    assert distributions() == [] and result.url is not None and "execute-api" in result.url
    policy = json.loads(boto("s3").get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert [st["Sid"] for st in policy["Statement"]] == ["AloftStaticReadThroughApi"]
    assert boto("cloudfront").list_origin_access_controls()[
        "OriginAccessControlList"].get("Items", []) == []
    provider.deploy(site(cdn=True))
    assert len(distributions()) == 1
    provider.undeploy(site(cdn=True))
    assert distributions() == []


def test_a_stage_cdn_without_static_files_fronts_the_api(
        provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    provider.deploy(make_service(app="app:app", cdn=True, aws={"region": "eu-west-1",
                                                                "api": "rest"}))
    [dist] = distributions()
    config = boto("cloudfront").get_distribution_config(Id=dist["Id"])["DistributionConfig"]
    [origin] = config["Origins"]["Items"]
    assert origin["OriginPath"] == "/prod"  # the REST API's stage
    assert config["CacheBehaviors"]["Quantity"] == 0


def test_certify_attaches_the_domain_to_the_distribution(
        provider: AwsProvider, site: Callable[..., Service],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", 0)
    service = site(aws={"region": "eu-west-1", "domain": "www.example.com"})
    provider.deploy(service)
    zone = boto("route53").create_hosted_zone(Name="example.com",
                                              CallerReference="t")["HostedZone"]["Id"]
    done = provider.certify(service, timeout=5)
    east = boto3.client("acm", region_name="us-east-1")  # CloudFront's certificates live there
    assert east.describe_certificate(CertificateArn=done.certificate_arn)["Certificate"][
        "Status"] == "ISSUED"
    [dist] = distributions()
    config = boto("cloudfront").get_distribution_config(Id=dist["Id"])["DistributionConfig"]
    assert config["Aliases"]["Items"] == ["www.example.com"]
    assert config["ViewerCertificate"]["ACMCertificateArn"] == done.certificate_arn
    records = {(r["Name"], r["Type"]): r for r in boto("route53").list_resource_record_sets(
        HostedZoneId=zone)["ResourceRecordSets"]}
    alias = records[("www.example.com.", "A")]["AliasTarget"]
    assert alias["DNSName"].rstrip(".") == dist["DomainName"]
    assert alias["HostedZoneId"] == cdn.CLOUDFRONT_ZONE
    assert provider.deploy(service, plan_only=True).plan == []  # a deploy keeps the domain
    assert boto("apigatewayv2").get_domain_names()["Items"] == []  # not the API's
