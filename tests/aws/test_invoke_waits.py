"""`aloft invoke` on AWS waits for a slow function instead of invoking it again.

boto3's clients give up reading after 60 s and, in the standard retry mode, send the request
again: a synchronous Invoke of a function that runs longer would run it again, up to 8 times.
The provider invokes through AwsClient's invoking client, which waits as long as Lambda lets a
function run. Here a fake Lambda endpoint (and STS, for the account) answers after 1.5 s, and
the other clients give up after 0.5 s, standing for the 60 s."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import botocore.config
import pytest

from aloft.aws import client as client_module
from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from tests.fake_lambda_endpoint import TAIL, FakeAws


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAws]:
    with FakeAws() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        # Every client but the invoking one gives up reading after 0.5 s (boto3's default:
        # 60 s) and retries as configured; the invoking one waits 5 s (aloft's: 905 s).
        monkeypatch.setattr(client_module, "_RETRIES", botocore.config.Config(
            read_timeout=0.5, retries={"max_attempts": 8, "mode": "standard"}))
        monkeypatch.setattr(client_module, "_INVOKE", botocore.config.Config(
            read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}))
        yield server


def test_a_synchronous_invoke_waits_for_a_slow_function_and_runs_it_once(
    fake_aws: FakeAws, make_service: Callable[..., Service],
) -> None:
    provider = AwsProvider(client=lambda s: AwsClient(region=s.aws.region, poll_seconds=0.0))
    service = make_service(functions={"worker": {"handler": "jobs.work"}})
    out = provider.invoke(service, "worker", {"x": 1})
    assert out.error is None
    assert out.payload == {"ran": {"x": 1}}
    assert out.logs == TAIL  # Lambda's log tail, decoded
    assert len(fake_aws.invocations) == 1, fake_aws.invocations
    assert fake_aws.invocations[0].startswith("/2015-03-31/functions/shop-prod-worker/")
