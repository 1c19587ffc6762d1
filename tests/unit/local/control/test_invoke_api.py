"""Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`) in process over a fake
platform: names, qualifiers, invocation types, payload limits and Lambda's error shapes, which
botocore reads (X-Amzn-ErrorType). boto3 against a real daemon: tests/integration/local/control.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote

import pytest

from aloft.local.control import invoke_api
from aloft.local.types import HttpResponse
from tests.unit.local.control.platform_fakes import Fakes, call, header, platform, signed

INVOKE = "/2015-03-31/functions/{}/invocations"


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    return platform(tmp_path)


def invoke(fakes: Fakes, name: str, body: bytes = b"{}", query: str = "",
           **headers: str) -> HttpResponse:
    """A request signed with the user's own credentials (invoke_auth: test_invoke_auth.py)."""
    path = INVOKE.format(name)
    named = {k.replace("_", "-"): v for k, v in headers.items()}
    return call(fakes, "POST", path, query=query, body=body, token=None,
                headers=signed("POST", path, query, body, named))


def lambda_error(response: HttpResponse) -> tuple[int, str | None, str]:
    """(status, X-Amzn-ErrorType, message): what botocore makes a ClientError of."""
    body = json.loads(response.body)
    assert body["Type"] == "User" and body["message"] == body["Message"]
    assert header(response, "x-amzn-requestid")
    return response.status, header(response, "x-amzn-errortype"), body["Message"]


@pytest.mark.parametrize(("path", "qualifier", "expected"), [
    ("/2015-03-31/functions/f/invocations", None, ("f", None)),
    ("/2015-03-31/functions/f/invocations/", "dev", ("f", "dev")),
    ("/2015-03-31/functions/f%3Adev/invocations", None, ("f", "dev")),
    ("/2015-03-31/functions/f:3/invocations", "dev", ("f", "dev")),  # the query's wins
    ("/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:f/invocations",
     None, ("f", None)),
    ("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A1%3Afunction%3Af%3A2/invocations",
     None, ("f", "2")),
    ("/2015-03-31/functions/f", None, None),
    ("/2015-03-31/functions/f/configuration", None, None),
])
def test_targets_are_names_partial_or_full_arns_with_a_qualifier(
    path: str, qualifier: str | None, expected: tuple[str, str | None] | None
) -> None:
    assert invoke_api.parse_target(path, qualifier) == expected


def test_log_result_is_the_last_4_kb_in_base64() -> None:
    lines = [f"line {n:05d} " + "x" * 90 for n in range(100)]
    decoded = base64.b64decode(invoke_api.log_result(lines))
    assert len(decoded) == 4096 and decoded.endswith(lines[-1].encode())


def test_a_request_response_invocation(fakes: Fakes) -> None:
    response = invoke(fakes, "shop-dev-worker", b'{"a": 1}')
    assert response.status == 200 and response.body == b'{"ok": true}'
    assert header(response, "content-type") == "application/json"
    assert header(response, "x-amz-executed-version") == "1"
    assert header(response, "x-amzn-requestid") == "req-1"
    assert header(response, "x-amz-function-error") is None
    assert header(response, "x-amz-log-result") is None  # only asked for with LogType Tail
    assert fakes.pool.invoked == [("shop-dev-worker", 1, b'{"a": 1}')]


def test_no_body_is_an_empty_event(fakes: Fakes) -> None:
    assert invoke(fakes, "shop-dev-worker", b"").status == 200
    assert fakes.pool.invoked[-1][2] == b"{}"


@pytest.mark.parametrize("qualifier", ["dev", "1", "$LATEST"])
def test_the_stage_alias_a_version_and_latest_are_qualifiers(fakes: Fakes,
                                                             qualifier: str) -> None:
    query = f"Qualifier={quote(qualifier, safe='')}"  # encoded, as clients send it
    assert invoke(fakes, "shop-dev-worker", query=query).status == 200
    arn = invoke_api.function_arn("shop-dev-worker") + f":{qualifier}"
    assert invoke(fakes, arn).status == 200


def test_a_function_error_is_unhandled_with_its_logs(fakes: Fakes) -> None:
    error = {"errorType": "ValueError", "errorMessage": "fails on purpose"}
    fakes.pool.answer = ("error", json.dumps(error).encode())
    response = invoke(fakes, "shop-dev-worker", x_amz_log_type="Tail")
    assert response.status == 200 and json.loads(response.body) == error
    assert header(response, "x-amz-function-error") == "Unhandled"
    logs = base64.b64decode(header(response, "x-amz-log-result") or "").decode()
    assert logs.splitlines()[0] == "START RequestId: req-1 Version: 1"
    assert logs.splitlines()[-1].startswith("REPORT RequestId: req-1")


@pytest.mark.parametrize(("name", "query", "message"), [
    ("shop-dev-nope", "", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:"
     "shop-dev-nope"),
    ("shop-dev-worker", "Qualifier=prod", "Function not found: arn:aws:lambda:us-east-1:"
     "000000000000:function:shop-dev-worker:prod"),
    ("shop-dev-worker", "Qualifier=7", "Function not found: arn:aws:lambda:us-east-1:"
     "000000000000:function:shop-dev-worker:7"),
])
def test_what_is_not_deployed_is_resource_not_found(fakes: Fakes, name: str, query: str,
                                                    message: str) -> None:
    assert lambda_error(invoke(fakes, name, query=query)) == (
        404, "ResourceNotFoundException", message)
    assert fakes.pool.invoked == []


