"""`aloft secret` on an aws stage, against moto: through AwsProvider.secrets and through the
CLI with the default provider. Secrets are SecureString parameters /{service}/{stage}/{NAME}
encrypted with the stage's KMS key (alias/aloft/{service}-{stage}, created on first use)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.aws.secrets import AwsSecrets
from aloft.cli.main import cli
from aloft.config.models import Service
from aloft.errors import Location, ProviderError, UsageError
from tests.aws.conftest import REGION, boto

VALUE = "s3cr3t-4c1d"
CONFIG = """\
service: hello
app: app:app
stages:
  prod:
    provider: aws
    aws:
      region: eu-west-1
"""


def stored(path: str) -> dict[str, Any]:
    """The parameter as AWS describes it (no value)."""
    found = boto("ssm").describe_parameters(
        ParameterFilters=[{"Key": "Name", "Values": [path]}])["Parameters"]
    assert len(found) == 1, found
    return dict(found[0])


def stage_key_id(alias: str) -> str:
    return str(boto("kms").describe_key(KeyId=alias)["KeyMetadata"]["KeyId"])


def test_set_list_delete_through_the_provider(provider: AwsProvider, clients: list[AwsClient],
                                              make_service: Callable[..., Service]) -> None:
    store = provider.secrets(make_service(app="app:app"))
    assert store.key_alias == "alias/aloft/shop-prod"
    assert store.set("API_TOKEN", VALUE) == "/shop/prod/API_TOKEN"
    param = stored("/shop/prod/API_TOKEN")
    assert param["Type"] == "SecureString"
    assert param["KeyId"] in ("alias/aloft/shop-prod", stage_key_id("alias/aloft/shop-prod"))
    got = boto("ssm").get_parameter(Name="/shop/prod/API_TOKEN", WithDecryption=True)
    assert got["Parameter"]["Value"] == VALUE
    tags = boto("kms").list_resource_tags(KeyId=stage_key_id("alias/aloft/shop-prod"))["Tags"]
    assert {"TagKey": "aloft:stage", "TagValue": "prod"} in tags

    # A second secret reuses the key; other stages' and plain String parameters are not listed.
    store.set("DB_URL", "postgres://db")
    boto("ssm").put_parameter(Name="/shop/prod/PLAIN", Value="x", Type="String")
    boto("ssm").put_parameter(Name="/shop/dev/OTHER", Value="x", Type="SecureString")
    aliases = [a["AliasName"] for a in boto("kms").list_aliases()["Aliases"]]
    assert [a for a in aliases if a.startswith("alias/aloft/")] == ["alias/aloft/shop-prod"]
    assert store.names() == ["API_TOKEN", "DB_URL"]

    assert store.delete("API_TOKEN") is True
    assert store.delete("API_TOKEN") is False
    assert store.names() == ["DB_URL"]
    # Every call went through the one client façade (and was counted there).
    calls = clients[-1].calls
    assert calls["ssm.PutParameter"] == 2 and calls["kms.CreateKey"] == 1
    assert calls["ssm.DeleteParameter"] == 2


def test_bad_names_and_values_are_usage_errors(provider: AwsProvider,
                                               make_service: Callable[..., Service]) -> None:
    store = provider.secrets(make_service(app="app:app"))
    with pytest.raises(UsageError, match="may only use letters"):
        store.set("a/b", VALUE)
    with pytest.raises(UsageError, match="value is empty"):
        store.set("API_TOKEN", "")
    assert boto("ssm").describe_parameters()["Parameters"] == []


def test_an_aws_failure_is_a_provider_error_without_the_value(moto: None) -> None:
    aws = AwsClient(region=REGION, where=Location(stage="prod"))
    store = AwsSecrets(aws, "shop", "prod")
    # AWS's answer (botocore's own stub of the ssm client): a validation error quoting the value.
    with Stubber(aws._client("ssm")) as ssm:
        ssm.add_client_error("put_parameter", service_error_code="ValidationException",
                             service_message=f"Value '{VALUE}' at 'value' failed to satisfy "
                                             "constraint")
        with pytest.raises(ProviderError) as info:
            store.set("API_TOKEN", VALUE)
    assert "ssm.PutParameter failed: ValidationException" in str(info.value)
    assert VALUE not in str(info.value) and "'***'" in str(info.value)
    assert info.value.where == Location(stage="prod")


def keys_of_the_stage() -> dict[str, str]:
    """Every KMS key tagged as shop/prod's: key id -> its state."""
    kms = boto("kms")
    states = {}
    for key in kms.list_keys()["Keys"]:
        tags = {t["TagKey"]: t["TagValue"]
                for t in kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])}
        if tags.get("aloft:service") == "shop" and tags.get("aloft:stage") == "prod":
            states[key["KeyId"]] = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"]
    return states


