"""Apply steps for the CloudFront distribution (`cdn: true`; aloft.aws.cdn)."""

from __future__ import annotations

import secrets
from typing import Any

from aloft.aws import cdn
from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.apply_base import ApplyContext, Undo, aws_tags
from aloft.aws.errors import AwsNotFound
from aloft.aws.plan import fill
from aloft.aws.state import CDN_REF
from aloft.aws.static import REFERER_REF, bucket_policy


class CdnSteps(ApplyContext):
    """The distribution, its origin access control and the static bucket's CloudFront read."""

    def _do_CreateDistribution(self, x: st.CreateDistribution) -> Undo:
        spec = fill(x.spec, self.refs)
        oac = ""
        if spec.static_bucket:
            oac = str(self.aws.call(
                "cloudfront", "create_origin_access_control",
                OriginAccessControlConfig=cdn.oac_config(spec.reference))[
                    "OriginAccessControl"]["Id"])
        got = self.aws.call("cloudfront", "create_distribution_with_tags",
                            DistributionConfigWithTags={
                                "DistributionConfig": cdn.distribution_config(spec, oac),
                                "Tags": {"Items": aws_tags(x.tags)}})["Distribution"]
        self.cdn = {"id": str(got["Id"]), "arn": str(got["ARN"]),
                    "domain": str(got["DomainName"]), "oac": oac,
                    "hash": cdn.spec_hash(spec)}
        self.refs[CDN_REF] = self.cdn["domain"]
        self._static_read(spec, self.cdn["arn"])
        return [st.DeleteDistribution(self.cdn["id"], oac, self.static.bucket
                                      if self.static else "")]

    def _do_UpdateDistribution(self, x: st.UpdateDistribution) -> Undo:
        spec = fill(x.spec, self.refs)
        have = dict(self.cdn or {})
        oac = have.get("oac", "")
        if spec.static_bucket and not oac:  # `static:` added since the distribution was made
            oac = str(self.aws.call(
                "cloudfront", "create_origin_access_control",
                OriginAccessControlConfig=cdn.oac_config(spec.reference))[
                    "OriginAccessControl"]["Id"])
        certificate = have.get("certificate") or None
        got = self.aws.call("cloudfront", "get_distribution_config", Id=x.distribution)
        self.aws.call("cloudfront", "update_distribution", Id=x.distribution,
                      IfMatch=got["ETag"],
                      DistributionConfig=cdn.distribution_config(spec, oac, certificate))
        self.cdn = {**have, "oac": oac, "hash": cdn.spec_hash(spec, certificate)}
        self._static_read(spec, have.get("arn", ""))
        return []

    def _do_DeleteDistribution(self, x: st.DeleteDistribution) -> Undo:
        try:
            got = self.aws.call("cloudfront", "get_distribution_config", Id=x.distribution)
        except AwsNotFound:
            got = None
        if got is not None:
            config: dict[str, Any] = got["DistributionConfig"]
            etag = got["ETag"]
            if config.get("Enabled"):
                etag = self.aws.call("cloudfront", "update_distribution", Id=x.distribution,
                                     IfMatch=etag,
                                     DistributionConfig={**config, "Enabled": False})["ETag"]
            cdn.wait_deployed(self.aws, x.distribution)
            self.aws.call("cloudfront", "delete_distribution", Id=x.distribution, IfMatch=etag)
        if x.oac:
            self._ignore_missing("cloudfront", "delete_origin_access_control", Id=x.oac)
        if x.static_bucket and REFERER_REF in self.refs and self.static is not None \
                and x.static_bucket == self.static.bucket:
            self.aws.call("s3", "put_bucket_policy", Bucket=x.static_bucket, Policy=bucket_policy(
                x.static_bucket, self.aws.account.partition, self.refs[REFERER_REF]))
        self.cdn = None
        self.refs.pop(CDN_REF, None)
        return []

    def _static_read(self, spec: s.CdnSpec, distribution_arn: str) -> None:
        """The static bucket's policy: the API's secret Referer and this distribution."""
        if not spec.static_bucket or self.static is None:
            return
        referer = self.refs.get(REFERER_REF) or secrets.token_urlsafe(32)
        self.refs[REFERER_REF] = referer
        self.aws.call("s3", "put_bucket_policy", Bucket=self.static.bucket, Policy=bucket_policy(
            self.static.bucket, self.aws.account.partition, referer, distribution_arn))
