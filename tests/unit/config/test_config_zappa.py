"""zappa_settings (.json, .toml, .yml): stages, extends, events, AWS settings, warnings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aloft.config import Project, load_project
from aloft.errors import ConfigError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "configs"


@pytest.fixture
def shop() -> Project:
    return load_project(FIXTURES / "zappa_json", env={})


def test_all_stages_are_read(shop: Project) -> None:
    assert shop.kind == "zappa"
    assert shop.stages == ["base", "dev", "staging", "production"]
    assert shop.default_stage == "dev"


def test_settings_map_to_aloft_keys(shop: Project) -> None:
    dev = shop.service("dev")
    assert dev.service == "shop" and dev.app == "shop.app:app" and dev.runtime == "3.12"
    assert dev.provider == "local"  # runs locally by default; AWS settings kept
    assert (dev.aws.region, dev.aws.profile, dev.aws.bucket) == (
        "us-east-1", "default", "zappa-shop-deploys")
    assert (dev.memory, dev.timeout) == (512, 30)
    assert dev.keep_warm.enabled and dev.keep_warm.rate == "5 minutes"
    # environment_variables win over aws_environment_variables, both are kept
    assert dev.environment == {"APP_ENV": "base", "FEATURE_FLAGS": "search,checkout",
                               "LOG_FORMAT": "json"}
    assert dev.exclude == ["*.gz", "*.rar", "tests/"]
    assert dev.cors.enabled and dev.exception_handler == "shop.errors.report"
    assert dev.aws.tags == {"team": "shop", "cost-center": "42"}
    assert dev.permissions[0].action == ["s3:GetObject"]
    assert dev.debug is True


def test_events_become_functions(shop: Project) -> None:
    fns = shop.service("dev").functions
    assert list(fns) == ["cleanup_carts", "nightly_report", "process_order", "thumbnail",
                         "notify", "changes"]
    cleanup = fns["cleanup_carts"]
    assert cleanup.handler == "shop.tasks.cleanup_carts"
    assert cleanup.events[0].schedule is not None
    assert cleanup.events[0].schedule.expression == "rate(1 hour)"
    nightly = fns["nightly_report"].events[0].schedule
    assert nightly is not None and nightly.name == "nightly-report"
    assert nightly.expression == "cron(0 2 * * ? *)"
    queue = fns["process_order"].events[0].queue
    assert queue is not None and queue.name.endswith(":shop-orders") and queue.batch_size == 5
    assert queue.partial_failures is False
    bucket = fns["thumbnail"].events[0].bucket
    assert bucket is not None and (bucket.name, bucket.prefix, bucket.suffix) == (
        "shop-uploads", "images/", ".jpg")
    topic = fns["notify"].events[0].topic
    assert topic is not None and topic.name.endswith(":shop-alerts")
    stream = fns["changes"].events[0].stream
    assert stream is not None and stream.type == "dynamodb"
    assert (stream.batch_size, stream.starting_position) == (50, "TRIM_HORIZON")


def test_extends_chain(shop: Project) -> None:
    staging = shop.service("staging")
    assert staging.memory == 1024 and staging.debug is False
    assert list(staging.functions) == list(shop.service("dev").functions)
    prod = shop.service("production")
    assert (prod.memory, prod.timeout) == (2048, 60)
    assert prod.keep_warm.enabled is False
    assert prod.aws.domain == "shop.example.com" and prod.aws.certificate is not None
    assert prod.aws.vpc is not None and prod.aws.vpc.subnet_ids == ["subnet-1", "subnet-2"]
    assert prod.slim is True and prod.aws.tracing is True and prod.aws.api == "url"
    assert prod.layers == ["arn:aws:lambda:us-east-1:123456789012:layer:pg:3"]
    assert prod.function("app").layers == prod.layers
    assert prod.aws.architecture == "arm64"
    assert prod.aws.role == "arn:aws:iam::123456789012:role/shop-prod"


def test_unsupported_settings_are_warnings(shop: Project) -> None:
    text = "\n".join(shop.warnings)
    for key in ("base.cloudwatch_log_level", "base.lambda_description",
                "staging.api_key_required", "production.async_source",
                "production.async_resources"):
        assert f"`{key}`" in text
    assert "API keys" in text
    assert any("api_key_required" in w for w in shop.service("production").warnings)


def test_toml_settings() -> None:
    project = load_project(FIXTURES / "zappa_toml", env={})
    assert project.file.name == "zappa_settings.toml" and project.stages == ["dev", "prod"]
    dev, prod = project.service("dev"), project.service("prod")
    assert dev.app == "api.main:app" and dev.runtime == "3.11" and dev.memory == 256
    assert dev.keep_warm.enabled is False
    assert dev.functions["sweep"].events[0].schedule is not None
    assert prod.memory == 1024 and prod.environment == {"MODE": "prod"}
    assert project.warnings == [
        "`prod.log_level`: set the log level in your app (logging.basicConfig)"]


def test_yaml_settings_with_django() -> None:
    project = load_project(FIXTURES / "zappa_yml", env={})
    dev = project.service("dev")
    assert dev.django_settings == "mysite.settings" and dev.app is None
    assert dev.timeout == 45 and dev.health_path == "/health/"
    assert dev.binary_types == [] and dev.exclude == ["*.sqlite3"]
    assert [e.schedule.expression for e in dev.functions["cleanup"].events if e.schedule] == [
        "rate(1 day)", "cron(0 12 ? * MON *)"]
    stream = dev.functions["consume"].events[0].stream
    assert stream is not None and stream.type == "kinesis" and stream.batch_size == 200
    assert "mystery" not in dev.functions
    assert any("event_source.arn" in w for w in project.warnings)
    assert project.service("prod").aws.api == "url"


def test_extends_cycle_and_unknown(write: Callable[..., Path]) -> None:
    path = write('{"a": {"extends": "b", "app_function": "x.app"}, "b": {"extends": "a"}}',
                 "zappa_settings.json")
    with pytest.raises(ConfigError, match="a -> b -> a"):
        load_project(path, env={})
    path = write('{"dev": {"extends": "bsae", "app_function": "x.app"}, "base": {}}',
                 "zappa_settings.json")
    with pytest.raises(ConfigError) as info:
        load_project(path, env={})
    assert info.value.fix == "did you mean `base`?"
    assert info.value.where is not None and info.value.where.line == 1


def test_wrong_type_points_at_the_zappa_key(write: Callable[..., Path]) -> None:
    path = write('{\n  "dev": {\n    "app_function": "x.app",\n    "memory_size": "big"\n  }\n}\n',
                 "zappa_settings.json")
    with pytest.raises(ConfigError) as info:
        load_project(path, env={}).service("dev")
    where = info.value.where
    assert where is not None and (where.line, where.column) == (4, 20)
    assert where.key_path == "dev.memory_size"


def test_project_name_defaults_to_the_directory(tmp_path: Path) -> None:
    project_dir = tmp_path / "My Project"
    project_dir.mkdir()
    (project_dir / "zappa_settings.json").write_text('{"dev": {"app_function": "app.app"}}')
    assert load_project(project_dir, env={}).service().service == "my-project"


def test_unknown_stage(shop: Project) -> None:
    with pytest.raises(ConfigError, match="stages: base, dev, staging, production"):
        shop.service("prod")


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_a_bucket_event_source_is_read_in_every_partition(
    write: Callable[..., Path], partition: str,
) -> None:
    path = write(
        '{"dev": {"app_function": "x.app", "events": [{"function": "x.thumb", '
        f'"event_source": {{"arn": "arn:{partition}:s3:::uploads", '
        '"events": ["s3:ObjectCreated:*"]}}]}}',
        "zappa_settings.json")
    project = load_project(path, env={})
    bucket = project.service("dev").functions["thumb"].events[0].bucket
    assert bucket is not None and bucket.name == "uploads"
    assert project.warnings == []