def test_two_first_uses_at_once_share_one_key_and_leave_none_behind(moto: None) -> None:
    """Two `aloft secret set` of a stage's first secret at once: both find no key and make
    one; the alias is the first one's, and the second's key, which no alias would ever name,
    is scheduled for deletion rather than left (and billed) for good."""
    first, second = (AwsSecrets(AwsClient(region=REGION), "shop", "prod") for _ in range(2))
    find = second.aws.find
    looked = []

    def racing(service: str, operation: str, **params: Any) -> Any:
        if operation == "describe_key" and not looked:  # before the first one made its alias
            looked.append(params)
            first.set("API_TOKEN", VALUE)
            return None
        return find(service, operation, **params)

    second.aws.find = racing  # type: ignore[method-assign]
    second.set("OTHER_TOKEN", "another-value")
    states = keys_of_the_stage()
    assert states.pop(stage_key_id(first.key_alias)) == "Enabled"
    assert list(states.values()) == ["PendingDeletion"]
    assert stored("/shop/prod/OTHER_TOKEN")["KeyId"] == first.key_alias
    assert sorted(first.names()) == ["API_TOKEN", "OTHER_TOKEN"]


def test_a_key_that_cannot_get_its_alias_is_reported_by_the_alias_s_error(moto: None) -> None:
    """CreateAlias denied, and ScheduleKeyDeletion too: the user hears about the alias (what to
    grant first), not about the clean-up."""
    aws = AwsClient(region=REGION)
    store = AwsSecrets(aws, "shop", "prod")
    meta = {"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
            "Arn": f"arn:aws:kms:{REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
    with Stubber(aws._client("kms")) as kms:
        kms.add_client_error("describe_key", service_error_code="NotFoundException")
        kms.add_response("create_key", {"KeyMetadata": meta})
        kms.add_client_error("create_alias", service_error_code="AccessDeniedException",
                             http_status_code=400)
        kms.add_client_error("schedule_key_deletion",
                             service_error_code="AccessDeniedException", http_status_code=400)
        kms.add_client_error("describe_key", service_error_code="NotFoundException")
        with pytest.raises(ProviderError) as info:
            store.set("API_TOKEN", VALUE)
        kms.assert_no_pending_responses()
    assert "kms.CreateAlias" in str(info.value)
    assert "ScheduleKeyDeletion" not in str(info.value)


@pytest.fixture
def project(tmp_path: Path, moto: None) -> Path:
    (tmp_path / "aloft.yml").write_text(CONFIG)
    return tmp_path


def run(project: Path, *args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cli, ["--chdir", str(project), *args], input=input)


def test_cli_set_list_delete(project: Path) -> None:
    done = run(project, "secret", "set", "prod", "API_TOKEN", input=VALUE + "\n")
    assert done.exit_code == 0, done.output
    assert done.stdout == "set /hello/prod/API_TOKEN (SecureString, key alias/aloft/hello-prod)\n"
    assert VALUE not in done.output
    param = stored("/hello/prod/API_TOKEN")
    assert param["Type"] == "SecureString"
    assert param["KeyId"] in ("alias/aloft/hello-prod", stage_key_id("alias/aloft/hello-prod"))
    got = boto("ssm").get_parameter(Name="/hello/prod/API_TOKEN", WithDecryption=True)
    assert got["Parameter"]["Value"] == VALUE  # the trailing newline is not part of it

    listed = run(project, "secret", "list", "prod")
    assert listed.exit_code == 0 and listed.stdout == "API_TOKEN\n"
    gone = run(project, "secret", "delete", "prod", "API_TOKEN")
    assert gone.exit_code == 0 and gone.stdout == "deleted /hello/prod/API_TOKEN\n"
    assert boto("ssm").describe_parameters()["Parameters"] == []
    missing = run(project, "secret", "delete", "prod", "API_TOKEN")
    assert missing.exit_code == 1
    assert "stage 'prod' has no secret 'API_TOKEN'" in missing.stderr
    assert "aloft secret list prod" in missing.stderr
