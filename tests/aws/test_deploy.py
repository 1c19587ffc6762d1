"""Deploy, update, rollback and undeploy against moto, asserting the resources AWS holds."""

from __future__ import annotations

import json
from collections.abc import Callable

import boto3
import pytest

from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.errors import NotDeployedError, UsageError
from aloft.provider import PlanStep
from aloft.stage.names import function_name
from tests.aws.conftest import Builds, boto
from tests.aws_stage import FULL


@pytest.fixture
def full(make_service: Callable[..., Service]) -> Service:
    return make_service(**FULL)


def ops(plan: list[PlanStep]) -> list[str]:
    return [step.action for step in plan]


def test_deploy_creates_the_whole_stage(provider: AwsProvider, full: Service) -> None:
    result = provider.deploy(full)
    assert result.version == 1 and result.functions == {"app": 1, "worker": 1, "hello": 1}
    lam = boto("lambda")

    conf = lam.get_function_configuration(FunctionName="shop-prod-worker")
    assert conf["Runtime"] == "python3.12"
    assert conf["Handler"] == "aloft.runtime.handler.handler"
    assert (conf["MemorySize"], conf["Timeout"]) == (256, 60)
    env = conf["Environment"]["Variables"]
    assert env["ALOFT_FUNCTION"] == "worker" and env["MODE"] == "prod"
    assert env["ALOFT_QUEUE_JOBS_URL"].endswith("/shop-prod-jobs")
    assert env["ALOFT_TABLE_ITEMS"] == "shop-prod-items"
    assert env["ALOFT_BUCKET_UPLOADS"] == "shop-prod-uploads"
    assert env["ALOFT_TOPIC_ALERTS_ARN"].endswith(":shop-prod-alerts")
    assert env["ALOFT_PARAMETER_API_KEY"] == "/shop/prod/api-key"
    assert [x["Arn"].split(":")[-2] for x in conf["Layers"]] == ["shop-prod-deps"]
    assert conf["Role"].endswith(":role/shop-prod-lambda")
    assert lam.get_alias(FunctionName="shop-prod-worker", Name="prod")["FunctionVersion"] == "1"
    got = lam.get_function(FunctionName="shop-prod-worker")
    assert got["Concurrency"]["ReservedConcurrentExecutions"] == 5
    assert got["Tags"]["aloft:stage"] == "prod"
    inv = lam.get_function_event_invoke_config(FunctionName="shop-prod-worker", Qualifier="prod")
    assert (inv["MaximumRetryAttempts"], inv["MaximumEventAgeInSeconds"]) == (1, 3600)
    assert inv["DestinationConfig"]["OnFailure"]["Destination"].endswith(":shop-prod-aloft-failed")

    # HTTP API: the app on $default, `hello` on its own route, both to the stage alias.
    api = boto("apigatewayv2").get_apis()["Items"][0]
    assert api["Name"] == "shop-prod" and api["CorsConfiguration"]["AllowOrigins"] == ["*"]
    assert result.url == f"https://{api['ApiId']}.execute-api.eu-west-1.amazonaws.com/"
    integrations = {i["IntegrationId"]: i for i in
                    boto("apigatewayv2").get_integrations(ApiId=api["ApiId"])["Items"]}
    routes = {r["RouteKey"]: integrations[r["Target"].split("/")[1]]["IntegrationUri"]
              for r in boto("apigatewayv2").get_routes(ApiId=api["ApiId"])["Items"]}
    assert routes["$default"].endswith("function:shop-prod-app:prod")
    assert routes["GET /hello/{name}"].endswith("function:shop-prod-hello:prod")

    # Schedules and keep_warm: EventBridge rules targeting the alias.
    ev = boto("events")
    warm = ev.list_targets_by_rule(Rule="shop-prod-keep-warm")["Targets"][0]
    assert json.loads(warm["Input"]) == {"aloft": "keep_warm"}
    assert warm["Arn"].endswith("function:shop-prod-app:prod")
    tick = ev.describe_rule(Name="shop-prod-worker-schedule")
    assert tick["ScheduleExpression"] == "rate(5 minutes)" and tick["State"] == "ENABLED"
    assert json.loads(ev.list_targets_by_rule(Rule=tick["Name"])["Targets"][0]["Input"]) == {
        "job": "tick"}

    # Event source mappings: SQS and the DynamoDB stream, reporting partial failures.
    maps = {m["EventSourceArn"].split(":")[5].split("/")[0]: m for m in
            lam.list_event_source_mappings()["EventSourceMappings"]}
    assert maps["shop-prod-jobs"]["BatchSize"] == 5
    assert maps["shop-prod-jobs"]["MaximumBatchingWindowInSeconds"] == 2
    assert maps["shop-prod-jobs"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert maps["table"]["BatchSize"] == 50

    # Queue redrive, SNS subscription with its filter, S3 notification with prefix/suffix.
    sqs = boto("sqs")
    url = sqs.get_queue_url(QueueName="shop-prod-jobs")["QueueUrl"]
    redrive = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"]["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(":shop-prod-jobs-dlq")
    assert int(redrive["maxReceiveCount"]) == 4
    sub = boto("sns").list_subscriptions()["Subscriptions"][0]
    assert sub["Protocol"] == "lambda" and sub["Endpoint"].endswith("shop-prod-worker:prod")
    attrs = boto("sns").get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])
    assert json.loads(attrs["Attributes"]["FilterPolicy"]) == {"kind": ["urgent"]}
    note = boto("s3").get_bucket_notification_configuration(Bucket="shop-prod-uploads")
    cfg = note["LambdaFunctionConfigurations"][0]
    assert cfg["LambdaFunctionArn"].endswith("shop-prod-worker:prod")
    assert {r["Name"].lower(): r["Value"] for r in cfg["Filter"]["Key"]["FilterRules"]} == {
        "prefix": "in/", "suffix": ".csv"}
    ssm = boto("ssm").get_parameter(Name="/shop/prod/api-key", WithDecryption=True)
    assert ssm["Parameter"]["Type"] == "SecureString" and ssm["Parameter"]["Value"] == "s3cret"

    # Invoke permissions on the alias for each service that triggers it.
    policy = json.loads(lam.get_policy(FunctionName="shop-prod-worker", Qualifier="prod")[
        "Policy"])
    principals = sorted(st["Principal"]["Service"] for st in policy["Statement"])
    assert principals == ["events.amazonaws.com", "s3.amazonaws.com", "sns.amazonaws.com"]

    # The deployment bucket: versioned, encrypted, public access blocked.
    s3 = boto("s3")
    bucket = "aloft-shop-prod-123456789012-eu-west-1"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    state = json.loads(s3.get_object(Bucket=bucket, Key="aloft/shop/prod/state.json")[
        "Body"].read())
    assert state["releases"][0]["functions"] == {"app": "1", "worker": "1", "hello": "1"}


