"""One set of handlers, three ways to run them, one answer: Lambda's own runtime interface client
(awslambdaric, behind tests/lambda_runtime_api.py, running the artifact aloft builds for AWS, as
Lambda runs it), the local cloud, and `aloft invoke --local`. Each must give the same results,
errors, log lines (their format, timestamps and request ids aside), Lambda's environment
variables and the same `context`."""

from __future__ import annotations

import json
import re
import textwrap
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aloft.cli.local_run import invoke_locally, local_run_stage
from aloft.config.models import Service
from aloft.package import Target, build
from aloft.package.progress import NullProgress
from aloft.package.python import host_version
from aloft.stage.functions import lambda_environment
from tests.integration.local.cloud_helpers import USER, Cloud, lambda_client, service, write_project
from tests.lambda_runtime_api import LambdaRuntime

HANDLERS = """
    import logging
    import os

    LAMBDA_VARIABLES = [
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_REGION",
        "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "_HANDLER", "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR", "TZ", "LANG", "PATH", "LD_LIBRARY_PATH", "_X_AMZN_TRACE_ID",
    ]


    def probe(event, context):
        logging.getLogger().warning("a warning from the root logger")
        logging.getLogger("app.lib").error("an error from %s", "a library")
        logging.getLogger().info("info: not shown at Python's default level")
        print("a printed line")
        return {
            "event": event,
            "variables": [k for k in LAMBDA_VARIABLES if os.environ.get(k)],
            "values": {k: os.environ.get(k) for k in ("TZ", "LANG", "_HANDLER")},
            "context": {
                "attributes": sorted(a for a in dir(context) if not a.startswith("_")),
                "types": {a: type(getattr(context, a)).__name__ for a in (
                    "function_name", "function_version", "memory_limit_in_mb",
                    "aws_request_id", "log_group_name", "log_stream_name",
                    "invoked_function_arn", "client_context")},
                "identity": sorted(a for a in dir(context.identity) if not a.startswith("_")),
                "remaining": context.get_remaining_time_in_millis() > 0,
                "log_group": context.log_group_name == "/aws/lambda/" + context.function_name,
            },
        }


    def client(event, context):
        cc = context.client_context
        return {"custom": cc.custom, "env": cc.env, "w3c": context.w3c(),
                "client": sorted(a for a in dir(cc.client) if not a.startswith("_")),
                "app_title": cc.client.app_title,
                "attributes": sorted(a for a in dir(cc) if not a.startswith("_"))}


    def fail(event, context):
        check(event)


    def check(event):
        raise ValueError("fails on purpose")
"""

CONFIG = """
    service: conform
    functions:
      probe:
        handler: fns.probe
        timeout: 30
      fail:
        handler: fns.fail
      client:
        handler: fns.client
      json:
        handler: fns.probe
        timeout: 30
        log_format: json
        log_level: INFO
    stages:
      dev: {}
"""

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
REQUEST_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FILE = re.compile(r'File "[^"]*?/((?:aloft/runtime/(?:[^"/]+/)*)?[^"/]+\.py)"')
"""A frame's file, from the code's root (the code runs from three different directories)."""


@dataclass(frozen=True)
class Outcome:
    payload: Any  # the result, or Lambda's error object
    errored: bool
    lines: list[str]  # the function's own log lines, normalised


def normalised(logs: str) -> list[str]:
    """The function's lines (not the platform's START/END/REPORT), with times, request ids and
    the code's directory replaced: what must be equal wherever the code runs. A JSON record
    keeps its keys (sorted) and values, but for its time and request id."""
    out = []
    for line in logs.split("\n"):  # not splitlines: a traceback is one line joined by \r
        if not line or line.startswith(("START ", "END ", "REPORT ", "INIT_START")):
            continue
        if line.startswith("{"):
            record = json.loads(line)
            for key in ("timestamp", "requestId"):
                if key in record:
                    record[key] = f"<{key}>"
            line = json.dumps(record, sort_keys=True)
        line = FILE.sub(r'File "\1"', REQUEST_ID.sub("<id>", TIME.sub("<time>", line)))
        out.append(line)
    return sorted(out)


