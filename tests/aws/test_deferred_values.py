"""Values read at deploy time on aws: SSM parameters, other stacks' outputs, S3 objects and the
account id (aloft.config.ssm), against moto."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.errors import NotDeployedError
from tests.aws.conftest import REGION, boto


def test_stack_outputs_objects_and_the_account_id(
    provider: AwsProvider, make_service: Callable[..., Service]
) -> None:
    env = {"ACCOUNT": "${aws:accountId}", "QUEUE": "${cf:shared.QueueUrl}",
           "ARN": "arn:aws:sqs:eu-west-1:${aws:accountId}:jobs",
           "KEY": "${s3:config-bucket/api-key}", "MISSING": "${cf:shared.Nope, 'fallback'}"}
    svc = make_service(app="app:app", environment=env)
    with pytest.raises(NotDeployedError, match="output QueueUrl of CloudFormation stack shared"):
        provider.deploy(svc)
    template = {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {"QueueUrl": {"Value": {"Ref": "Q"}}}}
    boto("cloudformation").create_stack(
        StackName="shared", TemplateBody=json.dumps(template))
    s3 = boto("s3")
    s3.create_bucket(Bucket="config-bucket",
                     CreateBucketConfiguration={"LocationConstraint": REGION})
    with pytest.raises(NotDeployedError, match="S3 object s3://config-bucket/api-key"):
        provider.deploy(svc)
    s3.put_object(Bucket="config-bucket", Key="api-key", Body=b"k3y")
    provider.deploy(svc)
    conf = boto("lambda").get_function_configuration(
        FunctionName="shop-prod-app")["Environment"]["Variables"]
    account = boto("sts").get_caller_identity()["Account"]
    assert conf["ACCOUNT"] == account and conf["ARN"] == f"arn:aws:sqs:eu-west-1:{account}:jobs"
    queue_url = boto("cloudformation").describe_stacks(StackName="shared")["Stacks"][0][
        "Outputs"][0]["OutputValue"]
    assert conf["QUEUE"] == queue_url and queue_url
    assert conf["KEY"] == "k3y" and conf["MISSING"] == "fallback"