def test_role_policy_is_least_privilege(provider: AwsProvider, full: Service) -> None:
    provider.deploy(full)
    doc = boto("iam").get_role_policy(RoleName="shop-prod-lambda", PolicyName="aloft")[
        "PolicyDocument"]
    by_sid = {st["Sid"]: st for st in doc["Statement"]}
    assert by_sid["Logs"]["Resource"] == sorted(
        f"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/shop-prod-{n}:*"
        for n in ("app", "hello", "worker"))
    assert by_sid["Queues"]["Resource"] == [
        "arn:aws:sqs:eu-west-1:123456789012:shop-prod-jobs"]
    assert by_sid["Tables"]["Resource"][0] == "arn:aws:dynamodb:eu-west-1:123456789012:" \
                                               "table/shop-prod-items"
    params = by_sid["Parameters"]["Resource"]
    assert "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/db-password" in params
    assert by_sid["Decrypt"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "ssm.eu-west-1.amazonaws.com"}}
    key = boto("kms").describe_key(KeyId="alias/aloft/shop-prod")["KeyMetadata"]
    assert by_sid["Decrypt"]["Resource"] == [key["Arn"]]  # the stage's key, not key/*
    assert boto("ssm").get_parameter(Name="/shop/prod/api-key")["Parameter"][
        "Type"] == "SecureString"
    assert by_sid["User0"]["Action"] == ["s3:GetObject"]
    assert not any(st["Resource"] == ["*"] and st["Sid"] != "User0" for st in doc["Statement"])


def test_redeploy_without_changes_plans_nothing(provider: AwsProvider, full: Service) -> None:
    provider.deploy(full)
    assert provider.deploy(full, plan_only=True).plan == []
    again = provider.deploy(full)
    assert again.plan == [] and again.version == 1 and again.changed is False
    assert again.functions == {"app": 1, "worker": 1, "hello": 1}
    assert again.url is not None and again.url.startswith("https://")
    assert [r["release"] for r in provider.status(full).report["releases"]] == [1]  # none recorded


