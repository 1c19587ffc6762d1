"""Every spelling of the stage's region and account in a serverless.yml (`!Ref AWS::Region`,
`${AWS::Region}` in `Fn::Sub`, `Fn::Join` pieces, `${aws:region}`, and the same for the account,
partition, URL suffix and stack name) gives one value per provider: on aws the region the stage
is deployed to (provider.region, or the region option), on the local cloud its own region,
which is also the function's AWS_REGION and the region of every ARN its endpoint checks (pure:
no cloud, no AWS; tests/integration/local/services/test_region.py runs it for real)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from aloft.aws.template import template
from aloft.config import convert_to_aloft_yaml, load_project
from aloft.config.models import Service
from aloft.local.deploy.versions import function_environment
from aloft.local.services.account import local_stage
from aloft.local.services.actions import queue_arn
from aloft.local.services.auth import function_grants, is_allowed
from tests.aws_stage import FakeBuild

Write = Callable[..., Path]

SERVERLESS = """\
    service: orders
    provider:
      name: aws
      runtime: python3.11
      region: eu-west-1
      environment:
        REGION_REF: !Ref AWS::Region
        REGION_VAR: ${aws:region}
        REGION_SUB: !Sub '${AWS::Region}'
        REGION_JOIN: !Join ['', [!Ref AWS::Region]]
        ACCOUNT_REF: !Ref AWS::AccountId
        ACCOUNT_VAR: ${aws:accountId}
        PARTITION: !Ref AWS::Partition
        URL_SUFFIX: !Ref AWS::URLSuffix
        STACK: !Ref AWS::StackName
        AUDIT_ARN: !Sub 'arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:orders-audit'
        BILLING_ARN: arn:aws:sqs:${aws:region}:${aws:accountId}:orders-billing
        SHIPPING_ARN: !Join [':', [arn, aws, sqs, !Ref AWS::Region, !Ref AWS::AccountId,
                                   orders-shipping]]
        # with a resource of the service: resolved when the stage is deployed
        JOBS_SUB: !Sub
          'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${JobsQueue.QueueName}'
        JOBS_ARN: !GetAtt JobsQueue.Arn
        JOBS_HOST: !Sub 'sqs.${AWS::Region}.${AWS::URLSuffix}/${JobsQueue.QueueName}'
        JOBS_JOIN: !Join ['/', [!Ref AWS::StackName, !Ref AWS::Region, !GetAtt JobsQueue.QueueName]]
      iam:
        role:
          statements:
            - Effect: Allow
              Action: sqs:SendMessage
              Resource: !Sub 'arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:orders-audit'
            - Effect: Allow
              Action: sqs:SendMessage
              Resource: arn:aws:sqs:${aws:region}:${aws:accountId}:orders-billing
            - Effect: Allow
              Action: sqs:SendMessage
              Resource:
                Fn::Join: [':', [arn, aws, sqs, {Ref: AWS::Region}, {Ref: AWS::AccountId},
                                 orders-shipping]]
    functions:
      probe:
        handler: probe.probe
    resources:
      Resources:
        JobsQueue:
          Type: AWS::SQS::Queue
          Properties:
            QueueName: ${self:service}-${sls:stage}-jobs
    """

REGIONS = ("REGION_REF", "REGION_VAR", "REGION_SUB", "REGION_JOIN")


def expected(region: str, account: str) -> dict[str, str]:
    """The environment every spelling must give in `region` and `account`."""
    jobs = f"arn:aws:sqs:{region}:{account}:orders-dev-jobs"
    return {
        **dict.fromkeys(REGIONS, region),
        "ACCOUNT_REF": account, "ACCOUNT_VAR": account, "PARTITION": "aws",
        "URL_SUFFIX": "amazonaws.com", "STACK": "orders-dev",
        "AUDIT_ARN": f"arn:aws:sqs:{region}:{account}:orders-audit",
        "BILLING_ARN": f"arn:aws:sqs:{region}:{account}:orders-billing",
        "SHIPPING_ARN": f"arn:aws:sqs:{region}:{account}:orders-shipping",
        "JOBS_SUB": jobs, "JOBS_ARN": jobs,
        "JOBS_HOST": f"sqs.{region}.amazonaws.com/orders-dev-jobs",
        "JOBS_JOIN": f"orders-dev/{region}/orders-dev-jobs",
    }


def local_environment(service: Service, tmp_path: Path) -> dict[str, str]:
    """What the function's instance sees on the local cloud."""
    stage = local_stage(service, "http://127.0.0.1:4566")
    return function_environment(stage, stage.function("probe"), 1, 8750, tmp_path)


