"""examples/django-site deploys to aws (against moto): the same project as on the local cloud,
with its database and static bucket as settings of the `prod` stage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aloft.aws.provider import AwsProvider
from aloft.config import load_project
from tests.aws.conftest import boto

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "django-site"


def test_django_site_on_aws(provider: AwsProvider, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    root = shutil.copytree(EXAMPLE, tmp_path / "site",
                           ignore=shutil.ignore_patterns(".aloft", "__pycache__"))
    monkeypatch.setenv("PROD_DATABASE_URL", "postgres://django:pw@db.example.internal:5432/site")
    service = load_project(root).service("prod")
    assert service.provider == "aws"

    result = provider.deploy(service)
    assert result.functions == {"app": 1}
    assert result.url is not None and result.url.startswith("https://")

    conf = boto("lambda").get_function_configuration(FunctionName="django-site-prod-app")
    assert conf["Timeout"] == 60 and conf["MemorySize"] == 512
    env = conf["Environment"]["Variables"]
    assert env["DATABASE_URL"] == "postgres://django:pw@db.example.internal:5432/site"
    assert env["STATIC_BUCKET"] == "django-site-prod-assets"
    assert env["ALOFT_BUCKET_STATIC"] == "django-site-prod-assets"
    assert conf["Handler"] == "aloft.runtime.handler.handler"
    assert "AWS_ENDPOINT_URL" not in env  # on AWS, boto3 and django-storages reach real S3

    s3 = boto("s3")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "django-site-prod-assets" in names
    # Public static files: anyone may read them (the bucket's block lifted for the policy).
    policy = s3.get_bucket_policy(Bucket="django-site-prod-assets")["Policy"]
    assert '"s3:GetObject"' in policy and '"Principal": "*"' in policy
    block = s3.get_public_access_block(Bucket="django-site-prod-assets")[
        "PublicAccessBlockConfiguration"]
    assert not block["BlockPublicPolicy"] and not block["RestrictPublicBuckets"]
