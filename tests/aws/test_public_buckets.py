"""`public: true` buckets are public-read on AWS as in the local cloud: the same bucket policy
(anyone may GetObject, nothing else), the bucket's own Block Public Access lifted for policies
(ACLs stay blocked), in apply as in the template (tests/unit/aws/test_template.py);
turning `public` off takes the policy away and blocks again."""

from __future__ import annotations

import json
from collections.abc import Callable

from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.stage.resources import public_read_policy
from tests.aws.conftest import boto

FUNCTIONS = {"w": {"handler": "jobs.work"}}


def _service(make: Callable[..., Service], public: bool) -> Service:
    return make(functions=FUNCTIONS, resources={"buckets": {
        "media": {"public": public}, "private": {}}})


def test_a_public_bucket_gets_the_local_clouds_policy(
        provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    provider.deploy(_service(make_service, public=True))
    s3 = boto("s3")
    policy = json.loads(s3.get_bucket_policy(Bucket="shop-prod-media")["Policy"])
    assert policy == json.loads(public_read_policy("arn:aws:s3:::shop-prod-media"))
    assert policy["Statement"][0]["Action"] == "s3:GetObject"
    assert policy["Statement"][0]["Principal"] == "*"
    block = s3.get_public_access_block(Bucket="shop-prod-media")[
        "PublicAccessBlockConfiguration"]
    assert (block["BlockPublicPolicy"], block["RestrictPublicBuckets"]) == (False, False)
    assert (block["BlockPublicAcls"], block["IgnorePublicAcls"]) == (True, True)
    private = s3.get_public_access_block(Bucket="shop-prod-private")[
        "PublicAccessBlockConfiguration"]
    assert all(private.values())

    again = provider.deploy(_service(make_service, public=True))
    assert not again.changed  # the policy is read back: nothing to do

    plan = provider.deploy(_service(make_service, public=False), plan_only=True).plan
    assert [(p.resource, p.details["public"]) for p in plan
            if p.action == "SetBucketPublic"] == [("shop-prod-media", False)]
    provider.deploy(_service(make_service, public=False))
    assert not _has_policy("shop-prod-media")
    assert all(s3.get_public_access_block(Bucket="shop-prod-media")[
        "PublicAccessBlockConfiguration"].values())


def _has_policy(bucket: str) -> bool:
    try:
        boto("s3").get_bucket_policy(Bucket=bucket)
    except boto("s3").exceptions.ClientError:
        return False
    return True

