"""`aloft invoke` on AWS waits for a slow function instead of invoking it again.

boto3's clients give up reading after 60 s and, in the standard retry mode, send the request
again: a synchronous Invoke of a function that runs longer would run it again, up to 8 times.
The provider invokes through AwsClient's invoking client, which waits as long as Lambda lets a
function run. Here a fake Lambda endpoint (and STS, for the account) answers after 1.5 s, and
the other clients give up after 0.5 s, standing for the 60 s."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore.config
import pytest

from aloft.aws import client as client_module
from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service

SLOW = 1.5  # seconds the fake function runs
IDENTITY = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    "<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/dev</Arn>"
    "<UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult>"
    "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
    "</GetCallerIdentityResponse>"
)


class FakeAws(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.invocations: list[str] = []  # the paths of the Invoke requests received


class _Handler(BaseHTTPRequestHandler):
    server: FakeAws

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path.startswith("/2015-03-31/functions/"):  # Lambda's Invoke
            self.server.invocations.append(self.path)
            threading.Event().wait(SLOW)
            self._answer(json.dumps({"ran": json.loads(body)}).encode(), "application/json")
        else:  # STS: GetCallerIdentity
            self._answer(IDENTITY.encode(), "text/xml")

    def _answer(self, data: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAws]:
    server = FakeAws()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    # Every client but the invoking one gives up reading after 0.5 s (boto3's default: 60 s)
    # and retries as configured; the invoking one waits 5 s (aloft's: 905 s).
    monkeypatch.setattr(client_module, "_RETRIES", botocore.config.Config(
        read_timeout=0.5, retries={"max_attempts": 8, "mode": "standard"}))
    monkeypatch.setattr(client_module, "_INVOKE", botocore.config.Config(
        read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}))
    yield server
    server.shutdown()
    server.server_close()


def test_a_synchronous_invoke_waits_for_a_slow_function_and_runs_it_once(
    fake_aws: FakeAws, make_service: Callable[..., Service],
) -> None:
    provider = AwsProvider(client=lambda s: AwsClient(region=s.aws.region, poll_seconds=0.0))
    service = make_service(functions={"worker": {"handler": "jobs.work"}})
    out = provider.invoke(service, "worker", {"x": 1})
    assert out.error is None
    assert out.payload == {"ran": {"x": 1}}
    assert len(fake_aws.invocations) == 1, fake_aws.invocations
    assert fake_aws.invocations[0].startswith("/2015-03-31/functions/shop-prod-worker/")
