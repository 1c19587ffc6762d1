"""Lambda's API besides Invoke on a real daemon, driven by boto3 (pagination, errors, the
writes applied to the running platform) and by the AWS CLI itself (awscli, in process). One
deployed stage for the module: an HTTP app, a scheduled worker, a queue consumer."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aloft.config.models import Service
from tests.integration.local.cloud_helpers import (
    USER,
    Cloud,
    aws_cli,
    aws_cli_json,
    client_error,
    get,
    lambda_client,
    service,
    write_project,
)
from tests.waiting import wait_until

HANDLERS = """
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]

    def worker(event, context):
        return "worked"

    def consume(record, context):
        print("consumed", record["body"])

    def fails(event, context):
        raise ValueError("fails on purpose")
"""

CONFIG = """
    service: lapi
    app: handlers.app
    environment:
      GREETING: hi
    functions:
      worker:
        handler: handlers.worker
        concurrency: 3
        events:
          - schedule: rate(1 hour)
      consumer:
        handler: handlers.consume
        records: each
        events:
          - queue: {name: jobs, batch_size: 5}
      fails:
        handler: handlers.fails
    resources:
      queues:
        jobs: {}
    stages:
      dev: {}
"""

ARN = "arn:aws:lambda:us-east-1:{account}:function:{name}"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cloud, Service]]:
    cloud = Cloud(tmp_path_factory.mktemp("home"), USER)
    cloud.start()
    root = write_project(tmp_path_factory.mktemp("project"), CONFIG,
                         {"handlers.py": HANDLERS})
    svc = service(root)
    cloud.provider.deploy(svc)
    yield cloud, svc
    if cloud.client.running() is not None:
        cloud.stop()


@pytest.fixture(scope="module")
def client(deployed: tuple[Cloud, Service]) -> Any:
    return lambda_client(deployed[0], retry=False)


def account_of(arn: str) -> str:
    return arn.split(":")[4]


def test_list_functions_pages_with_markers(client: Any) -> None:
    first = client.list_functions(MaxItems=2)
    assert [f["FunctionName"] for f in first["Functions"]] == ["lapi-dev-app",
                                                               "lapi-dev-consumer"]
    rest = client.list_functions(Marker=first["NextMarker"], MaxItems=10)
    assert [f["FunctionName"] for f in rest["Functions"]] == ["lapi-dev-fails",
                                                              "lapi-dev-worker"]
    assert "NextMarker" not in rest
    names = [f["FunctionName"] for page in client.get_paginator("list_functions").paginate(
        PaginationConfig={"PageSize": 1}) for f in page["Functions"]]
    assert names == ["lapi-dev-app", "lapi-dev-consumer", "lapi-dev-fails", "lapi-dev-worker"]
    bad = client_error(client.list_functions, Marker="not-a-marker")
    assert bad["Error"]["Code"] == "InvalidParameterValueException"


def test_a_functions_configuration_is_lambdas(client: Any) -> None:
    config = client.get_function_configuration(FunctionName="lapi-dev-worker")
    assert config["FunctionArn"] == ARN.format(account=account_of(config["FunctionArn"]),
                                               name="lapi-dev-worker")
    assert config["Version"] == "$LATEST" and config["State"] == "Active"
    assert config["Runtime"].startswith("python3.") and config["MemorySize"] > 0
    assert config["Environment"]["Variables"]["GREETING"] == "hi"
    assert not any(k.startswith("AWS_") for k in config["Environment"]["Variables"])
    assert config["LoggingConfig"]["LogGroup"] == "/aws/lambda/lapi-dev-worker"
    versioned = client.get_function_configuration(FunctionName="lapi-dev-worker", Qualifier="1")
    assert versioned["Version"] == "1" and versioned["FunctionArn"].endswith(":1")
    assert client.get_function_configuration(FunctionName="lapi-dev-worker:dev")["Version"] \
        == "$LATEST"


def test_get_function_gives_a_url_serving_the_code_zip(client: Any) -> None:
    got = client.get_function(FunctionName="lapi-dev-worker")
    assert got["Configuration"]["FunctionName"] == "lapi-dev-worker"
    assert got["Concurrency"] == {"ReservedConcurrentExecutions": 3}
    assert got["Tags"] == {"aloft:service": "lapi", "aloft:stage": "dev"}
    status, body = get(got["Code"]["Location"])
    assert status == 200 and len(body) == got["Configuration"]["CodeSize"]
    assert "handlers.py" in zipfile.ZipFile(io.BytesIO(body)).namelist()
    status, _ = get(got["Code"]["Location"].replace("Signature=", "Signature=0"))
    assert status == 403


@pytest.mark.parametrize(("name", "qualifier"), [
    ("lapi-dev-nope", None), ("lapi-dev-worker", "prod"), ("lapi-dev-worker", "9"),
])
def test_an_unknown_function_or_qualifier_is_resource_not_found(
    client: Any, name: str, qualifier: str | None,
) -> None:
    kwargs = {"FunctionName": name, **({"Qualifier": qualifier} if qualifier else {})}
    for call in (client.get_function, client.get_function_configuration, client.get_policy):
        error = client_error(call, **kwargs)
        assert error["Error"]["Code"] == "ResourceNotFoundException"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert error["Error"]["Message"].startswith("Function not found: arn:aws:lambda:")
        assert error["Error"]["Message"].endswith(name + (f":{qualifier}" if qualifier else ""))
        assert error["Type"] == "User" and error["Message"] == error["Error"]["Message"]


def test_versions_aliases_policy_and_tags(client: Any) -> None:
    versions = client.list_versions_by_function(FunctionName="lapi-dev-app")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]
    first = client.list_versions_by_function(FunctionName="lapi-dev-app", MaxItems=1)
    assert [v["Version"] for v in first["Versions"]] == ["$LATEST"] and first["NextMarker"]
    every = client.list_functions(FunctionVersion="ALL")["Functions"]
    assert ("lapi-dev-app", "1") in [(f["FunctionName"], f["Version"]) for f in every]
    assert len(every) == 8  # each function's $LATEST and version 1
    aliases = client.list_aliases(FunctionName="lapi-dev-app")["Aliases"]
    assert [(a["Name"], a["FunctionVersion"]) for a in aliases] == [("dev", "1")]
    assert client.get_alias(FunctionName="lapi-dev-app", Name="dev")["FunctionVersion"] == "1"
    missing = client_error(client.get_alias, FunctionName="lapi-dev-app", Name="prod")
    assert missing["Error"]["Code"] == "ResourceNotFoundException"
    policy = json.loads(client.get_policy(FunctionName="lapi-dev-app")["Policy"])
    assert [s["Principal"]["Service"] for s in policy["Statement"]] == [
        "apigateway.amazonaws.com"]
    worker = json.loads(client.get_policy(FunctionName="lapi-dev-worker")["Policy"])
    assert [s["Principal"]["Service"] for s in worker["Statement"]] == ["events.amazonaws.com"]
    nothing = client_error(client.get_policy, FunctionName="lapi-dev-fails")
    assert nothing["Error"]["Code"] == "ResourceNotFoundException"
    arn = client.get_function_configuration(FunctionName="lapi-dev-app")["FunctionArn"]
    assert client.list_tags(Resource=arn)["Tags"]["aloft:stage"] == "dev"


def test_reserved_concurrency_is_applied_at_once(client: Any) -> None:
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(
        FunctionName="lapi-dev-fails")
    client.put_function_concurrency(FunctionName="lapi-dev-fails",
                                    ReservedConcurrentExecutions=0)
    try:
        got = client.get_function_concurrency(FunctionName="lapi-dev-fails")
        assert got["ReservedConcurrentExecutions"] == 0
        throttled = client_error(client.invoke, FunctionName="lapi-dev-fails", Payload=b"{}")
        assert throttled["Error"]["Code"] == "TooManyRequestsException"
        assert throttled["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        settings = client.get_account_settings()
        assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == \
            settings["AccountLimit"]["ConcurrentExecutions"] - 3
        assert settings["AccountUsage"]["FunctionCount"] == 4
    finally:
        client.delete_function_concurrency(FunctionName="lapi-dev-fails")
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(
        FunctionName="lapi-dev-fails")
    resp = client.invoke(FunctionName="lapi-dev-fails", Payload=b"{}")
    assert resp["FunctionError"] == "Unhandled"
    too_many = client_error(client.put_function_concurrency, FunctionName="lapi-dev-fails",
                        ReservedConcurrentExecutions=100000)
    assert too_many["Error"]["Code"] == "InvalidParameterValueException"


def test_provisioned_concurrency_through_lambdas_api(client: Any) -> None:
    """Put starts that many instances of the alias's version (capped by the reserved
    concurrency: worker has 3), Get says how many are allocated, List names the alias, Delete
    makes them ordinary again; $LATEST is refused, as on Lambda."""
    fn = "lapi-dev-worker"
    missing = client_error(client.get_provisioned_concurrency_config, FunctionName=fn,
                           Qualifier="dev")
    assert missing["Error"]["Code"] == "ProvisionedConcurrencyConfigNotFoundException"
    too_many = client_error(client.put_provisioned_concurrency_config, FunctionName=fn,
                            Qualifier="dev", ProvisionedConcurrentExecutions=4)
    assert too_many["Error"]["Code"] == "InvalidParameterValueException"
    latest = client_error(client.put_provisioned_concurrency_config, FunctionName=fn,
                          Qualifier="$LATEST", ProvisionedConcurrentExecutions=1)
    assert latest["Error"]["Code"] == "InvalidParameterValueException"
    put = client.put_provisioned_concurrency_config(FunctionName=fn, Qualifier="dev",
                                                    ProvisionedConcurrentExecutions=2)
    assert put["RequestedProvisionedConcurrentExecutions"] == 2
    try:
        ready = wait_until(lambda: (c := client.get_provisioned_concurrency_config(
            FunctionName=fn, Qualifier="dev"))["Status"] == "READY" and c)
        assert ready["AllocatedProvisionedConcurrentExecutions"] == 2
        [listed] = client.list_provisioned_concurrency_configs(
            FunctionName=fn)["ProvisionedConcurrencyConfigs"]
        assert listed["FunctionArn"].endswith(f":function:{fn}:dev")
        assert listed["Status"] == "READY"
        # the instances exist before any request: the first invocation is no cold start
        result = client.invoke(FunctionName=fn, Payload=b"{}", LogType="Tail")
        assert "Init Duration" not in base64.b64decode(result["LogResult"]).decode()
    finally:
        client.delete_provisioned_concurrency_config(FunctionName=fn, Qualifier="dev")
    gone = client_error(client.get_provisioned_concurrency_config, FunctionName=fn,
                        Qualifier="dev")
    assert gone["Error"]["Code"] == "ProvisionedConcurrencyConfigNotFoundException"
    assert client.list_provisioned_concurrency_configs(
        FunctionName=fn)["ProvisionedConcurrencyConfigs"] == []


def test_event_invoke_config_reads_and_writes(client: Any) -> None:
    config = client.get_function_event_invoke_config(FunctionName="lapi-dev-worker")
    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (2, 21600)
    client.put_function_event_invoke_config(FunctionName="lapi-dev-worker",
                                            MaximumRetryAttempts=0,
                                            MaximumEventAgeInSeconds=120)
    config = client.get_function_event_invoke_config(FunctionName="lapi-dev-worker")
    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (0, 120)
    bad = client_error(client.put_function_event_invoke_config, FunctionName="lapi-dev-worker",
                   DestinationConfig={"OnFailure": {"Destination": "arn:aws:sqs:x"}})
    assert bad["Error"]["Code"] == "InvalidParameterValueException"
    assert "aloft.yml" in bad["Error"]["Message"]


def test_event_source_mappings_list_get_and_update(client: Any) -> None:
    mappings = wait_until(lambda: client.list_event_source_mappings(
        FunctionName="lapi-dev-consumer")["EventSourceMappings"], message="the queue mapping")
    assert len(mappings) == 1
    mapping = mappings[0]
    assert mapping["EventSourceArn"].endswith(":lapi-dev-jobs") and mapping["BatchSize"] == 5
    assert mapping["State"] == "Enabled"
    assert client.get_event_source_mapping(UUID=mapping["UUID"])["UUID"] == mapping["UUID"]
    updated = client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False,
                                                 BatchSize=2)
    assert (updated["State"], updated["BatchSize"]) == ("Disabled", 2)
    again = client.get_event_source_mapping(UUID=mapping["UUID"])
    assert (again["State"], again["BatchSize"]) == ("Disabled", 2)
    client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    assert client.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Enabled"
    missing = client_error(client.get_event_source_mapping,
                       UUID="00000000-0000-0000-0000-000000000000")
    assert missing["Error"]["Code"] == "ResourceNotFoundException"


def test_what_deploys_code_points_to_aloft_deploy(client: Any) -> None:
    error = client_error(client.update_function_code, FunctionName="lapi-dev-app",
                     ZipFile=b"PK\x05\x06" + b"\0" * 18)
    assert "aloft deploy" in error["Error"]["Message"]
    error = client_error(client.create_function, FunctionName="x", Role="r", Code={"ZipFile": b"z"},
                     Runtime="python3.12", Handler="h.h")
    assert "aloft deploy" in error["Error"]["Message"]


def test_update_alias_rolls_the_stage_back(deployed: tuple[Cloud, Service],
                                           client: Any) -> None:
    cloud, svc = deployed
    changed = svc.model_copy(update={"environment": {**svc.environment, "GREETING": "hello"}})
    cloud.provider.deploy(changed)
    assert client.get_alias(FunctionName="lapi-dev-app", Name="dev")["FunctionVersion"] == "2"
    moved = client.update_alias(FunctionName="lapi-dev-app", Name="dev", FunctionVersion="1")
    assert moved["FunctionVersion"] == "1"
    assert client.get_function_configuration(
        FunctionName="lapi-dev-app")["Environment"]["Variables"]["GREETING"] == "hi"
    assert cloud.provider.status(svc).report["alias"] == \
        "dev -> version 1 (rolled back: version 2 is the newest)"
    unknown = client_error(client.update_alias, FunctionName="lapi-dev-app", Name="dev",
                       FunctionVersion="7")
    assert unknown["Error"]["Code"] == "ResourceNotFoundException"


def test_the_aws_cli_reads_and_tunes_the_local_lambda(deployed: tuple[Cloud, Service],
                                                      tmp_path: Path) -> None:
    cloud, _ = deployed

    def lambda_cli(*args: str) -> tuple[int, str, str]:
        return aws_cli(cloud.url(""), "lambda", *args)

    def ok(*args: str) -> Any:
        return aws_cli_json(cloud.url(""), "lambda", *args)

    assert len(ok("list-functions")["Functions"]) == 4
    assert ok("get-function", "--function-name", "lapi-dev-worker")["Code"]["Location"]
    assert ok("get-function-configuration", "--function-name", "lapi-dev-worker",
              "--qualifier", "1")["Version"] == "1"
    assert ok("list-versions-by-function", "--function-name", "lapi-dev-worker")["Versions"]
    assert ok("list-aliases", "--function-name", "lapi-dev-worker")["Aliases"][0]["Name"] == "dev"
    assert ok("get-alias", "--function-name", "lapi-dev-worker", "--name", "dev")
    assert ok("get-policy", "--function-name", "lapi-dev-worker")["Policy"]
    mappings = ok("list-event-source-mappings")["EventSourceMappings"]
    uuid = mappings[0]["UUID"]
    assert ok("get-event-source-mapping", "--uuid", uuid)["BatchSize"] > 0
    assert ok("update-event-source-mapping", "--uuid", uuid, "--batch-size", "3")[
        "BatchSize"] == 3
    assert ok("put-function-concurrency", "--function-name", "lapi-dev-worker",
              "--reserved-concurrent-executions", "2") == {"ReservedConcurrentExecutions": 2}
    assert ok("get-function-concurrency", "--function-name", "lapi-dev-worker") == {
        "ReservedConcurrentExecutions": 2}
    assert ok("delete-function-concurrency", "--function-name", "lapi-dev-worker") is None
    assert ok("put-function-event-invoke-config", "--function-name", "lapi-dev-worker",
              "--maximum-retry-attempts", "1")["MaximumRetryAttempts"] == 1
    assert ok("get-function-event-invoke-config", "--function-name",
              "lapi-dev-worker")["MaximumRetryAttempts"] == 1
    arn = ok("get-function-configuration", "--function-name", "lapi-dev-worker")["FunctionArn"]
    assert ok("list-tags", "--resource", arn)["Tags"]["aloft:service"] == "lapi"
    assert ok("get-account-settings")["AccountLimit"]["ConcurrentExecutions"] > 0
    out = tmp_path / "out.json"
    code, _, err = lambda_cli("invoke", "--function-name", "lapi-dev-worker", str(out))
    assert code == 0, err
    assert json.loads(out.read_text()) == "worked"
    # forward again to the newest deployment (test_update_alias_rolls_the_stage_back went back)
    assert ok("update-alias", "--function-name", "lapi-dev-app", "--name", "dev",
              "--function-version", "2")["FunctionVersion"] == "2"
    assert ok("get-function-configuration", "--function-name", "lapi-dev-app")[
        "Environment"]["Variables"]["GREETING"] == "hello"
    code, _, err = lambda_cli("get-function", "--function-name", "lapi-dev-nope")
    assert code != 0 and "ResourceNotFoundException" in err
    code, _, err = lambda_cli("delete-function", "--function-name", "lapi-dev-app")
    assert code != 0 and "aloft deploy" in err