def comparable(payload: Any) -> Any:
    """An error object without what differs by nature (its request id; stack frames' paths)."""
    if isinstance(payload, dict) and "errorType" in payload:
        return {"errorType": payload["errorType"], "errorMessage": payload["errorMessage"],
                "stackTrace": [FILE.sub(r'File "\1"', f) for f in payload.get("stackTrace", [])]}
    return payload


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("conform"), CONFIG, {"fns.py": HANDLERS})


@pytest.fixture(scope="module")
def svc(project: Path) -> Service:
    return service(project)


@pytest.fixture(scope="module")
def lambda_runtimes(svc: Service, tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[dict[str, LambdaRuntime]]:
    """awslambdaric running the artifact built for AWS, one instance per function, with the
    variables Lambda sets (the stage model's, as the aws provider declares them)."""
    work = tmp_path_factory.mktemp("lambda")
    aws = svc.model_copy(update={"provider": "aws", "runtime": host_version()})
    manifest = build(aws, target=Target("aws", host_version(), "manylinux2014_x86_64"),
                     out_dir=work / "build", cache_dir=work / "cache")
    stage = local_run_stage(aws)
    runtimes = {}
    for name in ("probe", "fail", "json", "client"):
        task_root = work / name  # one per instance (and its log file beside it)
        with zipfile.ZipFile(manifest.code.path) as zf:
            zf.extractall(task_root)
        fn = stage.function(name)
        env = {**dict(fn.environment), **lambda_environment(
            fn, stage.account.region, version="1", task_root=str(task_root),
            log_stream="2026/12/05/[1]0123")}
        runtimes[name] = LambdaRuntime(task_root, env["_HANDLER"], env)
    yield runtimes
    for runtime in runtimes.values():
        runtime.close()


@pytest.fixture(scope="module")
def cloud(svc: Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    c = Cloud(tmp_path_factory.mktemp("home"), env=USER)  # USER may call the Invoke API
    c.start()
    c.provider.deploy(svc)
    yield c
    c.stop()


def on_lambda(runtimes: dict[str, LambdaRuntime], name: str, event: Any) -> Outcome:
    answer = runtimes[name].invoke(event)
    return Outcome(json.loads(answer.payload), answer.errored, normalised(answer.logs))


def on_the_local_cloud(cloud: Cloud, svc: Service, name: str, event: Any) -> Outcome:
    out = cloud.provider.invoke(svc, name, event)
    return Outcome(out.payload, out.error is not None, normalised(out.logs))


def invoked_locally(svc: Service, name: str, event: Any, capfd: pytest.CaptureFixture[str],
                    ) -> Outcome:
    capfd.readouterr()
    result = invoke_locally(svc, name, event, progress=NullProgress())
    logs = capfd.readouterr().err
    return Outcome(json.loads(result.output), not result.ok, normalised(logs))


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALOFT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "build-cache"))


def three_ways(name: str, event: Any, svc: Service, cloud: Cloud,
               lambda_runtimes: dict[str, LambdaRuntime], capfd: pytest.CaptureFixture[str],
               ) -> dict[str, Outcome]:
    return {"awslambdaric": on_lambda(lambda_runtimes, name, event),
            "local cloud": on_the_local_cloud(cloud, svc, name, event),
            "invoke --local": invoked_locally(svc, name, event, capfd)}


