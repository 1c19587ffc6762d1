"""Error translation at the façade, and what a failed apply leaves behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from moto import mock_aws

from aloft.aws.client import AwsClient
from aloft.aws.errors import AwsNotFound
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.errors import DeployError, ProviderError
from tests.aws.conftest import REGION, Builds, boto
from tests.unit.aws.test_errors import client_error


class FailingClient(AwsClient):
    """A real client that fails one operation, as AWS would mid-deploy."""

    fail_on = "create_api"

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        if operation == self.fail_on:
            raise ProviderError(f"injected failure of {operation}")
        return super().call(service, operation, **params)


def test_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = AwsClient(region=REGION)
    with pytest.raises(ProviderError, match="no AWS credentials found") as err:
        client.call("sts", "get_caller_identity")
    assert "aws configure" in (err.value.fix or "")


def test_no_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    with pytest.raises(ProviderError, match="no AWS region") as err:
        AwsClient()
    assert "aws.region" in (err.value.fix or "")


def test_unknown_profile() -> None:
    with pytest.raises(ProviderError) as err:
        AwsClient(region=REGION, profile="nope")
    assert "aws.profile" in (err.value.fix or "")


def test_access_denied_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto enforces IAM when asked to: a user with no policy may do nothing.
    from moto.core import set_initial_no_auth_action_count

    with mock_aws(config={"lambda": {"use_docker": False}}):
        iam = boto("iam")
        iam.create_user(UserName="nobody")
        keys = iam.create_access_key(UserName="nobody")["AccessKey"]

        @set_initial_no_auth_action_count(0)
        def denied() -> None:
            monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["AccessKeyId"])
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["SecretAccessKey"])
            client = AwsClient(region=REGION)
            with pytest.raises(ProviderError, match=r"access denied: lambda\.ListFunctions") as e:
                client.call("lambda", "list_functions")
            assert "lambda:ListFunctions" in (e.value.fix or "")

        denied()


def test_name_taken_and_not_found(moto: None) -> None:
    client = AwsClient(region=REGION)
    client.call("sqs", "create_queue", QueueName="jobs", Attributes={"VisibilityTimeout": "5"})
    with pytest.raises(ProviderError, match="name already taken") as err:
        client.call("sqs", "create_queue", QueueName="jobs",
                    Attributes={"VisibilityTimeout": "50"})
    assert "rename" in (err.value.fix or "")
    with pytest.raises(AwsNotFound):
        client.call("lambda", "get_function", FunctionName="missing")
    assert client.find("lambda", "get_function", FunctionName="missing") is None
    assert client.calls["lambda.GetFunction"] == 2


def test_failed_first_deploy_leaves_nothing(
    moto: None, builds: Builds, make_service: Callable[..., Service]
) -> None:
    provider = AwsProvider(client=lambda s: FailingClient(region=REGION, poll_seconds=0),
                           builder=builds)
    svc = make_service(app="app:app", keep_warm=True, resources={"queues": {"q": {}}})
    with pytest.raises(DeployError, match="deploy failed at `CreateApi") as err:
        provider.deploy(svc)
    assert "previous version keeps serving" in err.value.message
    assert boto("lambda").list_functions()["Functions"] == []
    assert boto("lambda").list_layer_versions(LayerName="shop-prod-deps")["LayerVersions"] == []
    assert boto("iam").list_roles()["Roles"] == []
    assert boto("s3").list_buckets()["Buckets"] == []
    assert boto("sqs").list_queues().get("QueueUrls", []) == []
    assert boto("logs").describe_log_groups()["logGroups"] == []


def test_failed_update_keeps_the_old_version_serving(
    provider: AwsProvider, builds: Builds, make_service: Callable[..., Service]
) -> None:
    svc = make_service(app="app:app", functions={"hi": {"handler": "h.h"}})
    provider.deploy(svc)
    builds.code = "v2"

    class FailLate(AwsClient):
        def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
            if operation == "update_alias" and params["FunctionName"].endswith("-hi"):
                raise ProviderError("injected failure")
            return super().call(service, operation, **params)

    failing = AwsProvider(client=lambda s: FailLate(region=REGION, poll_seconds=0),
                          builder=builds)
    with pytest.raises(DeployError):
        failing.deploy(svc)
    lam = boto("lambda")
    # The app's alias was moved, then put back by the undo; the state still says release 1.
    assert lam.get_alias(FunctionName="shop-prod-app", Name="prod")["FunctionVersion"] == "1"
    assert lam.get_alias(FunctionName="shop-prod-hi", Name="prod")["FunctionVersion"] == "1"
    # The next deploy completes what is left.
    result = provider.deploy(svc)
    assert result.version == 2 and result.functions["hi"] > 1
    for name in ("app", "hi"):
        alias = lam.get_alias(FunctionName=f"shop-prod-{name}", Name="prod")
        assert alias["FunctionVersion"] == str(result.functions[name])
    assert provider.deploy(svc).plan == []


def test_client_waits_for_a_new_role_to_propagate(monkeypatch: pytest.MonkeyPatch) -> None:
    import aloft.aws.client as client_module

    sleeps: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", sleeps.append)

    class Lambda:
        attempts = 0

        def create_function(self, **params: Any) -> dict[str, Any]:
            self.attempts += 1
            if self.attempts < 3:
                raise client_error("InvalidParameterValueException",
                                    "The role defined for the function cannot be assumed by "
                                    "Lambda.")
            return {"FunctionName": params["FunctionName"]}

    client = AwsClient(region=REGION)
    client._clients["lambda"] = Lambda()
    assert client.call("lambda", "create_function", FunctionName="f") == {"FunctionName": "f"}
    assert client.calls["lambda.CreateFunction"] == 3 and len(sleeps) == 2


def test_a_function_made_by_someone_else_is_not_taken_over(
    provider: AwsProvider, make_service: Callable[..., Service]
) -> None:
    boto("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    boto("lambda").create_function(
        FunctionName="shop-prod-app", Runtime="python3.12", Handler="x.y",
        Role="arn:aws:iam::123456789012:role/r", Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18})
    with pytest.raises(ProviderError, match="name already taken: function shop-prod-app") as e:
        provider.deploy(make_service(app="app:app"))
    assert "rename the service or stage" in (e.value.fix or "")
    assert boto("s3").list_buckets()["Buckets"] == []  # refused before changing anything
