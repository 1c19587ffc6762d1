"""`static:` on AWS: files in a bucket of the stage, proxied by the HTTP API, synced by hash."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.errors import ConfigError, ProviderError
from tests.aws.conftest import Builds, boto

BUCKET = "aloft-shop-prod-static-123456789012-eu-west-1"


@pytest.fixture
def site(tmp_path: Path, make_service: Callable[..., Service]) -> Service:
    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    (static / "app.css").write_text("body { color: red }\n")
    (static / "js" / "app.js").write_text("console.log(1)\n")
    (static / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    return make_service(app="app:app", static={"path": "/assets/", "directory": "static"})


def _objects(bucket: str = BUCKET) -> dict[str, dict[str, Any]]:
    s3 = boto("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {k: s3.head_object(Bucket=bucket, Key=k) for k in keys}


def _api() -> tuple[str, dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    gw = boto("apigatewayv2")
    api_id = gw.get_apis()["Items"][0]["ApiId"]
    integrations = {i["IntegrationId"]: i for i in gw.get_integrations(ApiId=api_id)["Items"]}
    routes = {r["RouteKey"]: integrations[r["Target"].removeprefix("integrations/")]
              for r in gw.get_routes(ApiId=api_id)["Items"]}
    return api_id, routes, integrations


def test_files_are_uploaded_and_proxied(provider: AwsProvider, site: Service) -> None:
    result = provider.deploy(site)
    assert {"CreateStaticBucket", "SyncStatic"} <= {s.action for s in result.plan}
    objects = _objects()
    assert set(objects) == {"app.css", "js/app.js", "logo.png"}
    assert objects["app.css"]["ContentType"] == "text/css; charset=utf-8"
    assert objects["logo.png"]["ContentType"] == "image/png"
    assert {o["CacheControl"] for o in objects.values()} == {"no-cache"}

    s3 = boto("s3")
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block["BlockPublicAcls"] and block["IgnorePublicAcls"]
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    [statement] = policy["Statement"]
    assert statement["Action"] == "s3:GetObject"  # never s3:ListBucket: not listable
    assert statement["Resource"] == f"arn:aws:s3:::{BUCKET}/*"
    referer = statement["Condition"]["StringEquals"]["aws:Referer"]
    assert len(referer) >= 32
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    assert tags["aloft:stage"] == "prod"

    _, routes, _ = _api()
    assert routes["$default"]["IntegrationType"] == "AWS_PROXY"
    for key in ("GET /assets/{proxy+}", "HEAD /assets/{proxy+}"):
        integ = routes[key]
        assert integ["IntegrationType"] == "HTTP_PROXY"
        assert integ["IntegrationUri"] == (f"https://{BUCKET}.s3.eu-west-1.amazonaws.com/"
                                           "{proxy}")
        assert integ["RequestParameters"] == {"overwrite:header.referer": referer}
        assert integ["ResponseParameters"] == {"403": {"overwrite:statuscode": "404"}}
    # the API's permission is the app's only: the static routes invoke no function
    pol = json.loads(boto("lambda").get_policy(FunctionName="shop-prod-app",
                                               Qualifier="prod")["Policy"])
    assert [st["Sid"] for st in pol["Statement"]] == ["aloft-api"]


def test_unchanged_files_make_no_calls_beyond_reads(
    provider: AwsProvider, site: Service, clients: list[AwsClient]
) -> None:
    provider.deploy(site)
    again = provider.deploy(site)
    assert again.plan == [] and again.version == 1
    calls = clients[-1].calls
    writes = [op for op in calls if not op.split(".")[1].startswith(("Get", "List", "Head",
                                                                      "Describe"))]
    assert writes == []
    assert calls["s3.PutObject"] == 0 and clients[-1].bytes_uploaded == 0
    # the static files cost four reads: the bucket, its tags, its policy, its listing
    assert (calls["s3.GetBucketTagging"], calls["s3.GetBucketPolicy"],
            calls["s3.ListObjectsV2"]) == (1, 1, 1)


def test_a_stage_without_static_files_reads_nothing_more(
    provider: AwsProvider, make_service: Callable[..., Service], clients: list[AwsClient]
) -> None:
    svc = make_service(app="app:app")
    provider.deploy(svc)
    assert provider.deploy(svc).plan == []
    calls = clients[-1].calls
    assert not {"s3.GetBucketTagging", "s3.GetBucketPolicy", "s3.ListObjectsV2"} & set(calls)
    assert calls["s3.HeadBucket"] == 1  # the deployment bucket's


def test_only_changed_files_are_uploaded_and_removed_ones_deleted(
    provider: AwsProvider, site: Service, tmp_path: Path, clients: list[AwsClient]
) -> None:
    provider.deploy(site)
    before = _objects()
    (tmp_path / "static" / "app.css").write_text("body { color: blue }\n")
    (tmp_path / "static" / "js" / "app.js").unlink()
    (tmp_path / "static" / "robots.txt").write_text("User-agent: *\n")
    result = provider.deploy(site)
    assert [s.action for s in result.plan] == ["SyncStatic", "WriteState"]
    sync = result.plan[0]
    assert (sync.fields["uploads"], sync.fields["deletes"]) == (2, 1)
    assert clients[-1].calls["s3.PutObject"] == 3  # two files and the state object
    after = _objects()
    assert set(after) == {"app.css", "logo.png", "robots.txt"}
    assert after["logo.png"]["ETag"] == before["logo.png"]["ETag"]
    assert after["app.css"]["ETag"] != before["app.css"]["ETag"]
    assert provider.deploy(site).plan == []


def test_undeploy_removes_the_bucket(provider: AwsProvider, site: Service) -> None:
    provider.deploy(site)
    provider.undeploy(site)
    assert boto("s3").list_buckets()["Buckets"] == []
    assert boto("apigatewayv2").get_apis()["Items"] == []


def test_dropping_static_deletes_bucket_and_routes(
    provider: AwsProvider, site: Service, make_service: Callable[..., Service]
) -> None:
    provider.deploy(site)
    result = provider.deploy(make_service(app="app:app"))
    assert {"UpdateHttpApi", "DeleteBucket"} <= {s.action for s in result.plan}
    assert [b["Name"] for b in boto("s3").list_buckets()["Buckets"]] == [
        "aloft-shop-prod-123456789012-eu-west-1"]
    _, routes, _ = _api()
    assert set(routes) == {"$default"}
    assert provider.deploy(make_service(app="app:app")).plan == []


def test_a_lost_policy_gets_a_new_secret_and_integration(
    provider: AwsProvider, site: Service
) -> None:
    provider.deploy(site)
    boto("s3").delete_bucket_policy(Bucket=BUCKET)
    result = provider.deploy(site)
    assert {"PutStaticPolicy", "UpdateHttpApi"} <= {s.action for s in result.plan}
    policy = json.loads(boto("s3").get_bucket_policy(Bucket=BUCKET)["Policy"])
    referer = policy["Statement"][0]["Condition"]["StringEquals"]["aws:Referer"]
    _, routes, _ = _api()
    assert routes["GET /assets/{proxy+}"]["RequestParameters"] == {
        "overwrite:header.referer": referer}
    assert provider.deploy(site).plan == []


def test_a_bucket_of_someone_else_is_not_taken_over(
    provider: AwsProvider, site: Service, make_service: Callable[..., Service]
) -> None:
    boto("s3").create_bucket(Bucket="their-assets",
                             CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    svc = make_service(app="app:app", static={"path": "/assets", "bucket": "their-assets"})
    with pytest.raises(ProviderError, match="name already taken: bucket their-assets"):
        provider.deploy(svc)


def test_rest_apis_and_missing_directories_keep_static_in_the_app(
    provider: AwsProvider, site: Service, make_service: Callable[..., Service]
) -> None:
    rest = make_service(app="app:app", static={"path": "/assets"},
                        aws={"region": "eu-west-1", "api": "rest"})
    assert "CreateStaticBucket" not in {s.action for s in provider.deploy(rest, plan_only=True)
                                        .plan}
    missing = make_service(app="app:app", static={"path": "/assets", "directory": "nope"})
    assert "CreateStaticBucket" not in {s.action for s in
                                        provider.deploy(missing, plan_only=True).plan}


def test_a_root_static_path_is_refused(provider: AwsProvider, site: Service,
                                       make_service: Callable[..., Service]) -> None:
    with pytest.raises(ConfigError, match="static path '/'") as err:
        provider.deploy(make_service(app="app:app", static={"path": "/"}), plan_only=True)
    assert "/static" in (err.value.fix or "")


def test_a_renamed_bucket_moves_files_routes_and_secret(
    provider: AwsProvider, site: Service, make_service: Callable[..., Service]
) -> None:
    provider.deploy(site)
    moved = make_service(app="app:app", static={"path": "/assets", "bucket": "shop-assets"})
    provider.deploy(moved)
    assert set(_objects("shop-assets")) == {"app.css", "js/app.js", "logo.png"}
    assert BUCKET not in [b["Name"] for b in boto("s3").list_buckets()["Buckets"]]
    policy = json.loads(boto("s3").get_bucket_policy(Bucket="shop-assets")["Policy"])
    referer = policy["Statement"][0]["Condition"]["StringEquals"]["aws:Referer"]
    _, routes, _ = _api()
    integ = routes["GET /assets/{proxy+}"]
    assert integ["IntegrationUri"] == "https://shop-assets.s3.eu-west-1.amazonaws.com/{proxy}"
    assert integ["RequestParameters"] == {"overwrite:header.referer": referer}
    _, _, integrations = _api()
    assert len(integrations) == 2  # the app's and the new bucket's: the old one is deleted
    assert provider.deploy(moved).plan == []


def test_publish_static_uploads_what_changed(provider: AwsProvider, site: Service) -> None:
    # `aloft manage prod collectstatic`: the files collected here, uploaded without a deploy
    with pytest.raises(ProviderError, match="not deployed"):
        provider.publish_static(site)
    provider.deploy(site)
    (site.root / "static" / "app.css").write_text("body { color: blue }\n")
    (site.root / "static" / "logo.png").unlink()
    (site.root / "static" / "new.txt").write_text("new\n")
    published = provider.publish_static(site)
    assert (published.uploaded, published.deleted) == (2, 1)
    assert published.where == f"bucket {BUCKET}" and published.url.endswith("/assets/")
    objects = _objects()
    assert set(objects) == {"app.css", "js/app.js", "new.txt"}
    body = boto("s3").get_object(Bucket=BUCKET, Key="app.css")["Body"].read()
    assert body == b"body { color: blue }\n"
    again = provider.publish_static(site)
    assert (again.uploaded, again.deleted) == (0, 0)
    assert provider.status(site).version == 1  # no new version: only the files changed


def test_django_static_files_found_at_build_are_the_stages(
        provider: AwsProvider, builds: Builds, make_service: Callable[..., Service]) -> None:
    # A Django project with only zappa_settings.json: no `static:`; the build found STATIC_ROOT
    # (staticfiles/) and STATIC_URL ("static/") in its settings, and the stage serves them.
    service = make_service(django_settings="site.settings")
    collected = service.root / "staticfiles" / "admin" / "css"
    collected.mkdir(parents=True)
    (collected / "base.css").write_text("body { margin: 0 }\n")
    builds.static = ("/static", "staticfiles")
    result = provider.deploy(service)
    assert {"CreateStaticBucket", "SyncStatic"} <= {s.action for s in result.plan}
    assert set(_objects()) == {"admin/css/base.css"}
    _, routes, _ = _api()
    assert routes["GET /static/{proxy+}"]["IntegrationType"] == "HTTP_PROXY"
    def static_buckets() -> list[str]:
        template = json.loads(provider.template(service, builds(service)))
        return [name for name, r in template["Resources"].items()
                if r["Type"] == "AWS::S3::Bucket" and "static" in name.lower()]

    assert static_buckets()
    builds.static = None  # the settings serve static files elsewhere: no bucket of the stage's
    assert static_buckets() == []
