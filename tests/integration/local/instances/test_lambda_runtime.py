"""What Lambda's Python runtime provides, in the local cloud and in `invoke --local`: boto3 and
botocore at Lambda's versions, snapshot_restore_py (SnapStart's hooks) (the runtime layer, after
the function's own layer: a pinned boto3 wins), and the declared Python when it is installed
here."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import Any

import pytest

from aloft.cli.local_run import invoke_locally
from aloft.local.services.supervisor import client_kwargs, wait_for_endpoint
from aloft.package.progress import NullProgress
from aloft.package.provided import LAMBDA_SDK, layers_root
from aloft.package.python import find_interpreter, host_version
from tests.integration.local.cloud_helpers import Cloud, cloud_fixture, service, write_project
from tests.unit.runtime.runtime_helpers import (
    LAMBDA_FUNCTION,
    ORDER_ERROR,
    ORDER_EVENT,
    handler_frame,
)

HANDLER = """
    import json
    import os
    import sys

    import boto3
    import botocore
    import snapshot_restore_py  # SnapStart's runtime hooks: no requirement on Lambda either


    def versions(event, context):
        kwargs = event.get("aws") or {}  # invoke --local: the local endpoint, from the event
        table = boto3.resource("dynamodb", **kwargs).Table(os.environ["ALOFT_TABLE_ITEMS"])
        table.put_item(Item={"id": context.aws_request_id, "by": context.function_name})
        item = table.get_item(Key={"id": context.aws_request_id})["Item"]
        return {"python": "%d.%d" % sys.version_info[:2], "version": sys.version,
                "boto3": boto3.__version__, "botocore": botocore.__version__,
                "boto3_file": boto3.__file__, "item": item["by"],
                "hooks": snapshot_restore_py.__version__}
"""


def config(name: str, runtime: str | None = None) -> str:
    line = f"runtime: '{runtime}'" if runtime else ""
    return f"""
        service: {name}
        {line}
        functions:
          versions:
            handler: fns.versions
            timeout: 30
        resources:
          tables:
            items: {{}}
        stages:
          dev: {{}}
    """


cloud = cloud_fixture()


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALOFT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "build-cache"))


def run_both(cloud: Cloud, root: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The function's answer in the local cloud, then through `invoke --local`."""
    svc = service(root)
    cloud.provider.deploy(svc)
    deployed = cloud.provider.invoke(svc, "versions", {})
    assert deployed.error is None, (deployed.error, deployed.logs)
    endpoint = client_kwargs(wait_for_endpoint(cloud.client), cloud.home / "aws")
    local = invoke_locally(svc, "versions", {"aws": endpoint}, progress=NullProgress())
    assert local.ok, local.output
    import json

    return deployed.payload, json.loads(local.output)


