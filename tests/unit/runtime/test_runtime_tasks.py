"""@aloft.task: inline outside a deployment, a signed asynchronous Invoke inside one (checked
against a recording HTTP server on 127.0.0.1 and botocore's own SigV4), clear TaskErrors."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest

import aloft
from aloft.runtime import handler as runtime
from aloft.runtime.errors import TaskError
from aloft.runtime.sigv4 import Credentials, sign
from aloft.runtime.tasks import MAX_PAYLOAD_BYTES, deployment_target
from tests.unit.runtime.runtime_helpers import make_settings, user_module

JOBS = '''
import aloft
SENT = []

@aloft.task
def send(to, times=1):
    SENT.append((to, times))
    return f"sent {times} to {to}"
'''


class Recorder(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []
    status = 202

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).requests.append(
            {"path": self.path, "headers": dict(self.headers.items()),
             "body": self.rfile.read(length)}
        )
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b"" if type(self).status < 300 else b'{"Message":"nope"}')

    def log_message(self, *args: Any) -> None:
        pass


R = TypeVar("R", bound=BaseHTTPRequestHandler)


@contextlib.contextmanager
def _serving(recorder: type[R]) -> Iterator[tuple[str, type[R]]]:
    """`recorder` answering on a free port of 127.0.0.1: (its URL, the class)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorder
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def lambda_api() -> Iterator[tuple[str, type[Recorder]]]:
    with _serving(type("R", (Recorder,), {"requests": [], "status": 202})) as served:
        yield served


@pytest.fixture
def jobs(deploy: Any) -> Any:
    deploy({"jobs": JOBS}, handlers={"worker": "jobs.send"}, task_function="worker")
    return user_module("jobs")


def _deployed(monkeypatch: pytest.MonkeyPatch, endpoint: str, token: str | None = None) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "svc-dev-app")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    if token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    else:
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


def test_inline_outside_a_deployment(jobs: Any) -> None:
    assert jobs.send("ann", times=2) == "sent 2 to ann"
    assert jobs.send.sync("bob") == "sent 1 to bob"
    assert jobs.SENT == [("ann", 2), ("bob", 1)]
    assert isinstance(jobs.send, aloft.task(lambda: None).__class__)
    assert jobs.send.__name__ == "send" and jobs.send.path == "jobs.send"


