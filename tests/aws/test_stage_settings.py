"""What the aws provider applies of the stage model beyond routes and schedules (against moto):
`eventbridge` rules on a bus, `destinations`, a function's own `runtime` and
`tracing`, CloudFormation values in the environment and in event sources."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.errors import NotDeployedError
from tests.aws.conftest import boto

WORKER = {"handler": "w.run", "runtime": "3.11", "tracing": True,
          "events": [{"eventbridge": {"bus": "orders", "pattern": {"source": ["shop.orders"]},
                                      "input_path": "$.detail"}}],
          "destinations": {"on_success": "audit", "on_failure": "failed"}}
# `dead_letter` (Lambda's DeadLetterConfig) is not modelled by moto: tests/unit/aws covers it


def stage(make_service: Callable[..., Service], worker: dict[str, object]) -> Service:
    return make_service(functions={"worker": worker, "audit": {"handler": "w.audit"}},
                        resources={"queues": {"failed": {}}, "topics": {"alerts": {}}})


def test_eventbridge_destinations_dead_letter_runtime_and_tracing(
    provider: AwsProvider, make_service: Callable[..., Service]
) -> None:
    boto("events").create_event_bus(Name="orders")
    svc = stage(make_service, WORKER)
    provider.deploy(svc)
    events = boto("events")
    rule = events.describe_rule(Name="shop-prod-worker-eventbridge", EventBusName="orders")
    assert json.loads(rule["EventPattern"]) == {"source": ["shop.orders"]}
    (target,) = events.list_targets_by_rule(Rule=rule["Name"], EventBusName="orders")["Targets"]
    assert target["Arn"].endswith(":function:shop-prod-worker:prod")
    assert target["InputPath"] == "$.detail"
    lam = boto("lambda")
    conf = lam.get_function_configuration(FunctionName="shop-prod-worker", Qualifier="prod")
    assert conf["Runtime"] == "python3.11" and conf["TracingConfig"]["Mode"] == "Active"
    invoke = lam.get_function_event_invoke_config(FunctionName="shop-prod-worker",
                                                  Qualifier="prod")["DestinationConfig"]
    assert invoke["OnSuccess"]["Destination"].endswith(":function:shop-prod-audit")
    assert invoke["OnFailure"]["Destination"].endswith(":shop-prod-failed")
    doc = boto("iam").get_role_policy(RoleName="shop-prod-lambda",
                                      PolicyName="aloft")["PolicyDocument"]
    policy = json.loads(doc) if isinstance(doc, str) else doc
    actions = {a for st in policy["Statement"] for a in st["Action"]}
    assert {"sqs:SendMessage", "lambda:InvokeFunction", "xray:PutTraceSegments"} <= actions
    assert provider.deploy(svc).plan == []  # read back as deployed: nothing to change
    without = stage(make_service, {k: v for k, v in WORKER.items() if k != "events"})
    provider.deploy(without)
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name="shop-prod-worker-eventbridge", EventBusName="orders")


def test_cloudformation_values_are_resolved_and_exports_read(
    provider: AwsProvider, make_service: Callable[..., Service]
) -> None:
    svc = make_service(functions={"w": {
        "handler": "w.run",
        "environment": {"QUEUE": {"Ref": "Jobs"}, "STREAM": {"Fn::GetAtt": ["Items", "StreamArn"]},
                        "SHARED": {"Fn::ImportValue": "shared-bus"}},
        "events": [{"queue": {"name": {"Fn::GetAtt": ["Jobs", "Arn"]}}}]}},
        resources={"queues": {"Jobs": {}}, "tables": {"Items": {"stream": True}}})
    with pytest.raises(NotDeployedError, match="exports shared-bus"):
        provider.deploy(svc)
    template = {"Resources": {"Q": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {"Bus": {"Value": "the-bus", "Export": {"Name": "shared-bus"}}}}
    boto("cloudformation").create_stack(StackName="shared", TemplateBody=json.dumps(template))
    provider.deploy(svc)
    env = boto("lambda").get_function_configuration(
        FunctionName="shop-prod-w", Qualifier="prod")["Environment"]["Variables"]
    url = boto("sqs").get_queue_url(QueueName="shop-prod-Jobs")["QueueUrl"]
    assert env["QUEUE"].rsplit("/", 1)[-1] == url.rsplit("/", 1)[-1] == "shop-prod-Jobs"
    stream = boto("dynamodb").describe_table(TableName="shop-prod-Items")["Table"]
    assert env["STREAM"] == stream["LatestStreamArn"] and env["SHARED"] == "the-bus"
    (mapping,) = boto("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert mapping["EventSourceArn"].endswith(":shop-prod-Jobs")
    assert provider.deploy(svc).plan == []