def test_boto3_is_lambdas_and_reaches_the_local_table(cloud: Cloud, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", config("prov"), {"fns.py": HANDLER})
    for answer in run_both(cloud, root):
        assert (answer["boto3"], answer["botocore"]) == (LAMBDA_SDK["boto3"],
                                                         LAMBDA_SDK["botocore"])
        assert answer["boto3_file"].startswith(str(layers_root()))
        assert answer["hooks"] == LAMBDA_SDK["snapshot-restore-py"]
        assert answer["item"].endswith("versions")  # written and read back through boto3


def test_a_pinned_boto3_wins(cloud: Cloud, tmp_path: Path) -> None:
    pinned = importlib.metadata.version("boto3")  # the test environment's: no download
    if pinned == LAMBDA_SDK["boto3"]:
        pytest.skip("the test environment's boto3 is Lambda's: no other version to pin")
    root = write_project(tmp_path / "p", config("pin"), {
        "fns.py": HANDLER, "requirements.txt": f"boto3=={pinned}\n"})
    for answer in run_both(cloud, root):
        assert answer["boto3"] == pinned
        assert not answer["boto3_file"].startswith(str(layers_root()))


@pytest.mark.parametrize("version", ["3.12", "3.9"])
def test_the_declared_python_runs_the_function(cloud: Cloud, tmp_path: Path,
                                               version: str) -> None:
    """3.9 is the oldest Python aloft's runtime (standard library only) supports."""
    if find_interpreter(version) is None:
        pytest.skip(f"no python{version} here")
    name = "py" + version.replace(".", "")
    root = write_project(tmp_path / "p", config(name, version), {"fns.py": HANDLER})
    for answer in run_both(cloud, root):
        print(f"\n{name}: {answer['version']}")
        assert answer["python"] == version
        assert answer["boto3"] == LAMBDA_SDK["boto3"]
        assert f"python{version}-boto3" in answer["boto3_file"]


CHATTY = """
    import logging

    import boto3

    logger = logging.getLogger()
    logger.setLevel(logging.INFO)  # as AWS's examples set it
    boto3.client("dynamodb")  # at init, as most functions make their clients


    def chatty(event, context):
        boto3.client("lambda")
        boto3.client("s3")  # its endpoint is the function's own (environment, below)
        logger.info("made my clients")
        return "ok"
"""


def test_the_platforms_endpoints_add_no_log_lines(cloud: Cloud, tmp_path: Path) -> None:
    """botocore logs at INFO which variable gave a client its endpoint. The local cloud sets
    AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_LAMBDA) for every function, which Lambda never does:
    a function logging at INFO showed a line per client that it does not show on AWS. An
    endpoint of the function's own still shows, as on AWS."""
    root = write_project(tmp_path / "p", """
        service: chatty
        functions:
          chatty:
            handler: fns.chatty
            environment:
              AWS_ENDPOINT_URL_S3: http://127.0.0.1:9
        stages:
          dev: {}
    """, {"fns.py": CHATTY})
    svc = service(root)
    cloud.provider.deploy(svc)
    result = cloud.provider.invoke(svc, "chatty", {})
    assert result.error is None, (result.error, result.logs)
    # the function's whole log: its init (the dynamodb client) and the invocation
    text = "\n".join(line.text for line in cloud.provider.logs(svc, function="chatty"))
    assert "made my clients" in text, text
    assert "Found endpoint for s3 via: environment_service." in text, text
    assert "Found endpoint for lambda" not in text
    assert "environment_global" not in text


def _user_trace(trace: list[str], version: str) -> list[str]:
    """`trace` from the handler's frame on, checking what comes before it: nothing, or on
    Python 3.9 and 3.10 the one frame of aloft's entry point that re-raised the error (a bare
    `raise` adds no frame from 3.11 on: aloft.runtime.user_frames)."""
    if version in ("3.9", "3.10"):
        entry, *trace = trace
        assert "/aloft/runtime/handler.py" in entry and ", in handler\n    raise exc\n" in entry
    assert not any("/aloft/" in frame for frame in trace), trace
    return trace


@pytest.mark.parametrize("version", ["host", "3.9"])
def test_a_failing_handlers_trace_starts_at_its_own_frame(
        cloud: Cloud, tmp_path: Path, capfd: pytest.CaptureFixture[str], version: str) -> None:
    """The error object and the `[ERROR]` record of a handler that raises show the handler's
    frame first, as Lambda shows it (its runtime leaves its own frames out, and aloft leaves
    out those of its entry point and dispatch): in the local cloud and in `invoke --local`."""
    if version == "host":
        version = host_version()
    elif find_interpreter(version) is None:
        pytest.skip(f"no python{version} here")
    name = "trace" + version.replace(".", "")
    root = write_project(tmp_path / "p", f"""
        service: {name}
        runtime: '{version}'
        functions:
          orders:
            handler: lambda_function.lambda_handler
        stages:
          dev: {{}}
    """, {"lambda_function.py": LAMBDA_FUNCTION})
    svc = service(root)
    cloud.provider.deploy(svc)
    deployed = cloud.provider.invoke(svc, "orders", ORDER_EVENT)
    assert deployed.error is not None
    capfd.readouterr()
    local = invoke_locally(svc, "orders", ORDER_EVENT, progress=NullProgress())
    local_logs = capfd.readouterr().err
    assert not local.ok
    for where, error, logs in (("local cloud", deployed.payload, deployed.logs),
                               ("invoke --local", json.loads(local.output), local_logs)):
        assert (error["errorType"], error["errorMessage"]) == ORDER_ERROR, where
        trace = _user_trace(error["stackTrace"], version)
        path = trace[0].split('"')[1]
        assert path.endswith("/lambda_function.py"), where
        assert trace[0] == handler_frame(path), where
        [record] = [x for x in logs.split("\n") if x.startswith("[ERROR] ValueError")]
        logged = record.split("\r")
        assert logged[1] == "Traceback (most recent call last):", where
        assert logged[2:] == [_indented(line) for frame in error["stackTrace"]
                              for line in frame.splitlines()], where


def _indented(line: str) -> str:
    """A traceback's line as Lambda's runtime logs it: its indent in no-break spaces."""
    text = line.lstrip(" ")
    return "\u00a0" * (len(line) - len(text)) + text