def test_code_only_update_uploads_only_the_code(
    provider: AwsProvider, full: Service, builds: Builds, clients: list[AwsClient]
) -> None:
    provider.deploy(full)
    builds.code = "def handler(event, context):\n    return {'ok': 2}\n"
    result = provider.deploy(full)
    assert set(ops(result.plan)) == {"UploadObject", "UpdateFunctionCode", "PublishVersion",
                                     "HealthCheck", "UpdateAlias", "WriteState"}
    uploads = [s for s in result.plan if s.action == "UploadObject"]
    assert len(uploads) == 1 and "/code/" in uploads[0].resource
    assert result.version == 2 and result.functions == {"app": 2, "worker": 2, "hello": 2}
    client = clients[-1]
    code_size = uploads[0].fields["size"]
    state_size = client.bytes_uploaded - code_size
    assert 0 < state_size < 4096  # the code zip and the small state object, nothing else
    assert "lambda.PublishLayerVersion" not in client.calls
    lam = boto("lambda")
    assert lam.get_alias(FunctionName="shop-prod-app", Name="prod")["FunctionVersion"] == "2"


def test_config_change_updates_configuration(
    provider: AwsProvider, make_service: Callable[..., Service]
) -> None:
    provider.deploy(make_service(app="app:app"))
    result = provider.deploy(make_service(app="app:app", memory=1024, timeout=20))
    assert ops(result.plan)[:2] == ["UpdateFunctionConfiguration", "PublishVersion"]
    conf = boto("lambda").get_function_configuration(FunctionName="shop-prod-app",
                                                     Qualifier="prod")
    assert (conf["MemorySize"], conf["Timeout"]) == (1024, 20)


def test_rollback_points_the_alias_back(
    provider: AwsProvider, make_service: Callable[..., Service], builds: Builds
) -> None:
    full = make_service(app="app:app", functions={"worker": {"handler": "w.w"},
                                                  "hello": {"handler": "h.h"}})
    provider.deploy(full)
    builds.code = "v2"
    provider.deploy(full)
    builds.code = "v3"
    provider.deploy(full)
    lam = boto("lambda")
    assert lam.get_alias(FunctionName="shop-prod-app", Name="prod")["FunctionVersion"] == "3"
    back = provider.rollback(full, 2)
    assert back.functions == {"app": 1, "worker": 1, "hello": 1} and back.version == 4
    assert lam.get_alias(FunctionName="shop-prod-app", Name="prod")["FunctionVersion"] == "1"
    with pytest.raises(NotDeployedError, match="cannot roll back"):
        provider.rollback(full, 10)

    # --to: a release by its number (a rollback records release 4, a copy of release 1)
    assert [r["release"] for r in provider.status(full).report["releases"]] == [1, 2, 3, 4]
    same = provider.rollback(full, to=4)
    assert (same.changed, same.version) == (False, 4)
    to3 = provider.rollback(full, to=3)
    assert to3.changed and to3.version == 5 and to3.functions == {"app": 3, "worker": 3,
                                                                   "hello": 3}
    assert lam.get_alias(FunctionName="shop-prod-app", Name="prod")["FunctionVersion"] == "3"
    # release 5 repeats release 3: going back to 3 again changes nothing and records nothing
    again = provider.rollback(full, to=3)
    assert (again.changed, again.version, again.plan) == (False, 5, [])
    assert again.functions == {"app": 3, "worker": 3, "hello": 3}
    assert [r["release"] for r in provider.status(full).report["releases"]] == [1, 2, 3, 4, 5]
    with pytest.raises(UsageError) as unknown:
        provider.rollback(full, to=9)
    assert unknown.value.message == "no release 9 to roll back to"
    assert unknown.value.fix is not None and "releases kept: 1, 2, 3, 4, 5" in unknown.value.fix


