"""`aloft certify`: ACM certificate validated through Route 53, domain mapped to the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import moto.settings
import pytest
from moto.apigatewayv2.models import DomainName

from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.errors import ProviderError
from tests.aws.conftest import boto


def test_certify_requests_validates_and_maps(
    provider: AwsProvider, make_service: Callable[..., Service],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(moto.settings, "ACM_VALIDATION_WAIT", 0)
    # moto echoes the domain configuration without the target AWS assigns: add it as AWS does.
    original = DomainName.to_json

    def with_target(self: DomainName) -> dict[str, Any]:
        data = original(self)
        for conf in data["domainNameConfigurations"]:
            conf.setdefault("apiGatewayDomainName", "d-abc123.execute-api.eu-west-1.amazonaws.com")
            conf.setdefault("hostedZoneId", "ZLY8HYME6SFDD")
        return data

    monkeypatch.setattr(DomainName, "to_json", with_target)
    svc = make_service(app="app:app", aws={"region": "eu-west-1", "domain": "api.example.com"})
    provider.deploy(svc)
    with pytest.raises(ProviderError, match="no Route 53 hosted zone"):
        provider.certify(svc)
    zone = boto("route53").create_hosted_zone(Name="example.com",
                                              CallerReference="t")["HostedZone"]["Id"]
    done = provider.certify(svc, timeout=5)
    cert = boto("acm").describe_certificate(CertificateArn=done.certificate_arn)["Certificate"]
    assert cert["DomainName"] == "api.example.com" and cert["Status"] == "ISSUED"
    api_id = boto("apigatewayv2").get_apis()["Items"][0]["ApiId"]
    mappings = boto("apigatewayv2").get_api_mappings(DomainName="api.example.com")["Items"]
    assert [(m["ApiId"], m["Stage"]) for m in mappings] == [(api_id, "$default")]
    records = {(r["Name"], r["Type"]) for r in boto("route53").list_resource_record_sets(
        HostedZoneId=zone)["ResourceRecordSets"]}
    assert ("api.example.com.", "A") in records
    assert done.url == "https://api.example.com/"
    again = provider.certify(svc, timeout=5)  # idempotent: nothing new is made
    assert again.certificate_arn == done.certificate_arn
    assert len(boto("apigatewayv2").get_api_mappings(DomainName="api.example.com")[
        "Items"]) == 1
    provider.undeploy(svc)
    assert boto("apigatewayv2").get_domain_names()["Items"] == []
