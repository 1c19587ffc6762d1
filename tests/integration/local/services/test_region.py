"""A serverless.yml whose provider.region is eu-west-1, deployed to the local cloud: what the
function sees of its region and account is one answer for every spelling (`!Ref AWS::Region`,
`Fn::Sub`, `Fn::Join`, `${aws:region}`), the local cloud's, the same as its AWS_REGION, its
boto3 session's region, its own ARN and the ARNs the local AWS endpoint gives its resources; so
a queue it is granted by an ARN written with any spelling is one it can use."""

from __future__ import annotations

import textwrap
from pathlib import Path

from aloft.config import load_project
from tests.integration.local.cloud_helpers import Cloud, cloud_fixture
from tests.integration.local.cloud_helpers import endpoint_client as aws
from tests.unit.config.test_serverless_region import SERVERLESS, expected

CODE = """
    import os

    import boto3
    from botocore.exceptions import ClientError


    def attempt(call):
        try:
            call()
        except ClientError as exc:
            return exc.response["Error"]["Code"]
        return "ok"


    def probe(event, context):
        sqs = boto3.client("sqs")
        own = sqs.get_queue_attributes(QueueUrl=os.environ["ALOFT_QUEUE_JOBSQUEUE_URL"],
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return {
            "environment": dict(os.environ),
            "session region": boto3.session.Session().region_name,
            "client region": sqs.meta.region_name,
            "function arn": context.invoked_function_arn,
            "own queue arn": own,
            "sent": {name: attempt(lambda: sqs.send_message(QueueUrl=url, MessageBody="m"))
                     for name, url in event["queues"].items()},
        }
"""

cloud = cloud_fixture()


def test_every_spelling_is_the_region_the_function_runs_in(cloud: Cloud, tmp_path: Path) -> None:
    sqs = aws(cloud, "sqs")
    queues = {name: sqs.create_queue(QueueName=name)["QueueUrl"]  # not the service's own
              for name in ("orders-audit", "orders-billing", "orders-shipping", "orders-other")}
    root = tmp_path / "orders"
    root.mkdir()
    (root / "serverless.yml").write_text(textwrap.dedent(SERVERLESS))
    (root / "probe.py").write_text(textwrap.dedent(CODE))
    svc = load_project(root).service("dev")
    assert svc.aws.region == "eu-west-1"
    cloud.provider.deploy(svc)

    out = cloud.provider.invoke(svc, "probe", {"queues": queues})
    assert out.error is None, out.logs
    seen = out.payload
    env = seen["environment"]
    region = env["AWS_REGION"]
    assert region == "us-east-1"  # the local cloud's, whatever provider.region says
    assert {k: env[k] for k in expected("", "")} == expected(region, "000000000000")
    assert seen["session region"] == seen["client region"] == region
    assert seen["function arn"].split(":")[3:5] == [region, "000000000000"]
    # the endpoint's own ARN for the stage's queue is the one every spelling builds
    assert seen["own queue arn"] == env["JOBS_ARN"] == env["JOBS_SUB"]
    assert sqs.get_queue_attributes(QueueUrl=queues["orders-audit"], AttributeNames=[
        "QueueArn"])["Attributes"]["QueueArn"] == env["AUDIT_ARN"]
    # granted by `!Sub`, `${aws:region}` and `Fn::Join` ARNs: usable; the queue no statement
    # names is not
    assert seen["sent"] == {"orders-audit": "ok", "orders-billing": "ok",
                            "orders-shipping": "ok", "orders-other": "AccessDenied"}