def test_async_invoke_is_signed_and_runs_via_the_envelope(
    jobs: Any, lambda_api: tuple[str, type[Recorder]], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, recorder = lambda_api
    _deployed(monkeypatch, endpoint, token="SESSIONTOKEN")

    assert jobs.send("ann", times=3) is None  # queued, not run
    assert jobs.SENT == []

    [request] = recorder.requests
    assert request["path"] == "/2015-03-31/functions/svc-dev-worker/invocations?Qualifier=dev"
    headers = request["headers"]
    assert headers["X-Amz-Invocation-Type"] == "Event"
    assert headers["X-Amz-Security-Token"] == "SESSIONTOKEN"
    envelope = json.loads(request["body"])
    assert envelope == {"aloft": "task", "function": "jobs.send", "args": ["ann"],
                        "kwargs": {"times": 3}}

    # The signature is what botocore computes for the same request at the same instant.
    from botocore import auth as botocore_auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    when = datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expected = _botocore_authorization(
        botocore_auth, AWSRequest, BotoCredentials, endpoint + request["path"],
        {"Content-Type": "application/json", "X-Amz-Invocation-Type": "Event"},
        request["body"], "SESSIONTOKEN", when,
    )
    assert headers["Authorization"] == expected

    # The function that receives the envelope runs the body (it does not send it again).
    assert runtime.handler(envelope, None) == "sent 3 to ann"
    assert jobs.SENT == [("ann", 3)]
    assert len(recorder.requests) == 1


def test_invoke_failure_is_a_task_error(
    jobs: Any, lambda_api: tuple[str, type[Recorder]], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, recorder = lambda_api
    recorder.status = 413
    _deployed(monkeypatch, endpoint)
    with pytest.raises(TaskError, match="HTTP 413"):
        jobs.send("ann")


def test_non_json_and_oversize_arguments_fail_at_the_call(jobs: Any) -> None:
    with pytest.raises(TaskError, match="must be JSON"):
        jobs.send(object())
    with pytest.raises(TaskError, match="over the 1048576-byte limit"):
        jobs.send("x" * MAX_PAYLOAD_BYTES)
    assert jobs.SENT == []
    jobs.send.sync(object())  # .sync is a plain call: no JSON involved
    assert len(jobs.SENT) == 1


def test_missing_credentials_is_a_task_error(
    jobs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deployed(monkeypatch, "http://127.0.0.1:9")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(TaskError, match="AWS_SECRET_ACCESS_KEY"):
        jobs.send("ann")


def test_deployment_target_names_and_endpoints(tmp_path: Path, monkeypatch: Any) -> None:
    settings = tmp_path / "aloft_settings.json"
    settings.write_text(json.dumps(make_settings(service="shop", stage="prod")))
    monkeypatch.setenv("ALOFT_SETTINGS", str(settings))
    assert deployment_target({}) is None
    target = deployment_target({"AWS_LAMBDA_FUNCTION_NAME": "shop-prod-app",
                                "AWS_REGION": "us-west-2"})
    assert target is not None
    assert target.url == ("https://lambda.us-west-2.amazonaws.com/2015-03-31/functions/"
                          "shop-prod-app/invocations?Qualifier=prod")
    target = deployment_target({"AWS_LAMBDA_FUNCTION_NAME": "shop-prod-app",
                                "AWS_ENDPOINT_URL": "http://127.0.0.1:4566/"})
    assert target is not None and target.endpoint == "http://127.0.0.1:4566"
    settings.write_text(json.dumps(make_settings(service="shop", stage="prod",
                                                 task_function="jobs")))
    target = deployment_target({"AWS_LAMBDA_FUNCTION_NAME": "shop-prod-app",
                                "AWS_ENDPOINT_URL": "http://a", "AWS_ENDPOINT_URL_LAMBDA": "http://b"})
    assert target is not None
    assert (target.function_name, target.endpoint) == ("shop-prod-jobs", "http://b")
    settings.unlink()
    assert deployment_target({"AWS_LAMBDA_FUNCTION_NAME": "x"}) is None  # no settings: inline


def _botocore_authorization(
    auth: Any, request_cls: Any, creds_cls: Any, url: str, headers: dict[str, str],
    body: bytes, token: str | None, when: datetime, method: str = "POST",
    region: str = "eu-west-1", service: str = "lambda",
) -> str:
    import unittest.mock

    request = request_cls(method=method, url=url, data=body, headers=dict(headers))
    credentials = creds_cls("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    # botocore reads the clock itself; pin it to the instant being compared.
    with unittest.mock.patch("botocore.auth.get_current_datetime", return_value=when):
        auth.SigV4Auth(credentials, service, region).add_auth(request)
    return str(request.headers["Authorization"])


@pytest.mark.parametrize(
    ("method", "url", "body", "token", "service"),
    [
        ("POST", "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/f/invocations"
         "?Qualifier=prod", b'{"a": 1}', None, "lambda"),
        ("POST", "http://127.0.0.1:8080/2015-03-31/functions/svc-dev-x/invocations",
         b"", "TOKEN/with+chars=", "lambda"),
        ("GET", "https://sqs.eu-west-1.amazonaws.com/?Action=List&b=x%20y&a=2", b"", None,
         "sqs"),
    ],
)
def test_signer_matches_botocore(
    method: str, url: str, body: bytes, token: str | None, service: str
) -> None:
    from botocore import auth as botocore_auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    headers = {"Content-Type": "application/json", "X-Amz-Invocation-Type": "Event"}
    ours = sign(method, url, headers, body, region="eu-west-1", service=service,
                credentials=Credentials("AKIDEXAMPLE",
                                        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token),
                now=when)
    theirs = _botocore_authorization(botocore_auth, AWSRequest, BotoCredentials, url, headers,
                                     body, token, when, method=method, service=service)
    assert ours["Authorization"] == theirs
    assert ours["X-Amz-Date"] == "20260304T050607Z"


ZAPPA_JOBS = '''
from zappa.asynchronous import AsyncException, get_async_response, run, task, task_sns
SENT = []

@task
def send(to, times=1):
    SENT.append((to, times))
    return f"sent {times} to {to}"

@task(service="sns", capture_response=True)
def notify(to):
    SENT.append(("notify", to))

@task_sns
def ping():
    SENT.append(("ping",))

def plain(to):
    SENT.append(("plain", to))
'''


@pytest.fixture
def zappa_jobs(deploy: Any) -> Any:
    from aloft.package.build import ZAPPA_SHIM

    shim = {f"zappa.{e.arcname.removeprefix('zappa/').removesuffix('.py')}":
            (e.data or b"").decode() for e in ZAPPA_SHIM}
    deploy({**shim, "zappa_jobs": ZAPPA_JOBS}, handlers={"worker": "zappa_jobs.send"},
           task_function="worker")
    return user_module("zappa_jobs")


def test_zappas_task_decorators_are_aloft_tasks(
    zappa_jobs: Any, lambda_api: tuple[str, type[Recorder]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Code written for Zappa runs unchanged: inline here, an asynchronous invocation deployed.
    assert zappa_jobs.send("ann") == "sent 1 to ann"
    zappa_jobs.notify("bob")
    zappa_jobs.ping()
    zappa_jobs.run(zappa_jobs.plain, ["cy"])
    assert zappa_jobs.SENT == [("ann", 1), ("notify", "bob"), ("ping",), ("plain", "cy")]
    with pytest.raises(zappa_jobs.AsyncException, match="does not store task responses"):
        zappa_jobs.get_async_response("r-1")

    endpoint, recorder = lambda_api
    _deployed(monkeypatch, endpoint)
    assert zappa_jobs.send("dee", times=2) is None
    zappa_jobs.run(zappa_jobs.plain, kwargs={"to": "eve"})
    bodies = [json.loads(r["body"]) for r in recorder.requests]
    assert bodies == [
        {"aloft": "task", "function": "zappa_jobs.send", "args": ["dee"], "kwargs": {"times": 2}},
        {"aloft": "task", "function": "zappa_jobs.plain", "args": [], "kwargs": {"to": "eve"}},
    ]
    assert runtime.handler(bodies[0], None) == "sent 2 to dee"


class AliasMissing(Recorder):
    """The Invoke API before a stage's first deploy is published: its alias does not exist."""

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).requests.append({"path": self.path, "body": self.rfile.read(length)})
        if "Qualifier=dev" in self.path:
            self.send_response(404)
            self.send_header("X-Amzn-ErrorType", "ResourceNotFoundException")
            self.end_headers()
            self.wfile.write(b'{"Message": "Function not found"}')
            return
        self.send_response(202)
        self.end_headers()


@pytest.fixture
def no_alias() -> Iterator[tuple[str, type[AliasMissing]]]:
    with _serving(type("A", (AliasMissing,), {"requests": []})) as served:
        yield served


def test_before_the_alias_exists_a_task_goes_to_the_version_sending_it(
    deploy: Any, no_alias: tuple[str, type[AliasMissing]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first deploy's health check (or priming) request sends a task: the stage's alias is
    made only once the check passes, so the task goes to the version being checked."""
    deploy({"jobs": JOBS}, handlers={"app": "jobs.send"})
    jobs = user_module("jobs")
    endpoint, recorder = no_alias
    _deployed(monkeypatch, endpoint)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "3")
    assert jobs.send("ann") is None
    paths = [r["path"] for r in recorder.requests]
    assert paths == ["/2015-03-31/functions/svc-dev-app/invocations?Qualifier=dev",
                     "/2015-03-31/functions/svc-dev-app/invocations?Qualifier=3"]
    assert recorder.requests[0]["body"] == recorder.requests[1]["body"]
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")  # no version to go to
    with pytest.raises(TaskError, match="its alias dev does not exist"):
        jobs.send("bob")


def test_a_task_of_another_function_without_its_alias_is_a_task_error(
    jobs: Any, no_alias: tuple[str, type[AliasMissing]], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, recorder = no_alias
    _deployed(monkeypatch, endpoint)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_VERSION", "3")  # svc-dev-app's, not the worker's
    with pytest.raises(TaskError, match="svc-dev-worker:dev failed: the function or its alias"):
        jobs.send("ann")
    assert len(recorder.requests) == 1