def test_results_logs_environment_and_context(
        svc: Service, cloud: Cloud, lambda_runtimes: dict[str, LambdaRuntime],
        capfd: pytest.CaptureFixture[str]) -> None:
    event = {"n": 1, "nested": {"list": [1, "two", None]}}
    outcomes = three_ways("probe", event, svc, cloud, lambda_runtimes, capfd)
    reference = outcomes.pop("awslambdaric")
    assert not reference.errored and reference.payload["event"] == event
    assert reference.lines == sorted([
        "[WARNING]\t<time>\t<id>\ta warning from the root logger",
        "[ERROR]\t<time>\t<id>\tan error from a library",
        "a printed line"])
    for where, outcome in outcomes.items():
        assert not outcome.errored, where
        for key in ("event", "variables", "values", "context"):
            assert outcome.payload[key] == reference.payload[key], (where, key)
        assert outcome.lines == reference.lines, where


def test_errors(svc: Service, cloud: Cloud, lambda_runtimes: dict[str, LambdaRuntime],
                capfd: pytest.CaptureFixture[str]) -> None:
    outcomes = three_ways("fail", {}, svc, cloud, lambda_runtimes, capfd)
    reference = outcomes.pop("awslambdaric")
    assert reference.errored
    assert comparable(reference.payload)["errorType"] == "ValueError"
    # The handler's frames alone: Lambda's runtime leaves its own out, aloft's runtime its own
    # (its entry point and dispatch: aloft.runtime.user_frames).
    source = textwrap.dedent(HANDLERS).splitlines()
    assert [f.split("\n")[0] for f in comparable(reference.payload)["stackTrace"]] == [
        f'  File "fns.py", line {source.index(code) + 1}, in {name}' for name, code in (
            ("fail", "    check(event)"), ("check", '    raise ValueError("fails on purpose")'))]
    [logged] = [line for line in reference.lines if line.startswith("[ERROR]")]
    assert logged.startswith("[ERROR] ValueError: fails on purpose\r")
    for where, outcome in outcomes.items():
        assert outcome.errored, where
        assert comparable(outcome.payload) == comparable(reference.payload), where
        [got] = [x for x in outcome.lines if x.startswith("[ERROR]")]
        assert got.split("\r") == logged.split("\r"), where


def test_json_log_records(svc: Service, cloud: Cloud, lambda_runtimes: dict[str, LambdaRuntime],
                          capfd: pytest.CaptureFixture[str]) -> None:
    """`log_format: json` with `log_level: INFO` (Lambda's LoggingConfig): the same records."""
    outcomes = three_ways("json", {"n": 2}, svc, cloud, lambda_runtimes, capfd)
    reference = outcomes.pop("awslambdaric")
    records = [json.loads(line) for line in reference.lines if line.startswith("{")]
    assert {r["message"] for r in records} == {
        "a warning from the root logger", "an error from a library",
        "info: not shown at Python's default level"}  # INFO: log_level shows it
    assert "a printed line" in reference.lines  # print stays text
    for where, outcome in outcomes.items():
        assert not outcome.errored, where
        assert outcome.payload["variables"] == reference.payload["variables"], where
        assert outcome.lines == reference.lines, where


def test_client_context_and_w3c(svc: Service, cloud: Cloud,
                                lambda_runtimes: dict[str, LambdaRuntime]) -> None:
    """The Invoke API's ClientContext (boto3's `ClientContext=`), with W3C trace fields: the
    same `context.client_context` and `context.w3c()` (invoke --local takes none)."""
    import base64

    sent = {"custom": {"user": "ann"}, "env": {"locale": "fr_FR"},
            "client": {"app_title": "shop", "installation_id": "i-1"},
            "w3c": {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                    "tracestate": "congo=t61rcWkgMzE", "other": "dropped"}}
    reference = json.loads(lambda_runtimes["client"].invoke({}, client_context=sent).payload)
    lam = lambda_client(cloud)
    response = lam.invoke(FunctionName="conform-dev-client", Payload=b"{}",
                          ClientContext=base64.b64encode(json.dumps(sent).encode()).decode())
    assert json.loads(response["Payload"].read()) == reference
    assert reference["w3c"] == {k: sent["w3c"][k] for k in ("traceparent", "tracestate")}
