"""Lambda's Invoke API as AWS's, on a real daemon: SigV4 with the user's own credentials (the
profile `aloft config credentials` writes) or a function's, AWS's 403s for everything else, a
function invoking another only with a `lambda:InvokeFunction` grant, 429 with its reason, the
ClientContext in `context.client_context`, and `LogType: Tail`. Driven by boto3 and raw HTTP."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from aloft.cli.main import cli
from tests.integration.local.cloud_helpers import (
    Cloud,
    client_error,
    get,
    lambda_client,
    service,
    write_project,
)
from tests.waiting import wait_until

PROFILE_KEY, PROFILE_SECRET = "AKIAPROFILEKEY000001", "profile-secret-from-aloft-config"

FUNCTIONS = """
    import json
    import os
    import time
    import urllib.error
    import urllib.request

    import aloft
    from aloft.runtime.sigv4 import Credentials, sign


    @aloft.task  # the code uses tasks: its functions may invoke the task function (worker)
    def later(value):
        print("later", value)


    def invoke(name):
        # what boto3's lambda client does inside a function: AWS_ENDPOINT_URL_LAMBDA and the
        # function's own credentials, from its environment
        url = (os.environ["AWS_ENDPOINT_URL_LAMBDA"] +
               f"/2015-03-31/functions/{name}/invocations?Qualifier=dev")
        creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"],
                            os.environ.get("AWS_SESSION_TOKEN"))
        headers = sign("POST", url, {"Content-Type": "application/json"}, b"{}",
                       credentials=creds, region="us-east-1", service="lambda")
        request = urllib.request.Request(url, data=b"{}", headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                return {"status": resp.status, "body": json.loads(resp.read())}
        except urllib.error.HTTPError as exc:
            return {"status": exc.code, "type": exc.headers.get("x-amzn-errortype"),
                    "body": json.loads(exc.read())}


    def caller(event, context):
        return {name: invoke(name) for name in event["targets"]}


    def worker(event, context):
        print("worker ran")
        return "worked"


    def other(event, context):
        return "other ran"


    def describe(event, context):
        print("describe", "x" * 5000)  # more than the 4 KB tail
        print("the last line")
        cc = context.client_context
        if cc is None:
            return None
        return {"custom": cc.custom, "env": cc.env,
                "app_title": cc.client.app_title if cc.client else None}


    def slow(event, context):
        if event.get("started"):  # the test waits for it: this request holds the slot now
            open(event["started"], "w").close()
        time.sleep(event.get("seconds", 0))
        return "slow"
"""

CONFIG = """
    service: sec
    tasks:
      function: worker
    functions:
      caller:
        handler: fns.caller
      worker:
        handler: fns.worker
      other:
        handler: fns.other
      describe:
        handler: fns.describe
      slow:
        handler: fns.slow
        concurrency: 1
    stages:
      dev: {}
"""


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    home = tmp_path_factory.mktemp("home")
    credentials = home.parent / "aws-credentials"
    # the user's profile, written by aloft's own command
    result = CliRunner().invoke(cli, ["config", "credentials", "--profile", "local", "--key",
                                      PROFILE_KEY, "--secret", PROFILE_SECRET],
                                env={"AWS_SHARED_CREDENTIALS_FILE": str(credentials)})
    assert result.exit_code == 0, result.output
    c = Cloud(home, env={"AWS_SHARED_CREDENTIALS_FILE": str(credentials)})
    c.start()
    root = write_project(tmp_path_factory.mktemp("project"), CONFIG, {"fns.py": FUNCTIONS})
    c.provider.deploy(service(root))
    yield c
    c.stop()


def profile_client(cloud: Cloud, key: str = PROFILE_KEY, secret: str = PROFILE_SECRET) -> Any:
    """boto3's Lambda client signing with the user's profile (or `key` and `secret`)."""
    return lambda_client(cloud, key, secret, retry=False)


def test_boto3_with_the_users_profile_invokes(cloud: Cloud) -> None:
    resp = profile_client(cloud).invoke(FunctionName="sec-dev-other", Payload=b"{}")
    assert resp["StatusCode"] == 200 and json.loads(resp["Payload"].read()) == "other ran"


def test_unsigned_unknown_and_wrongly_signed_requests_are_refused(cloud: Cloud) -> None:
    status, body = get(cloud.url("/2015-03-31/functions/sec-dev-other/invocations"),
                       method="POST", body=b"{}")
    assert (status, json.loads(body)) == (403, {"message": "Missing Authentication Token"})
    unknown = client_error(profile_client(cloud, "AKIANOTAKEYOFANYONE1", "x").invoke,
                           FunctionName="sec-dev-other", Payload=b"{}")
    assert unknown["Error"]["Code"] == "UnrecognizedClientException"
    assert unknown["ResponseMetadata"]["HTTPStatusCode"] == 403
    wrong = client_error(profile_client(cloud, PROFILE_KEY, "not-the-secret").invoke,
                         FunctionName="sec-dev-other", Payload=b"{}")
    assert wrong["Error"]["Code"] == "InvalidSignatureException"
    assert wrong["Error"]["Message"].startswith("The request signature we calculated")
    # the platform's own key for the AWS endpoint is no key here
    admin = client_error(profile_client(cloud, "aloft-admin", "aloft-admin").invoke,
                         FunctionName="sec-dev-other", Payload=b"{}")
    assert admin["Error"]["Code"] == "UnrecognizedClientException"


def test_a_function_invokes_its_task_target_and_nothing_else(cloud: Cloud) -> None:
    resp = profile_client(cloud).invoke(
        FunctionName="sec-dev-caller",
        Payload=json.dumps({"targets": ["sec-dev-worker", "sec-dev-other"]}).encode())
    results = json.loads(resp["Payload"].read())
    assert results["sec-dev-worker"] == {"status": 200, "body": "worked"}
    denied = results["sec-dev-other"]
    assert (denied["status"], denied["type"]) == (403, "AccessDeniedException")
    assert denied["body"]["Message"].startswith(
        "User: arn:aws:sts::000000000000:assumed-role/sec-dev-lambda/sec-dev-caller is not "
        "authorized to perform: lambda:InvokeFunction on resource: "
        "arn:aws:lambda:us-east-1:000000000000:function:sec-dev-other:dev because no "
        "identity-based policy allows the lambda:InvokeFunction action")


def test_a_throttle_says_why(cloud: Cloud, tmp_path: Path) -> None:
    client = profile_client(cloud)
    started = tmp_path / "started"

    def call(event: dict[str, Any]) -> dict[str, Any]:
        try:
            client.invoke(FunctionName="sec-dev-slow", Payload=json.dumps(event).encode())
        except ClientError as exc:
            return exc.response  # type: ignore[no-any-return]
        return {}

    with ThreadPoolExecutor(2) as pool:
        # the first holds the one slot past the 0.5 s a request waits for it
        first = pool.submit(call, {"seconds": 2.0, "started": str(started)})
        wait_until(started.exists, message="the first request to hold the slot")
        second = pool.submit(call, {"seconds": 0}).result()
        first.result()
    assert second["Error"]["Code"] == "TooManyRequestsException"
    assert second["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert second["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_the_client_context_reaches_the_function(cloud: Cloud) -> None:
    context = {"custom": {"user": "ann"}, "env": {"locale": "fr_FR"},
               "client": {"app_title": "shop", "installation_id": "i-1"}}
    resp = profile_client(cloud).invoke(
        FunctionName="sec-dev-describe", Payload=b"{}",
        ClientContext=base64.b64encode(json.dumps(context).encode()).decode())
    assert json.loads(resp["Payload"].read()) == {
        "custom": {"user": "ann"}, "env": {"locale": "fr_FR"}, "app_title": "shop"}
    resp = profile_client(cloud).invoke(FunctionName="sec-dev-describe", Payload=b"{}")
    assert json.loads(resp["Payload"].read()) is None  # none given: None, as on Lambda


def test_log_type_tail_returns_the_last_4_kb(cloud: Cloud) -> None:
    resp = profile_client(cloud).invoke(FunctionName="sec-dev-describe", Payload=b"{}",
                                       LogType="Tail")
    tail = base64.b64decode(resp["LogResult"])
    assert len(tail) == 4096
    text = tail.decode()
    assert "the last line" in text and f"REPORT RequestId: {resp['ResponseMetadata']['RequestId']}"\
        in text
    assert "LogResult" not in profile_client(cloud).invoke(FunctionName="sec-dev-describe",
                                                          Payload=b"{}")
