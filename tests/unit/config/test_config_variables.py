"""Variables: env, stage, self, file, ssm, opt; typed lone values; fallbacks; errors; cycles."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from aloft.config import load_project, load_service
from aloft.errors import ConfigError

Write = Callable[..., Path]


def test_env_with_and_without_default(write: Write) -> None:
    path = write("""\
        service: api
        app: app:app
        environment:
          A: ${env:A}
          B: ${env:B, fallback value}
          C: "${env:C, 'quoted, with comma'}"
          D: prefix-${env:A}-suffix
          E: ${env:EMPTY, not used}
        """)
    env = load_service(path, env={"A": "alpha", "EMPTY": ""}).environment
    assert env == {"A": "alpha", "B": "fallback value", "C": "quoted, with comma",
                   "D": "prefix-alpha-suffix", "E": ""}


def test_missing_env_names_the_variable_and_place(write: Write) -> None:
    path = write("""\
        service: api
        app: app:app
        environment:
          DB: postgres://${env:DB_HOST}/app
        """)
    with pytest.raises(ConfigError) as info:
        load_service(path, env={})
    err = info.value
    assert "environment variable DB_HOST is not set" in err.message
    assert err.where is not None and (err.where.line, err.where.column) == (4, 7)
    assert err.where.key_path == "environment.DB" and err.where.stage == "dev"
    assert err.fix is not None and "${env:DB_HOST, default}" in err.fix


def test_stage_variable(write: Write) -> None:
    path = write("service: api\napp: app:app\nenvironment: {S: '${stage}'}\nstages: {qa: }\n")
    assert load_service(path, "qa", env={}).environment == {"S": "qa"}


def test_lone_variable_keeps_its_type(write: Write) -> None:
    path = write("""\
        service: api
        app: app:app
        timeout: 45
        memory: ${file(sizes.yml):big}
        cors: ${file(cors.json)}
        functions:
          a:
            handler: a.run
            timeout: ${self:timeout}
            environment:
              TEXT: size-${file(sizes.yml):big}
        """)
    (path.parent / "sizes.yml").write_text("big: 2048\n")
    (path.parent / "cors.json").write_text(json.dumps({"origins": ["https://x.test"],
                                                       "credentials": True}))
    svc = load_service(path, env={})
    assert svc.memory == 2048
    assert svc.functions["a"].timeout == 45
    assert svc.functions["a"].environment == {"TEXT": "size-2048"}
    assert svc.cors.origins == ["https://x.test"] and svc.cors.credentials is True


def test_self_reference_after_stage_merge_and_recursive(write: Write) -> None:
    path = write("""\
        service: api
        app: app:app
        environment:
          NAME: ${self:service}-${stage}
          FULL: ${self:environment.NAME}.example.com
        stages:
          dev:
          prod:
            service: api-prod
        """)
    assert load_service(path, "prod", env={}).environment == {
        "NAME": "api-prod-prod", "FULL": "api-prod-prod.example.com"}


def test_self_reference_cycle(write: Write) -> None:
    path = write("""\
        service: api
        app: app:app
        environment:
          A: ${self:environment.B}
          B: x-${self:environment.A}
        """)
    with pytest.raises(ConfigError) as info:
        load_service(path, env={})
    assert "cycle: environment.A -> environment.B -> environment.A" in info.value.message


def test_self_reference_to_missing_key(write: Write) -> None:
    path = write("service: api\napp: app:app\nenvironment:\n  A: ${self:environmnt.B}\n")
    with pytest.raises(ConfigError, match=r"refers to `environmnt\.B`, which is not set"):
        load_service(path, env={})


def test_file_variable_yaml_and_json(write: Write) -> None:
    path = write("""\
        service: api
        app: app:app
        environment:
          REGION: ${file(conf/settings.yml):aws.region}
          LIMIT: ${file(conf/limits.json):items.0}
        aws: ${file(conf/settings.yml):aws}
        """)
    (path.parent / "conf").mkdir()
    (path.parent / "conf" / "settings.yml").write_text("aws:\n  region: eu-north-1\n")
    (path.parent / "conf" / "limits.json").write_text('{"items": [10, 20]}')
    svc = load_service(path, env={})
    assert svc.environment == {"REGION": "eu-north-1", "LIMIT": "10"}
    assert svc.aws.region == "eu-north-1"


def test_file_variable_errors(write: Write) -> None:
    path = write("service: api\napp: app:app\nenvironment:\n  A: ${file(nope.yml):a}\n")
    with pytest.raises(ConfigError, match="does not exist"):
        load_service(path, env={})
    path = write("service: api\napp: app:app\nenvironment:\n  A: ${file(x.yml):b}\n")
    (path.parent / "x.yml").write_text("a: 1\n")
    with pytest.raises(ConfigError, match="has no key `b`"):
        load_service(path, env={})


def test_ssm_is_left_for_the_provider(write: Write) -> None:
    path = write("service: api\napp: app:app\nenvironment:\n  T: ${ssm:/api/${stage}/token}\n")
    assert load_service(path, env={}).environment == {"T": "${ssm:/api/dev/token}"}


def test_opt_reads_options(write: Write) -> None:
    path = write("service: api\napp: app:app\nenvironment:\n  V: ${opt:version, 'none'}\n")
    project = load_project(path, env={})
    assert project.service(options={"version": "7"}).environment == {"V": "7"}
    assert project.service().environment == {"V": "none"}


def test_unknown_variable_source(write: Write) -> None:
    path = write("service: api\napp: app:app\nenvironment:\n  V: ${nope:stack.output}\n")
    with pytest.raises(ConfigError) as info:
        load_service(path, env={})
    assert "`${nope:stack.output}` is not a known variable" in info.value.message
    assert info.value.fix is not None and "${env:...}" in info.value.fix


def test_a_plugins_variable_names_the_plugin(write: Write) -> None:
    path = write("service: api\napp: app:app\nenvironment:\n  V: ${construct:jobs.queueUrl}\n")
    with pytest.raises(ConfigError) as info:
        load_service(path, env={})
    assert "variable of serverless-lift, which this project does not use" in info.value.message
    assert info.value.fix is not None and "plugins:" in info.value.fix


def test_unclosed_variable(write: Write) -> None:
    path = write("service: api\napp: app:app\nenvironment:\n  V: ${env:A\n")
    with pytest.raises(ConfigError, match="no closing"):
        load_service(path, env={"A": "x"})


def test_mapping_cannot_be_inserted_into_text(write: Write) -> None:
    path = write("service: api\napp: app:app\nenvironment:\n  V: x-${self:aws}\naws: {}\n")
    with pytest.raises(ConfigError, match="cannot be inserted into text"):
        load_service(path, env={})


def test_x_keys_hold_own_values_and_anchors(write: Write) -> None:
    path = write("""\
        service: api
        app: app:app
        x-sizes: {small: 256, big: 2048}
        x-defaults: &defaults
          timeout: 10
          memory: ${self:x-sizes.small}
        functions:
          a:
            <<: *defaults
            handler: a.run
          b:
            <<: *defaults
            handler: b.run
            memory: ${self:x-sizes.big}
        environment:
          STAGE: ${opt:stage}
        """)
    svc = load_service(path, env={})
    assert (svc.functions["a"].memory, svc.functions["a"].timeout) == (256, 10)
    assert svc.functions["b"].memory == 2048
    assert svc.environment == {"STAGE": "dev"}