def test_removed_things_are_deleted(
    provider: AwsProvider, full: Service, make_service: Callable[..., Service]
) -> None:
    provider.deploy(full)
    slim = make_service(app="app:app")
    result = provider.deploy(slim)
    assert "DeleteFunction" in ops(result.plan)
    names = [f["FunctionName"] for f in boto("lambda").list_functions()["Functions"]]
    assert names == ["shop-prod-app"]
    assert boto("events").list_rules()["Rules"] == []
    assert boto("lambda").list_event_source_mappings()["EventSourceMappings"] == []
    assert [q.rsplit("/", 1)[1] for q in boto("sqs").list_queues()["QueueUrls"]] == [
        "shop-prod-aloft-failed"]
    assert boto("dynamodb").list_tables()["TableNames"] == []


def test_undeploy_leaves_nothing(provider: AwsProvider, full: Service) -> None:
    provider.deploy(full)
    provider.undeploy(full)
    lam = boto("lambda")
    assert lam.list_functions()["Functions"] == []
    assert lam.list_layer_versions(LayerName="shop-prod-deps")["LayerVersions"] == []
    assert lam.list_event_source_mappings()["EventSourceMappings"] == []
    assert boto("iam").list_roles()["Roles"] == []
    assert boto("apigatewayv2").get_apis()["Items"] == []
    assert boto("events").list_rules()["Rules"] == []
    assert boto("s3").list_buckets()["Buckets"] == []
    assert boto("sqs").list_queues().get("QueueUrls", []) == []
    assert boto("sns").list_topics()["Topics"] == []
    assert boto("sns").list_subscriptions()["Subscriptions"] == []
    assert boto("dynamodb").list_tables()["TableNames"] == []
    assert boto("ssm").describe_parameters()["Parameters"] == []
    assert boto("logs").describe_log_groups()["logGroups"] == []
    with pytest.raises(NotDeployedError):
        provider.undeploy(full)


def test_rest_api(provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    svc = make_service(app="app:app", aws={"region": "eu-west-1", "api": "rest"},
                       functions={"hello": {"handler": "h.h", "events": [{"http": "POST /hi"}]}})
    result = provider.deploy(svc)
    apigw = boto("apigateway")
    api = apigw.get_rest_apis()["items"][0]
    assert result.url == f"https://{api['id']}.execute-api.eu-west-1.amazonaws.com/prod/"
    resources = {r["path"]: r for r in apigw.get_resources(restApiId=api["id"])["items"]}
    assert {"/", "/{proxy+}", "/hi"} <= set(resources)
    integ = apigw.get_integration(restApiId=api["id"], resourceId=resources["/hi"]["id"],
                                  httpMethod="POST")
    assert integ["type"] == "AWS_PROXY" and "function:shop-prod-hello:prod/" in integ["uri"]
    assert [s["stageName"] for s in apigw.get_stages(restApiId=api["id"])["item"]] == ["prod"]
    assert provider.deploy(svc).plan == []


def test_function_url(provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    svc = make_service(app="app:app", aws={"region": "eu-west-1", "api": "url"}, cors=True)
    result = provider.deploy(svc)
    url = boto("lambda").get_function_url_config(FunctionName="shop-prod-app", Qualifier="prod")
    assert url["AuthType"] == "NONE" and result.url == url["FunctionUrl"]
    assert provider.status(svc).report["functions"]["app"]["url"] == url["FunctionUrl"]
    assert boto("apigatewayv2").get_apis()["Items"] == []
    assert provider.deploy(svc).plan == []


def test_routes_change_in_place(provider: AwsProvider,
                                make_service: Callable[..., Service]) -> None:
    one = {"a": {"handler": "h.a", "events": [{"http": "GET /a"}]}}
    two = {**one, "b": {"handler": "h.b", "events": [{"http": "GET /b"}]}}
    first = provider.deploy(make_service(functions=one))
    second = provider.deploy(make_service(functions=two))
    assert "UpdateHttpApi" in ops(second.plan) and first.url == second.url
    api_id = boto("apigatewayv2").get_apis()["Items"][0]["ApiId"]
    keys = sorted(r["RouteKey"] for r in boto("apigatewayv2").get_routes(ApiId=api_id)["Items"])
    assert keys == ["GET /a", "GET /b"]


def test_schedule_and_unschedule(provider: AwsProvider, full: Service) -> None:
    provider.deploy(full)
    assert provider.schedule(full, False, ["worker"]) == ["shop-prod-worker-schedule"]
    assert boto("events").describe_rule(Name="shop-prod-worker-schedule")["State"] == "DISABLED"
    assert boto("events").describe_rule(Name="shop-prod-keep-warm")["State"] == "ENABLED"
    assert sorted(provider.schedule(full, True)) == ["shop-prod-keep-warm",
                                                     "shop-prod-worker-schedule"]
    assert boto("events").describe_rule(Name="shop-prod-worker-schedule")["State"] == "ENABLED"


def test_status_and_invoke(provider: AwsProvider, full: Service) -> None:
    with pytest.raises(NotDeployedError):
        provider.status(full)
    provider.deploy(full)
    status = provider.status(full).report
    assert status["functions"]["worker"]["version"] == "1"
    assert status["schedules"]["shop-prod-keep-warm"] == "enabled"
    out = provider.invoke(full, "worker", {"x": 1})
    assert out.error is None
    assert provider.invoke(full, "worker", {"x": 1}, asynchronous=True).payload is None


def test_logs_read_the_function_log_group(provider: AwsProvider, full: Service) -> None:
    provider.deploy(full)
    logs = boto("logs")
    group = "/aws/lambda/shop-prod-worker"
    logs.create_log_stream(logGroupName=group, logStreamName="s1")
    import time
    now = int(time.time() * 1000)
    rid = "0f6a1c2e-1111-2222-3333-444455556666"
    logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=[
        {"timestamp": now, "message": f"START RequestId: {rid} Version: 1"},
        {"timestamp": now + 1, "message": "processing job 7"}])
    lines = list(provider.logs(full, function="worker", since=now / 1000 - 5))
    assert [x.text for x in lines] == [f"START RequestId: {rid} Version: 1", "processing job 7"]
    assert lines[0].request_id == rid and lines[0].function == "worker"
    assert list(provider.logs(full, function="app", since=now / 1000 - 5)) == []


EXAMPLES = __import__("pathlib").Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir()
                                           if (p / "aloft.yml").exists()))