def test_other_operations_are_unknown(fakes: Fakes) -> None:
    for method, path in (("GET", INVOKE.format("shop-dev-worker")),
                         ("POST", "/2015-03-31/functions/shop-dev-worker/configuration")):
        status, kind, message = lambda_error(call(fakes, method, path, token=None, body=b"",
                                                  headers=signed(method, path, "", b"", {})))
        assert (status, kind) == (404, "UnknownOperationException")
        assert message == f"unsupported operation {method} {path}"


def test_a_body_that_is_not_json_is_refused(fakes: Fakes) -> None:
    assert lambda_error(invoke(fakes, "shop-dev-worker", b"{not json")) == (
        400, "InvalidRequestContentException", "Could not parse request body into json")
    assert fakes.pool.invoked == []


def test_dry_run_checks_and_runs_nothing(fakes: Fakes) -> None:
    response = invoke(fakes, "shop-dev-worker", x_amz_invocation_type="DryRun")
    assert (response.status, response.body) == (204, b"")
    assert header(response, "x-amzn-requestid")
    assert fakes.pool.invoked == [] and fakes.queue.enqueued == []


def test_an_event_invocation_is_queued_with_its_qualifier(fakes: Fakes) -> None:
    response = invoke(fakes, "shop-dev-worker", b'{"n": 1}', query="Qualifier=dev",
                      x_amz_invocation_type="Event")
    assert (response.status, response.body) == (202, b"")
    assert fakes.queue.enqueued == [{"function": "shop-dev-worker", "payload": b'{"n": 1}',
                                     "qualifier": "dev", "max_retries": 0, "max_age": 60}]
    assert fakes.pool.invoked == []


def test_an_unknown_invocation_type_is_refused(fakes: Fakes) -> None:
    status, kind, message = lambda_error(invoke(fakes, "shop-dev-worker",
                                                x_amz_invocation_type="Later"))
    assert (status, kind) == (400, "InvalidParameterValueException")
    assert "'Later' is not one of RequestResponse, Event, DryRun" in message


@pytest.mark.parametrize(("kind", "limit", "message"), [
    ("Event", invoke_api.MAX_ASYNC_PAYLOAD,
     "Request must be smaller than 1048576 bytes for the InvokeAsync operation"),
    ("RequestResponse", invoke_api.MAX_SYNC_PAYLOAD,
     "Request must be smaller than 6291456 bytes for the Invoke operation"),
])
def test_payloads_past_lambdas_limits_are_too_large(fakes: Fakes, kind: str, limit: int,
                                                    message: str) -> None:
    body = json.dumps({"x": "y" * limit}).encode()
    assert lambda_error(invoke(fakes, "shop-dev-worker", body, x_amz_invocation_type=kind)) == (
        413, "RequestTooLargeException", message)
    assert fakes.pool.invoked == [] and fakes.queue.enqueued == []


@pytest.mark.parametrize("reason", ["ReservedFunctionConcurrentInvocationLimitExceeded",
                                    "ConcurrentInvocationLimitExceeded"])
def test_a_throttle_is_too_many_requests_with_its_reason(fakes: Fakes, reason: str) -> None:
    fakes.pool.answer = ("throttled", json.dumps({"Reason": reason, "Type": "User",
                                                  "message": "Rate Exceeded."}).encode())
    response = invoke(fakes, "shop-dev-worker")
    assert lambda_error(response) == (429, "TooManyRequestsException", "Rate Exceeded.")
    assert json.loads(response.body)["Reason"] == reason


def test_the_client_context_reaches_the_invocation(fakes: Fakes) -> None:
    context = {"custom": {"user": "ann"}, "env": {"locale": "fr"}, "client": {"app_title": "x"}}
    encoded = base64.b64encode(json.dumps(context).encode()).decode()
    assert invoke(fakes, "shop-dev-worker", x_amz_client_context=encoded).status == 200
    assert json.loads(fakes.pool.client_contexts[-1] or b"") == context
    assert invoke(fakes, "shop-dev-worker").status == 200
    assert fakes.pool.client_contexts[-1] is None


def test_a_callers_trace_is_continued(fakes: Fakes) -> None:
    """boto3 inside a function sends its _X_AMZN_TRACE_ID: the invoked function's trace keeps
    its Root (a new Parent); without one the pool starts a trace."""
    caller = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    assert invoke(fakes, "shop-dev-worker", x_amzn_trace_id=caller).status == 200
    trace = fakes.pool.traces[-1] or ""
    assert trace.startswith("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=")
    assert trace.endswith(";Sampled=1") and "53995c3f42cd8ad8" not in trace
    assert invoke(fakes, "shop-dev-worker").status == 200
    assert fakes.pool.traces[-1] is None


@pytest.mark.parametrize(("value", "message"), [
    ("not base64!", "Client context must be a valid Base64-encoded JSON object."),
    (base64.b64encode(b"[1, 2]").decode(), "Client context must be a valid Base64-encoded JSON "
     "object."),
    (base64.b64encode(b"{" + b" " * 3000 + b"}").decode(), "Client context must be at most 3583 "
     "bytes of base64"),
])
def test_a_client_context_that_is_not_base64_json_or_too_large_is_refused(
    fakes: Fakes, value: str, message: str,
) -> None:
    assert lambda_error(invoke(fakes, "shop-dev-worker", x_amz_client_context=value)) == (
        400, "InvalidRequestContentException", message)
    assert fakes.pool.invoked == []
