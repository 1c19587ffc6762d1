"""`aloft certify STAGE`: a custom domain for the stage's API.

Requests an ACM certificate for `aws.domain` (unless `aws.certificate` names one), validates it
through a DNS record in the Route 53 zone that holds the domain, creates the API Gateway domain
name, maps it to the stage's API and points an alias record at it. With `cdn: true` the domain
goes to the CloudFront distribution instead (its certificate in us-east-1). Every step is
idempotent: running it again after an interruption finishes the job.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from aloft.aws.cdn import CLOUDFRONT_ZONE
from aloft.aws.client import AwsClient
from aloft.aws.names import Names
from aloft.config.models import Service
from aloft.errors import Location, ProviderError
from aloft.provider import Certified


def _where(service: Service) -> Location:
    return Location(file=str(service.config_file) if service.config_file else None,
                    key_path="aws.domain", stage=service.stage)


def hosted_zone(aws: AwsClient, domain: str, service: Service) -> str:
    """The id of the most specific public Route 53 zone holding `domain`."""
    zones = list(aws.pages("route53", "list_hosted_zones", "HostedZones"))
    best: dict[str, Any] | None = None
    for zone in zones:
        name = str(zone["Name"]).rstrip(".")
        private = (zone.get("Config") or {}).get("PrivateZone", False)
        if not private and (domain == name or domain.endswith("." + name)) and (
                best is None or len(name) > len(str(best["Name"]).rstrip("."))):
            best = zone
    if best is None:
        raise ProviderError(f"no Route 53 hosted zone holds {domain}", where=_where(service),
                            fix="create a public hosted zone for the domain (or its parent) "
                                "in this account, or pass an issued `aws.certificate`")
    return str(best["Id"]).split("/")[-1]


def _certificate(aws: AwsClient, service: Service, domain: str, zone: str,
                 timeout: float) -> str:
    existing = [c for c in aws.pages("acm", "list_certificates", "CertificateSummaryList",
                                     CertificateStatuses=["PENDING_VALIDATION", "ISSUED"])
                if c.get("DomainName") == domain]
    arn = str(existing[0]["CertificateArn"]) if existing else str(aws.call(
        "acm", "request_certificate", DomainName=domain, ValidationMethod="DNS",
        IdempotencyToken=hashlib.sha256(domain.encode()).hexdigest()[:32])["CertificateArn"])
    deadline = time.monotonic() + timeout
    upserted = False
    while True:
        cert = aws.call("acm", "describe_certificate", CertificateArn=arn)["Certificate"]
        if cert["Status"] == "ISSUED":
            return arn
        if cert["Status"] not in ("PENDING_VALIDATION",):
            raise ProviderError(f"certificate {arn} is {cert['Status']}", where=_where(service),
                                fix="delete it in the ACM console and run `aloft certify` again")
        records = [o["ResourceRecord"] for o in cert.get("DomainValidationOptions", [])
                   if o.get("ResourceRecord")]
        if records and not upserted:
            aws.call("route53", "change_resource_record_sets", HostedZoneId=zone,
                     ChangeBatch={"Comment": "aloft certificate validation", "Changes": [
                         {"Action": "UPSERT", "ResourceRecordSet": {
                             "Name": r["Name"], "Type": r["Type"], "TTL": 300,
                             "ResourceRecords": [{"Value": r["Value"]}]}} for r in records]})
            upserted = True
        if time.monotonic() > deadline:
            raise ProviderError(f"certificate for {domain} is still pending validation",
                                where=_where(service),
                                fix="DNS validation can take up to 30 minutes: run "
                                    f"`aloft certify {service.stage}` again later")
        time.sleep(aws.poll_seconds or 0.01)


def certify(aws: AwsClient, service: Service, *, api: tuple[str, str],
            timeout: float = 600.0) -> Certified:
    """Give the deployed API `api` = (kind, id) the stage's custom domain."""
    domain = service.aws.domain
    if not domain:
        raise ProviderError("the stage has no custom domain", where=_where(service),
                            fix="set `aws.domain: api.example.com` on the stage")
    if api[0] == "url":
        raise ProviderError("function URLs cannot have a custom domain",
                            where=_where(service),
                            fix="use `aws.api: http` (or rest) for a custom domain")
    zone = hosted_zone(aws, domain, service)
    arn = service.aws.certificate or _certificate(aws, service, domain, zone, timeout)
    got = aws.find("apigatewayv2", "get_domain_name", DomainName=domain)
    if got is None:
        got = aws.call("apigatewayv2", "create_domain_name", DomainName=domain,
                       DomainNameConfigurations=[{"CertificateArn": arn,
                                                  "EndpointType": "REGIONAL",
                                                  "SecurityPolicy": "TLS_1_2"}],
                       Tags=Names.of(service, aws.account).tags(service.aws.tags))
    config = got["DomainNameConfigurations"][0]
    stage = "$default" if api[0] == "http" else service.stage
    mappings = aws.call("apigatewayv2", "get_api_mappings", DomainName=domain).get("Items", [])
    if not any(m.get("ApiId") == api[1] for m in mappings):
        aws.call("apigatewayv2", "create_api_mapping", DomainName=domain, ApiId=api[1],
                 Stage=stage)
    target = str(config.get("ApiGatewayDomainName", ""))
    if not target:
        raise ProviderError(f"API Gateway has not assigned a target to {domain} yet",
                            where=_where(service),
                            fix=f"run `aloft certify {service.stage}` again in a minute")
    aws.call("route53", "change_resource_record_sets", HostedZoneId=zone, ChangeBatch={
        "Comment": "aloft custom domain", "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": domain, "Type": "A", "AliasTarget": {
                "DNSName": target, "HostedZoneId": str(config["HostedZoneId"]),
                "EvaluateTargetHealth": False}}}]})
    return Certified(domain, arn, target, f"https://{domain}/")


def certify_cdn(aws: AwsClient, east: AwsClient, service: Service, *, distribution: str,
                config: Callable[[str], dict[str, Any]], timeout: float = 600.0) -> Certified:
    """Give the stage's CloudFront distribution (`cdn: true`) its custom domain: a certificate
    in us-east-1 (`east`), as CloudFront requires, the domain as the distribution's alias
    (`config(certificate)`: its DistributionConfig then), and an alias record to it."""
    domain = service.aws.domain
    if not domain:
        raise ProviderError("the stage has no custom domain", where=_where(service),
                            fix="set `aws.domain: www.example.com` on the stage")
    zone = hosted_zone(aws, domain, service)
    arn = service.aws.certificate or _certificate(east, service, domain, zone, timeout)
    got = aws.call("cloudfront", "get_distribution_config", Id=distribution)
    aws.call("cloudfront", "update_distribution", Id=distribution, IfMatch=got["ETag"],
             DistributionConfig=config(arn))
    target = str(aws.call("cloudfront", "get_distribution", Id=distribution)[
        "Distribution"]["DomainName"])
    aws.call("route53", "change_resource_record_sets", HostedZoneId=zone, ChangeBatch={
        "Comment": "aloft custom domain (CloudFront)", "Changes": [
            {"Action": "UPSERT", "ResourceRecordSet": {
                "Name": domain, "Type": kind, "AliasTarget": {
                    "DNSName": target, "HostedZoneId": CLOUDFRONT_ZONE,
                    "EvaluateTargetHealth": False}}} for kind in ("A", "AAAA")]})
    return Certified(domain, arn, target, f"https://{domain}/")
