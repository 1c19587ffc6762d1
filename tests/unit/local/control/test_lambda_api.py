"""Lambda's API besides Invoke, in process over a fake platform: routing by method and path,
the shapes of the reads, pages, Lambda's errors, a function caller's grants and the refused
writes. boto3 and the AWS CLI against a real daemon: tests/integration/local/control."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from aloft.local.control import lambda_api, lambda_shapes
from aloft.local.types import HttpResponse
from aloft.runtime.sigv4 import Credentials
from tests.unit.local.control.platform_fakes import (
    CALLER,
    USER,
    Fakes,
    call,
    caller_may,
    header,
    platform,
    signed,
)


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    return platform(tmp_path, endpoint=True)


def request(fakes: Fakes, method: str, path: str, query: str = "", body: bytes = b"",
            credentials: Credentials = USER) -> HttpResponse:
    headers = signed(method, path, query, body, {}, credentials)
    return call(fakes, method, path, query=query, body=body, token=None, headers=headers)


def ok(response: HttpResponse) -> Any:
    assert response.status == 200, response.body
    assert header(response, "x-amzn-requestid")
    return json.loads(response.body)


def error(response: HttpResponse) -> tuple[int, str | None, str]:
    body = json.loads(response.body)
    return response.status, header(response, "x-amzn-errortype"), body.get("Message", "")


def test_list_functions_pages(fakes: Fakes) -> None:
    first = ok(request(fakes, "GET", "/2015-03-31/functions/", "MaxItems=1"))
    assert [f["FunctionName"] for f in first["Functions"]] == ["shop-dev-app"]
    assert first["Functions"][0]["FunctionArn"] == (
        "arn:aws:lambda:us-east-1:000000000000:function:shop-dev-app")
    rest = ok(request(fakes, "GET", "/2015-03-31/functions/",
                      f"Marker={quote(first['NextMarker'], safe='')}&MaxItems=5"))
    assert [f["FunctionName"] for f in rest["Functions"]] == ["shop-dev-worker"]
    assert "NextMarker" not in rest
    assert error(request(fakes, "GET", "/2015-03-31/functions/", "MaxItems=0"))[:2] == (
        400, "InvalidParameterValueException")


def test_unknown_functions_qualifiers_and_operations(fakes: Fakes) -> None:
    status, kind, message = error(request(fakes, "GET", "/2015-03-31/functions/shop-dev-x"))
    assert (status, kind) == (404, "ResourceNotFoundException")
    assert message == "Function not found: arn:aws:lambda:us-east-1:000000000000:function:" \
                      "shop-dev-x"
    status, kind, message = error(request(fakes, "GET",
                                          "/2015-03-31/functions/shop-dev-app/configuration",
                                          "Qualifier=prod"))
    assert (status, kind) == (404, "ResourceNotFoundException") and message.endswith(":prod")
    assert error(request(fakes, "GET", "/2018-10-31/layers"))[:2] == (
        404, "UnknownOperationException")


def test_what_deploys_code_is_refused_with_the_way_to_do_it(fakes: Fakes) -> None:
    status, kind, message = error(request(fakes, "PUT",
                                          "/2015-03-31/functions/shop-dev-app/code", body=b"{}"))
    assert (status, kind) == (400, "InvalidRequestContentException")
    assert message.startswith("UpdateFunctionCode is not supported") and "aloft deploy" in message


def test_a_function_calls_only_what_its_grants_allow(fakes: Fakes) -> None:
    worker = "arn:aws:lambda:us-east-1:000000000000:function:shop-dev-worker"
    caller_may(fakes, {"effect": "Allow", "action": ["lambda:GetFunctionConfiguration"],
                       "resource": [worker]})
    path = "/2015-03-31/functions/shop-dev-worker/configuration"
    assert ok(request(fakes, "GET", path, credentials=CALLER))["FunctionName"] == \
        "shop-dev-worker"
    status, kind, message = error(request(fakes, "GET", "/2015-03-31/functions/",
                                          credentials=CALLER))
    assert (status, kind) == (403, "AccessDeniedException")
    assert "lambda:ListFunctions" in message


def test_reserved_concurrency_goes_through_the_deployer(fakes: Fakes) -> None:
    amended: list[tuple[Any, ...]] = []

    async def amend(service: str, stage: str, key: str, update: Any) -> Any:
        amended.append((service, stage, key, update(None)))
        return None

    fakes.deployer.amend = amend  # type: ignore[attr-defined]
    fakes.pool.account_concurrency = 10  # type: ignore[attr-defined]
    body = json.dumps({"ReservedConcurrentExecutions": 2}).encode()
    path = "/2017-10-31/functions/shop-dev-worker/concurrency"
    assert ok(request(fakes, "PUT", path, body=body)) == {"ReservedConcurrentExecutions": 2}
    assert amended == [("shop", "dev", "concurrency", {"shop-dev-worker": 2})]
    bad = json.dumps({"ReservedConcurrentExecutions": -1}).encode()
    assert error(request(fakes, "PUT", path, body=bad))[:2] == (
        400, "InvalidParameterValueException")


def test_code_urls_expire_and_are_signed() -> None:
    url = lambda_api.code_url(8750, "secret", "a" * 64, now=1000.0)
    query = dict(p.split("=") for p in url.split("?")[1].split("&"))
    assert lambda_api.code_url_ok("secret", "a" * 64, query, now=1000.0 + 599)
    assert not lambda_api.code_url_ok("secret", "a" * 64, query, now=1000.0 + 601)
    assert not lambda_api.code_url_ok("other", "a" * 64, query, now=1000.0)
    assert not lambda_api.code_url_ok("secret", "b" * 64, query, now=1000.0)


def test_shapes() -> None:
    assert lambda_shapes.split_name("arn:aws:lambda:us-east-1:000000000000:function:f:3") == (
        "f", "3")
    assert lambda_shapes.split_name("f%3Adev") == ("f", "dev")
    assert lambda_shapes.code_sha256("00" * 32) == base64.b64encode(bytes(32)).decode()
    assert lambda_shapes.user_environment({"A": "1", "AWS_REGION": "x", "_HANDLER": "h",
                                           "PATH": "/bin", "LAMBDA_TASK_ROOT": "/t"}) == {
        "A": "1"}
    assert lambda_shapes.lambda_time(0) == "1970-01-01T00:00:00.000+0000"


def test_paged_renders_only_the_page_and_awaits_what_render_returns() -> None:
    import asyncio

    rendered: list[int] = []

    async def slow(n: int) -> dict[str, int]:
        rendered.append(n)
        return {"n": n}

    def page(query: dict[str, str], render: Any, default: int = 2) -> Any:
        reply = asyncio.run(lambda_shapes.paged("Items", list(range(5)), query, "rid", render,
                                                default=default))
        return reply.status, json.loads(reply.body)

    status, first = page({}, slow)
    assert status == 200 and first["Items"] == [{"n": 0}, {"n": 1}] and rendered == [0, 1]
    _, last = page({"Marker": first["NextMarker"], "MaxItems": "10"}, lambda n: n * 10)
    assert last == {"Items": [20, 30, 40]}  # no NextMarker after the last page
    assert page({}, str, default=100)[1] == {"Items": ["0", "1", "2", "3", "4"]}
    assert page({"MaxItems": "10001"}, str)[0] == 400
    assert page({"Marker": "%%%"}, str)[0] == 400
