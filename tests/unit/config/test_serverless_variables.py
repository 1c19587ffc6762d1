"""serverless.yml variables as the Serverless Framework v3 resolves them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from aloft.config import load_project
from aloft.config.serverless import INSTANCE_ID
from aloft.errors import ConfigError, ConfigErrors

Write = Callable[..., Path]


def test_provider_defaults_come_first(write: Write) -> None:
    path = write("""\
        service: api
        provider:
          name: aws
          runtime: python3.12
          environment:
            STAGE: ${self:provider.stage}
            STAGE_OPT: ${opt:stage, self:provider.stage}
            REGION: ${opt:region, self:provider.region}
            AWS_REGION_NAME: ${aws:region}
            TABLE: ${self:service}-${sls:stage}
        functions:
          f: {handler: h.f}
        """, "serverless.yml")
    project = load_project(path, env={})
    dev = project.service()
    assert dev.environment == {"STAGE": "dev", "STAGE_OPT": "dev", "REGION": "us-east-1",
                               "AWS_REGION_NAME": "us-east-1", "TABLE": "api-dev"}
    assert dev.aws.region == "us-east-1"  # the Serverless Framework's default region
    # any stage works, as `serverless deploy --stage pr-42`; --region is the region option
    pr = project.service("pr-42", options={"region": "eu-west-3"})
    assert pr.environment["STAGE_OPT"] == "pr-42" and pr.environment["TABLE"] == "api-pr-42"
    assert pr.environment["STAGE"] == "dev"  # provider.stage's own value, as in Serverless
    assert pr.environment["REGION"] == "eu-west-3" and pr.aws.region == "eu-west-3"
    # ${aws:region} is where the stage is deployed: the local cloud (in its region), or AWS
    assert pr.environment["AWS_REGION_NAME"] == "us-east-1"
    on_aws = project.service("pr-42", options={"region": "eu-west-3", "provider": "aws"})
    assert on_aws.environment["AWS_REGION_NAME"] == "eu-west-3"


def test_functions_instance_id_and_account(write: Write) -> None:
    path = write("""\
        service: api
        provider:
          name: aws
          region: eu-west-1
          environment:
            DEBUG: ${strToBool(${env:DEBUG, 'false'})}
            ONE: ${strToBool(1)}
            HOSTS: ${split(${env:HOSTS}, ',')}
            RUN: ${sls:instanceId}
            QUEUE_ARN: arn:aws:sqs:${aws:region}:${aws:accountId}:jobs
        custom:
          hosts: ${split(${env:HOSTS}, ',')}
          first: ${self:custom.hosts.0}
          flag: ${strToBool(${env:DEBUG, 'false'})}
        functions:
          f:
            handler: h.f
            environment:
              FIRST: ${self:custom.first}
              FLAG: ${self:custom.flag}
        """, "serverless.yml")
    svc = load_project(path, env={"HOSTS": "a.test,b.test", "DEBUG": "TRUE"}).service()
    assert svc.functions["f"].environment == {"FIRST": "a.test", "FLAG": "true"}
    env = svc.environment
    assert env["DEBUG"] == "true" and env["ONE"] == "true"
    assert env["RUN"] == INSTANCE_ID and len(INSTANCE_ID) == 16
    # the local cloud's account and region; on aws the provider reads the account at deploy
    assert env["QUEUE_ARN"] == "arn:aws:sqs:us-east-1:000000000000:jobs"
    aws = load_project(path, env={"HOSTS": "a", "DEBUG": "0"}).service(
        options={"provider": "aws"})
    assert aws.environment["QUEUE_ARN"] == "arn:aws:sqs:eu-west-1:${aws:accountId}:jobs"


def test_str_to_bool_refuses_other_text(write: Write) -> None:
    path = write("""\
        service: api
        provider: {name: aws, environment: {A: "${strToBool(yes)}"}}
        functions: {f: {handler: h.f}}
        """, "serverless.yml")
    with pytest.raises(ConfigError, match="strToBool takes true, false, 1 or 0, not 'yes'"):
        load_project(path, env={}).service()


def test_cf_and_s3_say_what_is_missing_locally(write: Write) -> None:
    path = write("""\
        service: api
        provider:
          name: aws
          environment:
            URL: ${cf:shared-${sls:stage}.ApiUrl}
        functions: {f: {handler: h.f}}
        """, "serverless.yml")
    project = load_project(path, env={})
    with pytest.raises(ConfigError) as info:
        project.service()
    err = info.value
    assert "`${cf:shared-dev.ApiUrl}` reads output ApiUrl of CloudFormation stack shared-dev, " \
           "which exists only on AWS" in err.message
    assert err.where is not None and err.where.line == 5
    assert err.fix is not None and "${cf:shared-dev.ApiUrl, 'local value'}" in err.fix
    assert project.service(options={"provider": "aws"}).environment == {
        "URL": "${cf:shared-dev.ApiUrl}"}

    path = write("""\
        service: api
        provider:
          name: aws
          environment:
            URL: ${cf:shared.ApiUrl, 'http://localhost:9000'}
            KEY: ${s3:config/key, env:KEY, 'none'}
        functions: {f: {handler: h.f}}
        """, "serverless.yml")
    project = load_project(path, env={"KEY": "k"})
    assert project.service().environment == {"URL": "http://localhost:9000", "KEY": "k"}
    assert project.service(options={"provider": "aws"}).environment == {
        "URL": "${cf:shared.ApiUrl, 'http://localhost:9000'}", "KEY": "${s3:config/key, 'k'}"}


def test_options_aloft_does_not_have_are_not_suggested(write: Write) -> None:
    path = write("""\
        service: api
        provider: {name: aws, environment: {A: "${opt:region}", B: "${opt:color}"}}
        functions: {f: {handler: h.f}}
        """, "serverless.yml")
    with pytest.raises(ConfigError) as info:
        load_project(path, env={}).service()
    assert "no region option was given" in info.value.message
    assert info.value.fix is not None and "${aws:region}" in info.value.fix
    assert "--region" not in info.value.fix
    path.write_text(path.read_text().replace("${opt:region}", "x"))
    with pytest.raises(ConfigError) as info:
        load_project(path, env={}).service()
    assert "aloft has no --color option" in info.value.message
    assert info.value.fix == "give a default: `${opt:color, 'value'}`"


def test_use_dotenv_reads_the_stage_file_for_env_variables(write: Write) -> None:
    path = write("""\
        service: api
        useDotenv: true
        provider:
          name: aws
          environment:
            DB: ${env:DATABASE_URL}
            FROM_SHELL: ${env:SHELL_ONLY, 'unset'}
        functions: {f: {handler: h.f}}
        """, "serverless.yml")
    (path.parent / ".env").write_text("DATABASE_URL=postgres://base\n")
    (path.parent / ".env.prod").write_text("# prod\nexport DATABASE_URL='postgres://prod'\n")
    project = load_project(path, env={"SHELL_ONLY": "yes"})
    assert project.service().environment == {"DB": "postgres://base", "FROM_SHELL": "yes"}
    assert project.service("prod").environment["DB"] == "postgres://prod"
    # the process environment wins over the files
    assert load_project(path, env={"DATABASE_URL": "x"}).service("prod").environment["DB"] == "x"


def test_file_variables_with_keys_nested_and_stage_files(write: Write) -> None:
    path = write("""\
        service: api
        custom: ${file(./config/${sls:stage}.yml)}
        provider:
          name: aws
          memorySize: ${self:custom.memory}
          environment:
            NAME: ${file(./config/common.json):names.${sls:stage}, 'x'}
        functions: {f: {handler: h.f}}
        """, "serverless.yml")
    (path.parent / "config").mkdir()
    (path.parent / "config" / "dev.yml").write_text("memory: 256\n")
    (path.parent / "config" / "prod.yml").write_text("memory: 2048\n")
    (path.parent / "config" / "common.json").write_text('{"names": {"prod": "live"}}')
    project = load_project(path, env={})
    dev, prod = project.service(), project.service("prod")
    assert (dev.memory, dev.environment["NAME"]) == (256, "x")
    assert (prod.memory, prod.environment["NAME"]) == (2048, "live")


def test_every_unresolved_variable_is_reported_at_once(write: Write) -> None:
    """`aloft validate` reports every problem: three values that cannot be resolved are three
    errors, each at its own line; a value referring to one of them adds no error of its own."""
    path = write("""\
        service: api
        provider:
          name: aws
          environment:
            A: ${env:ALOFT_TEST_UNSET_A}
            B: ${self:custom.missing}
            C: ${env:ALOFT_TEST_UNSET_C}
            D: ${self:provider.environment.A}
        functions:
          f: {handler: h.f}
        """, "serverless.yml")
    with pytest.raises(ConfigErrors) as caught:
        load_project(path, env={}).service()
    errors = caught.value.errors
    assert [e.where.line for e in errors if e.where] == [5, 6, 7]
    assert "ALOFT_TEST_UNSET_A" in errors[0].message and "custom.missing" in errors[1].message
    assert "ALOFT_TEST_UNSET_C" in errors[2].message


def test_one_unresolved_variable_is_one_error(write: Write) -> None:
    path = write("""\
        service: api
        provider:
          name: aws
          environment:
            A: ${env:ALOFT_TEST_UNSET_A}
        functions:
          f: {handler: h.f}
        """, "serverless.yml")
    with pytest.raises(ConfigError) as caught:
        load_project(path, env={}).service()
    assert not isinstance(caught.value, ConfigErrors)
    assert caught.value.where is not None and caught.value.where.line == 5


def test_what_refers_to_an_unresolved_value_adds_no_error(write: Write) -> None:
    """Values that refer into one that failed (a missing file's keys, an unset list's items, a
    function of it) are not reported: only the value that failed is, with its own cause."""
    path = write("""\
        service: api
        custom: ${file(./missing.yml)}
        other:
          list: ${env:ALOFT_TEST_UNSET_LIST}
        provider:
          name: aws
          environment:
            A: ${self:custom.key}
            B: ${self:custom.key.deeper}
            C: ${self:other.list.0}
            D: prefix-${self:custom}-suffix
            E: ${strToBool(${self:other.list})}
        functions:
          f: {handler: h.f}
        """, "serverless.yml")
    with pytest.raises(ConfigErrors) as caught:
        load_project(path, env={}).service()
    errors = caught.value.errors
    assert [e.where.line for e in errors if e.where] == [2, 4]
    assert "missing.yml" in errors[0].message and "ALOFT_TEST_UNSET_LIST" in errors[1].message