def test_every_example_deploys_and_undeploys(provider: AwsProvider, example: str) -> None:
    from aloft.config import load_project
    from aloft.plugins.loading import section_loader  # examples/plugin has a plugin section

    services = load_project(EXAMPLES / example).services(
        sections=section_loader(EXAMPLES / example))
    service = next(iter(services.values())).model_copy(
        update={"provider": "aws", "aws": Service.model_fields["aws"].default_factory()})
    result = provider.deploy(service)
    lam = boto("lambda")
    for name in service.all_function_names():
        physical = function_name(service.service, service.stage, name)
        conf = lam.get_function_configuration(FunctionName=physical, Qualifier=service.stage)
        assert conf["Environment"]["Variables"]["ALOFT_FUNCTION"] == name
        assert conf["MemorySize"] == service.function(name).memory
        assert result.functions[name] == 1
    assert provider.deploy(service).plan == []
    provider.undeploy(service)
    assert lam.list_functions()["Functions"] == []
    assert boto("s3").list_buckets()["Buckets"] == []


def test_plan_only_changes_nothing(provider: AwsProvider, full: Service) -> None:
    result = provider.deploy(full, plan_only=True)
    assert result.version == 0 and result.url is None
    assert ops(result.plan)[0] == "CreateDeploymentBucket" and ops(result.plan)[-1] == "WriteState"
    assert boto("s3").list_buckets()["Buckets"] == []
    assert boto("lambda").list_functions()["Functions"] == []
    assert boto("iam").list_roles()["Roles"] == []


def test_ssm_values_are_resolved_at_deploy(
    provider: AwsProvider, make_service: Callable[..., Service]
) -> None:
    svc = make_service(app="app:app", environment={"TOKEN": "${ssm:/shop/token}"})
    with pytest.raises(NotDeployedError, match="/shop/token does not exist"):
        provider.deploy(svc)
    boto("ssm").put_parameter(Name="/shop/token", Value="t0k", Type="SecureString")
    provider.deploy(svc)
    conf = boto("lambda").get_function_configuration(FunctionName="shop-prod-app")
    assert conf["Environment"]["Variables"]["TOKEN"] == "t0k"


