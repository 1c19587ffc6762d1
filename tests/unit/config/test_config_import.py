"""aloft import: stage-parametric names, cors, conditions per stage, .env files; `dotenv:`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from aloft.config import convert_to_aloft_yaml, load_project
from aloft.config.dotenv import parse_dotenv
from aloft.errors import ConfigError

Write = Callable[..., Path]
EXCLUDE = {"root", "config_file", "warnings"}


def _same_services(original: Path, converted: Path) -> None:
    a, b = load_project(original, env={}), load_project(converted, env={})
    assert b.stages == a.stages
    for stage in a.stages:
        assert b.service(stage).model_dump(exclude=EXCLUDE) == \
            a.service(stage).model_dump(exclude=EXCLUDE), stage


def test_serverless_import_keeps_the_stage_parametric(write: Write) -> None:
    path = write("""\
        service: shop
        provider:
          name: aws
          stage: ${opt:stage, 'dev'}
          environment:
            TABLE: ${self:service}-${sls:stage}-orders
            STAGE: ${opt:stage, self:provider.stage}
            RUN: ${sls:instanceId}
            SIZE: {Fn::If: [IsProd, large, small]}
        params:
          prod: {}
        functions:
          api:
            handler: api.handle
            events:
              - http: {path: items, method: get, cors: true}
        resources:
          Conditions:
            IsProd: {Fn::Equals: ['${sls:stage}', prod]}
          Resources:
            Archive: {Type: AWS::S3::Bucket, Condition: IsProd}
            Orders:
              Type: AWS::DynamoDB::Table
              Properties:
                TableName: !Sub '${AWS::StackName}-orders'
                KeySchema: [{AttributeName: id, KeyType: HASH}]
        """, "serverless.yml")
    text, _ = convert_to_aloft_yaml(path)
    data = yaml.safe_load(text)
    env = data["environment"]
    assert env["TABLE"] == "shop-${stage}-orders" and env["STAGE"] == "${stage}"
    assert env["RUN"] == "${sls:instanceId}"
    assert data["resources"]["tables"]["Orders"]["name"] == "shop-${stage}-orders"
    assert data["functions"]["api"]["events"][0]["http"]["cors"] is True
    # decided per stage: the bucket and the value exist where the condition holds
    assert "Archive" in data["stages"]["prod"]["resources"]["buckets"]
    assert data["stages"]["prod"]["environment"] == {"SIZE": "large"}
    assert data["stages"]["dev"]["environment"] == {"SIZE": "small"}
    (path.parent / "aloft.yml").write_text(text)
    a = load_project(path, env={})
    b = load_project(path.parent / "aloft.yml", env={})
    for stage in a.stages:
        left = a.service(stage).model_dump(exclude=EXCLUDE)
        right = b.service(stage).model_dump(exclude=EXCLUDE)
        left["environment"].pop("RUN"), right["environment"].pop("RUN")  # one id per run
        assert left == right, stage


def test_import_carries_dotenv_files(write: Write) -> None:
    path = write("""\
        service: mail
        plugins: [serverless-dotenv-plugin]
        provider: {name: aws}
        functions: {send: {handler: m.send}}
        """, "serverless.yml")
    (path.parent / ".env").write_text("SMTP=smtp://localhost\n")
    text, _ = convert_to_aloft_yaml(path)
    data = yaml.safe_load(text)
    assert data["dotenv"] is True and data["environment"] == {"SMTP": "${env:SMTP}"}
    assert "smtp://localhost" not in text  # read from .env by aloft too, never copied
    (path.parent / "aloft.yml").write_text(text)
    _same_services(path, path.parent / "aloft.yml")


def test_warnings_name_the_source_file(write: Write) -> None:
    path = write('{"dev": {"app_function": "a.app", "log_level": "INFO"}}',
                 "zappa_settings.json")
    text, warnings = convert_to_aloft_yaml(path)
    assert "(keys of zappa_settings.json):" in text
    assert warnings == ["`dev.log_level`: set the log level in your app (logging.basicConfig)"]


def test_a_stage_that_drops_parent_keys_is_written_out_and_says_why(write: Write) -> None:
    path = write("""{
        "dev": {"app_function": "a.app", "environment_variables": {"A": "1", "B": "2"}},
        "prod": {"extends": "dev", "environment_variables": {"A": "3"}}
    }""", "zappa_settings.json")
    text, warnings = convert_to_aloft_yaml(path)
    assert "extends" not in yaml.safe_load(text)["stages"]["prod"]
    assert any("`prod.extends`: written out in full" in w and "`environment.B`" in w
               for w in warnings)
    (path.parent / "aloft.yml").write_text(text)
    _same_services(path, path.parent / "aloft.yml")


def test_aloft_yml_reads_dotenv_files(write: Write) -> None:
    path = write("""\
        service: api
        app: app:app
        dotenv: true
        environment:
          DB: ${env:DATABASE_URL}
          MODE: ${env:MODE, 'default'}
        stages:
          dev:
          prod:
            dotenv: [config/prod.env]
        """)
    (path.parent / ".env").write_text("DATABASE_URL=postgres://dev\nMODE=from-file\n")
    (path.parent / ".env.local").write_text("MODE=local\n")
    (path.parent / "config").mkdir()
    (path.parent / "config" / "prod.env").write_text("DATABASE_URL=postgres://prod\n")
    project = load_project(path, env={})
    assert project.service("dev").environment == {"DB": "postgres://dev", "MODE": "local"}
    assert project.service("prod").environment == {"DB": "postgres://prod", "MODE": "default"}
    shell = load_project(path, env={"MODE": "shell"})
    assert shell.service("dev").environment["MODE"] == "shell"  # the environment wins


def test_dotenv_syntax(tmp_path: Path) -> None:
    text = ('# comment\nexport A=1\nB = "two words"\nC=\'${A} kept\'\nD=${A}-x # note\n'
            'E="line\\nbreak"\n\n')
    assert parse_dotenv(text, tmp_path / ".env") == {
        "A": "1", "B": "two words", "C": "${A} kept", "D": "1-x", "E": "line\nbreak"}
    with pytest.raises(ConfigError, match="line 2 is not `NAME=value`"):
        parse_dotenv("A=1\nnot a line\n", tmp_path / ".env")
