"""Loading aloft.yml: the fixture project, shorthands, defaults, finding the config file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aloft.config import Project, find_config_file, load_project, load_service
from aloft.config.models import APP_FUNCTION, DEFAULT_KEEP_ALIVE, Service
from aloft.errors import ConfigError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "configs"

SHOP = FIXTURES / "aloft_shop"


@pytest.fixture
def shop() -> Project:
    return load_project(SHOP, env={})


def test_project_describes_the_file(shop: Project) -> None:
    assert shop.file == SHOP / "aloft.yml"
    assert shop.root == SHOP
    assert shop.kind == "aloft"
    assert shop.stages == ["dev", "staging", "prod"]
    assert shop.default_stage == "dev"
    assert shop.warnings == []


def test_dev_stage_is_fully_resolved(shop: Project) -> None:
    dev = shop.service()
    assert dev.stage == "dev" and dev.service == "shop" and dev.app == "shop.app:app"
    assert dev.provider == "local" and dev.debug is True
    assert dev.runtime == "3.12"
    assert dev.environment == {
        "APP_ENV": "dev",
        "DATABASE_URL": "sqlite:///shop.db",
        "ORDERS_QUEUE": "shop-dev-orders",
        "FEATURES": "search,checkout",
        "API_TOKEN": "${ssm:/shop/dev/api-token}",
    }
    assert dev.config_file == SHOP / "aloft.yml" and dev.root == SHOP
    assert dev.all_function_names() == [APP_FUNCTION, "process-order", "nightly", "thumbnails",
                                        "changes", "alerts", "hooks"]


def test_shorthands_are_normalised(shop: Project) -> None:
    dev = shop.service("dev")
    fns = dev.functions
    queue = fns["process-order"].events[0].queue
    assert queue is not None and queue.name == "orders" and queue.batch_size == 10
    cron, rate = (e.schedule for e in fns["nightly"].events)
    assert cron is not None and cron.expression == "cron(0 3 * * ? *)"
    assert rate is not None and rate.expression == "rate(1 hour)"
    assert rate.input == {"kind": "hourly"}
    bucket = fns["thumbnails"].events[0].bucket
    assert bucket is not None and bucket.events == ["s3:ObjectCreated:*"]
    assert (bucket.prefix, bucket.suffix) == ("images/", ".jpg")
    stream = fns["changes"].events[0].stream
    assert stream is not None and (stream.type, stream.name) == ("dynamodb", "orders")
    topic = fns["alerts"].events[0].topic
    assert topic is not None and topic.name == "alerts"
    http = fns["hooks"].events[0].http
    assert http is not None and (http.method, http.path) == ("POST", "/hooks/{provider}")
    assert dev.keep_warm.enabled and dev.keep_warm.rate == "4 minutes"
    assert dev.cors.enabled and dev.cors.origins == ["https://shop.example.com"]
    assert dev.resources.buckets["uploads"].name is None
    assert dev.resources.queues["orders"].dead_letter is True


def test_function_defaults_come_from_the_service(shop: Project) -> None:
    dev = shop.service("dev")
    thumbs = dev.function("thumbnails")
    assert (thumbs.memory, thumbs.timeout, thumbs.keep_alive) == (1024, 20, DEFAULT_KEEP_ALIVE)
    assert dev.function("process-order").timeout == 60
    assert dev.function(APP_FUNCTION).memory == 512
    assert dev.function("nightly").environment["APP_ENV"] == "dev"


def test_stage_overrides_and_extends(shop: Project) -> None:
    staging = shop.service("staging")
    assert staging.provider == "aws" and staging.aws.region == "eu-west-1"
    assert staging.environment["APP_ENV"] == "staging-shop"
    assert staging.environment["DATABASE_URL"] == "sqlite:///shop.db"  # merged, not replaced
    prod = shop.service("prod")
    assert prod.provider == "aws" and prod.aws.region == "eu-west-1"  # from staging
    assert prod.aws.tags == {"env": "staging"} and prod.aws.domain == "shop.example.com"
    assert prod.memory == 1024 and prod.keep_warm.rate == "2 minutes"
    # lists are replaced: prod's nightly has only its own schedule
    assert [e.schedule.expression for e in prod.functions["nightly"].events if e.schedule] == [
        "cron(0 4 * * ? *)"]
    assert prod.functions["nightly"].handler == "shop.jobs.nightly"  # mapping merged
    assert prod.environment["ORDERS_QUEUE"] == "shop-prod-orders"


def test_env_variables_come_from_the_given_environment() -> None:
    dev = load_service(SHOP, "dev", env={"SHOP_DATABASE_URL": "postgresql://db/shop"})
    assert dev.environment["DATABASE_URL"] == "postgresql://db/shop"


def test_config_file_path_may_be_given(shop: Project) -> None:
    assert load_project(SHOP / "aloft.yml", env={}).stages == shop.stages
    assert load_project(str(SHOP), env={}).file == shop.file


def test_no_stages_accepts_any_stage_name(write: Callable[..., Path]) -> None:
    path = write("service: api\napp: app:app\n")
    project = load_project(path, env={})
    assert project.stages == [] and project.default_stage == "dev"
    assert project.service().stage == "dev"
    assert project.service("feature-x").stage == "feature-x"


def test_default_stage_is_the_first_without_dev(write: Callable[..., Path]) -> None:
    path = write("service: api\napp: app:app\nstages:\n  prod:\n  qa:\n")
    assert load_project(path, env={}).default_stage == "prod"


def test_options_override_provider_and_region(shop: Project) -> None:
    dev = shop.service("dev", options={"provider": "aws", "region": "us-east-1"})
    assert dev.provider == "aws" and dev.aws.region == "us-east-1"


def test_services_validates_every_stage(shop: Project) -> None:
    assert list(shop.services()) == ["dev", "staging", "prod"]


def test_find_config_file_order(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text("service: x\n")
    assert find_config_file(tmp_path).name == "serverless.yml"
    (tmp_path / "zappa_settings.toml").write_text("[dev]\n")
    assert find_config_file(tmp_path).name == "zappa_settings.toml"
    (tmp_path / "zappa_settings.json").write_text("{}")
    assert find_config_file(tmp_path).name == "zappa_settings.json"
    (tmp_path / "aloft.yaml").write_text("service: x\n")
    assert find_config_file(tmp_path).name == "aloft.yaml"
    (tmp_path / "aloft.yml").write_text("service: x\n")
    assert find_config_file(tmp_path).name == "aloft.yml"


def test_no_config_file_says_aloft_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        find_config_file(tmp_path)
    assert info.value.fix is not None and "aloft init" in info.value.fix
    with pytest.raises(ConfigError):
        load_project(tmp_path)


def test_empty_and_non_mapping_files(write: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError, match="is empty"):
        load_project(write("# nothing\n"))
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_project(write("- a\n- b\n"))


def test_nothing_to_deploy(write: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError, match="nothing to deploy"):
        load_service(write("service: api\n"), env={})


def test_service_writes_aloft_keys_only(write: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError, match="`stage` is set by aloft"):
        load_service(write("service: api\napp: app:app\nstage: prod\n"), env={})


def _dev_and_prod(root: Path, text: str) -> tuple[Service, Service]:
    """The local `dev` and aws `prod` stages of an aloft.yml."""
    (root / "aloft.yml").write_text(text)
    project = load_project(root, env={})
    return project.service("dev"), project.service("prod")


def test_a_cdn_is_accepted_locally_with_a_note(tmp_path: Path) -> None:
    dev, prod = _dev_and_prod(tmp_path, (
        "service: site\napp: app:app\nstatic: {path: /assets, cdn: true}\n"
        "stages:\n  dev: {}\n  prod: {provider: aws, cdn: true}\n"))
    assert dev.uses_cdn and prod.uses_cdn and prod.static is not None
    assert any("`cdn`: the local cloud serves the static files" in w for w in dev.warnings)
    assert not any("`cdn`" in w for w in prod.warnings)


def test_provisioned_concurrency_is_applied_by_both_providers(tmp_path: Path) -> None:
    dev, prod = _dev_and_prod(tmp_path, (
        "service: api\nfunctions:\n  f: {handler: h.f, provisioned_concurrency: 2}\n"
        "stages:\n  dev: {}\n  prod: {provider: aws}\n"))
    assert dev.functions["f"].provisioned_concurrency == 2
    for stage in (dev, prod):  # nothing to warn of: the local cloud and aws apply it
        assert not any("provisioned_concurrency" in w for w in stage.warnings), stage.warnings