def test_kinesis_stream_mapping(
    provider: AwsProvider, make_service: Callable[..., Service]
) -> None:
    boto("kinesis").create_stream(StreamName="clicks", ShardCount=1)
    arn = boto("kinesis").describe_stream(StreamName="clicks")["StreamDescription"]["StreamARN"]
    svc = make_service(functions={"count": {"handler": "c.count", "events": [
        {"stream": {"kinesis": "clicks", "starting_position": "TRIM_HORIZON"}}]}})
    provider.deploy(svc)
    (m,) = boto("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert m["EventSourceArn"] == arn and m["BatchSize"] == 100
    assert m["StartingPosition"] == "TRIM_HORIZON"
    assert provider.deploy(svc).plan == []


def test_existing_deployment_bucket_is_kept(
    provider: AwsProvider, make_service: Callable[..., Service]
) -> None:
    s3 = boto("s3")
    s3.create_bucket(Bucket="team-artifacts",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="team-artifacts", Key="other/file.txt", Body=b"keep me")
    svc = make_service(app="app:app", aws={"region": "eu-west-1", "bucket": "team-artifacts"})
    provider.deploy(svc)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="team-artifacts")["Contents"]]
    assert "aloft/shop/prod/state.json" in keys
    provider.undeploy(svc)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="team-artifacts")["Contents"]]
    assert keys == ["other/file.txt"]


def test_switching_api_kinds(provider: AwsProvider, make_service: Callable[..., Service],
                             builds: Builds) -> None:
    http = make_service(app="app:app", concurrency=3)
    provider.deploy(http)
    url = make_service(app="app:app", aws={"region": "eu-west-1", "api": "url"})
    builds.deps = ""  # dependencies dropped too: the layer goes from the configuration
    result = provider.deploy(url)
    assert {"DeleteApi", "PutFunctionUrl", "RemovePermission"} <= set(ops(result.plan))
    lam = boto("lambda")
    assert boto("apigatewayv2").get_apis()["Items"] == []
    sids = [s["Sid"] for s in json.loads(lam.get_policy(
        FunctionName="shop-prod-app", Qualifier="prod")["Policy"])["Statement"]]
    assert sids == ["aloft-url"]
    conf = lam.get_function(FunctionName="shop-prod-app", Qualifier="prod")
    assert conf["Configuration"].get("Layers", []) == []
    unqualified = lam.get_function(FunctionName="shop-prod-app")  # concurrency is per function
    assert "ReservedConcurrentExecutions" not in unqualified.get("Concurrency", {})
    back = provider.deploy(http)
    assert "DeleteFunctionUrl" in ops(back.plan) and back.url and "execute-api" in back.url
    assert provider.deploy(http).plan == []


def test_logs_filter_and_follow(provider: AwsProvider,
                                make_service: Callable[..., Service]) -> None:
    import itertools
    import time

    full = make_service(app="app:app")
    provider.deploy(full)
    logs = boto("logs")
    logs.create_log_stream(logGroupName="/aws/lambda/shop-prod-app", logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="/aws/lambda/shop-prod-app", logStreamName="s",
                        logEvents=[{"timestamp": now, "message": "GET / 200"},
                                   {"timestamp": now + 1, "message": "boom: error"}])
    found = list(provider.logs(full, since=now / 1000 - 1, filter_text="error"))
    assert [x.text for x in found] == ["boom: error"] and found[0].function == "app"
    followed = list(itertools.islice(provider.logs(full, since=now / 1000 - 1, follow=True), 2))
    assert [x.text for x in followed] == ["GET / 200", "boom: error"]


def test_a_queue_s_dead_letter_is_named_in_the_account_s_partition(
    provider: AwsProvider, make_service: Callable[..., Service],
) -> None:
    """In AWS China (partition aws-cn) the redrive target's ARN is the dead-letter queue's own
    (an `arn:aws:` one would name a queue SQS cannot find)."""
    service = make_service(
        aws={"region": "cn-north-1"},
        functions={"worker": {"handler": "jobs.work", "events": [{"queue": {"name": "jobs"}}]}},
        resources={"queues": {"jobs": {"dead_letter": True}}},
    )
    provider.deploy(service)
    sqs = boto3.client("sqs", region_name="cn-north-1")

    def attributes(name: str) -> dict[str, str]:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        got: dict[str, str] = sqs.get_queue_attributes(QueueUrl=url,
                                                       AttributeNames=["All"])["Attributes"]
        return got

    redrive = json.loads(attributes("shop-prod-jobs")["RedrivePolicy"])
    dead_letter = attributes("shop-prod-jobs-dlq")["QueueArn"]
    assert dead_letter.startswith("arn:aws-cn:sqs:cn-north-1:")
    assert redrive["deadLetterTargetArn"] == dead_letter
