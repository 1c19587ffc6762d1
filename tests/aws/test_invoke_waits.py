"""`aloft invoke` on AWS runs a function once: it waits for a slow function instead of invoking
it again, and sends an Invoke again only when Lambda did not run it.

boto3's clients give up reading after 60 s and, in the standard retry mode, send the request
again: a synchronous Invoke of a function that runs longer would run it again, up to 8 times.
The provider invokes through AwsClient's invoking client, which waits as long as Lambda lets a
function run, and which retries only a throttle, a function not yet ready, or a connection never
made; not a 5xx, a connection closed after the request went, or a read timeout, which may all
come after the function ran. Here a fake Lambda endpoint (and STS, for the account) answers
after 1.5 s, and the other clients give up after 0.5 s, standing for the 60 s."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import botocore.config
import pytest

from aloft.aws import client as client_module
from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.errors import ProviderError
from tests.fake_lambda_endpoint import TAIL, FakeAws


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAws]:
    with FakeAws() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        # Every client but the invoking one gives up reading after 0.5 s (boto3's default:
        # 60 s) and retries as configured; the invoking one waits 5 s (aloft's: 905 s).
        monkeypatch.setattr(client_module, "_RETRIES", botocore.config.Config(
            read_timeout=0.5, retries={"max_attempts": 8, "mode": "standard"}))
        monkeypatch.setattr(client_module, "_INVOKE", client_module._INVOKE.merge(
            botocore.config.Config(read_timeout=5)))
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


def _client() -> AwsClient:
    return AwsClient(region="us-east-1", poll_seconds=0.0)


@pytest.mark.parametrize("refusal", ["throttled", "not ready"])
def test_an_invoke_lambda_refused_is_sent_again(fake_aws: FakeAws, refusal: str) -> None:
    fake_aws.slow = 0.0
    fake_aws.refusals = [refusal]
    client = _client()
    got = client.invoke("shop-prod-worker", "prod", b'{"x": 2}')
    assert (got.payload, got.errored) == (b'{"ran": {"x": 2}}', False)
    assert len(fake_aws.invocations) == 2
    assert client.calls["lambda.Invoke"] == 2


def test_an_invoke_throttled_every_time_gives_up_after_three_attempts(
    fake_aws: FakeAws,
) -> None:
    fake_aws.refusals = ["throttled"] * 5
    client = _client()
    with pytest.raises(ProviderError, match="Rate Exceeded"):
        client.invoke("shop-prod-worker", "prod", b"{}")
    assert len(fake_aws.invocations) == client_module.INVOKE_ATTEMPTS == 3


@pytest.mark.parametrize("failure", ["service", "hang up"])
def test_an_invoke_that_may_have_run_is_not_sent_again(fake_aws: FakeAws, failure: str) -> None:
    fake_aws.refusals = [failure]  # a 500, or the connection closed once the request was read
    with pytest.raises(ProviderError, match=r"lambda\.Invoke"):
        _client().invoke("shop-prod-worker", "prod", b"{}")
    assert len(fake_aws.invocations) == 1


def test_an_invoke_whose_answer_takes_too_long_is_not_sent_again(
    fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_module, "_INVOKE", client_module._INVOKE.merge(
        botocore.config.Config(read_timeout=0.3)))  # standing for Lambda's 15 minutes
    with pytest.raises(ProviderError, match=r"lambda\.Invoke"):
        _client().invoke("shop-prod-worker", "prod", b"{}")
    assert len(fake_aws.invocations) == 1


def test_an_invoke_that_never_connected_is_sent_again(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeAws() as server:
        url = server.url
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)  # nothing listens there any more
    client = _client()
    with pytest.raises(ProviderError, match=r"cannot reach AWS for lambda\.Invoke"):
        client.invoke("shop-prod-worker", "prod", b"{}")
    assert client.calls["lambda.Invoke"] == client_module.INVOKE_ATTEMPTS