def stack_environment(service: Service, region: str, account: str) -> dict[str, str]:
    """The function's environment in the CloudFormation template (`aloft template`) as the
    stack has it once created in `region` of `account`: `Fn::Sub` of pseudo parameters."""
    pseudo = {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws",
              "AWS::URLSuffix": "amazonaws.com"}

    def value(v: Any) -> str:
        if isinstance(v, str):
            return v
        assert set(v) == {"Fn::Sub"} and isinstance(v["Fn::Sub"], str), v
        return re.sub(r"\$\{([^}]+)\}", lambda m: pseudo[m.group(1)], v["Fn::Sub"])

    tpl = template(service, FakeBuild())
    fn = next(r for r in tpl["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
              and r["Properties"]["Handler"] != "aloft.runtime.handler.warm")
    return {k: value(v) for k, v in fn["Properties"]["Environment"]["Variables"].items()}


def test_local_every_spelling_is_the_local_clouds_region(write: Write, tmp_path: Path) -> None:
    svc = load_project(write(SERVERLESS, "serverless.yml"), env={}).service()
    assert svc.provider == "local" and svc.aws.region == "eu-west-1"  # where aws would deploy
    env = local_environment(svc, tmp_path)
    assert {k: env[k] for k in expected("", "")} == expected("us-east-1", "000000000000")
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["ALOFT_QUEUE_JOBSQUEUE_ARN"] == env["JOBS_ARN"]
    # the region option is where aws would deploy: the local cloud stays in its own
    moved = load_project(write(SERVERLESS, "serverless.yml"), env={}).service(
        options={"region": "ap-south-1"})
    again = local_environment(moved, tmp_path)
    assert {k: again[k] for k in (*expected("", ""), "AWS_REGION")} == {
        **expected("us-east-1", "000000000000"), "AWS_REGION": "us-east-1"}


def test_local_grants_written_with_any_spelling_match_the_endpoints_arns(write: Write) -> None:
    svc = load_project(write(SERVERLESS, "serverless.yml"), env={}).service()
    stage = local_stage(svc, "http://127.0.0.1:4566")
    grants = function_grants(stage.function("probe"))
    # the ARN the local endpoint checks a SendMessage against (aloft.local.services.actions)
    for queue in ("orders-audit", "orders-billing", "orders-shipping", "orders-dev-jobs"):
        assert is_allowed(grants, "sqs:SendMessage", queue_arn(queue)), queue
    assert not is_allowed(grants, "sqs:SendMessage", queue_arn("orders-other"))


def test_aws_every_spelling_is_the_stages_region(write: Write) -> None:
    project = load_project(write(SERVERLESS, "serverless.yml"), env={})
    svc = project.service(options={"provider": "aws"})
    assert svc.aws.region == "eu-west-1"  # the region the provider deploys to
    env = stack_environment(svc, "eu-west-1", "123456789012")
    assert {k: env[k] for k in expected("", "")} == expected("eu-west-1", "123456789012")
    # the region option (`--region`) moves the stage, and every spelling with it
    moved = project.service(options={"provider": "aws", "region": "ap-south-1"})
    assert moved.aws.region == "ap-south-1"
    env = stack_environment(moved, "ap-south-1", "123456789012")
    assert {k: env[k] for k in expected("", "")} == expected("ap-south-1", "123456789012")


def test_aloft_yml_spellings_follow_each_stages_provider(write: Write, tmp_path: Path) -> None:
    path = write("""\
        service: orders
        aws: {region: eu-west-1}
        environment:
          REGION_VAR: ${aws:region}
          REGION_SUB: !Sub '${AWS::Region}'
          BILLING_ARN: arn:aws:sqs:${aws:region}:${aws:accountId}:orders-billing
        functions:
          probe: {handler: probe.probe}
        stages:
          dev: {}
          prod: {provider: aws}
        """)
    project = load_project(path, env={})
    env = local_environment(project.service("dev"), tmp_path)
    assert env["REGION_VAR"] == env["REGION_SUB"] == env["AWS_REGION"] == "us-east-1"
    assert env["BILLING_ARN"] == "arn:aws:sqs:us-east-1:000000000000:orders-billing"
    prod = stack_environment(project.service("prod"), "eu-west-1", "123456789012")
    assert prod["REGION_VAR"] == prod["REGION_SUB"] == "eu-west-1"
    assert prod["BILLING_ARN"] == "arn:aws:sqs:eu-west-1:123456789012:orders-billing"


def test_import_keeps_the_region_per_provider(write: Write, tmp_path: Path) -> None:
    """`aloft import` writes the region as `${aws:region}`, not the value of the provider the
    file was read for: the aloft.yml gives the same values on both providers."""
    original = write(SERVERLESS.replace("""
        handler: probe.probe
""", """
        handler: probe.probe
        environment:
          SIZE: !If [InVirginia, large, small]
""").replace("""
      Resources:
""", """
      Conditions:
        InVirginia: !Equals [!Ref AWS::Region, us-east-1]
      Resources:
"""), "serverless.yml")
    text, _ = convert_to_aloft_yaml(original)
    data = yaml.safe_load(text)
    assert data["aws"] == {"region": "eu-west-1"}  # where `provider: aws` deploys
    assert data["environment"]["REGION_VAR"] == data["environment"]["REGION_REF"] == \
        "${aws:region}"
    assert "eu-west-1" not in str({k: v for k, v in data.items() if k != "aws"})
    converted = tmp_path / "imported" / "aloft.yml"
    converted.parent.mkdir()
    converted.write_text(text)
    for options in ({}, {"provider": "aws"}):
        ours = load_project(converted, env={}).service(options=options)
        theirs = load_project(original, env={}).service(options=options)
        assert ours.environment == theirs.environment, options
        assert ours.permissions == theirs.permissions, options
        sizes = ours.functions["probe"].environment, theirs.functions["probe"].environment
        # a condition is decided when converting, for the stages' provider (local)
        assert sizes == ({"SIZE": "large"}, {"SIZE": "small" if options else "large"}), options
