"""`aloft package` and `aloft invoke --local` on the examples, through the real command line."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli.cli_run import Aloft

pytestmark = pytest.mark.slow


def response(stdout: str) -> dict[str, Any]:
    data = json.loads(stdout)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def flask_hello(aloft: Aloft, example: Callable[[str], Path]) -> Path:
    root = example("flask-hello")
    result = aloft("package", cwd=root)  # the slow first build, shared by the module
    assert result.returncode == 0, result.stderr
    return root


def test_package_prints_artifacts_and_largest_packages(aloft: Aloft, flask_hello: Path) -> None:
    result = aloft("package", cwd=flask_hello)
    assert result.returncode == 0, result.stderr
    assert "code.zip" in result.stdout and "layer.zip" in result.stdout
    assert "Flask" in result.stdout and "Werkzeug" in result.stdout
    assert "layer from cache" in result.stdout


def test_package_json_is_the_manifest(aloft: Aloft, flask_hello: Path) -> None:
    result = aloft("package", "--json", cwd=flask_hello)
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    code = Path(manifest["code"]["path"])
    assert code.stat().st_size == manifest["code"]["size"]
    assert hashlib.sha256(code.read_bytes()).hexdigest() == manifest["code"]["sha256"]
    assert manifest["layer"] is not None
    assert {p["name"].lower() for p in manifest["packages"]} >= {"flask", "werkzeug"}


def test_invoke_local_app_root(aloft: Aloft, flask_hello: Path) -> None:
    result = aloft("invoke", "--local", "app", "--path", "/", cwd=flask_hello)
    assert result.returncode == 0, result.stderr
    reply = response(result.stdout)
    assert reply["statusCode"] == 200
    assert "Hello from aloft!" in reply["body"]
    assert 'href="/hello/aloft"' in reply["body"]  # url_for through the WSGI bridge
    runs = list((flask_hello / ".aloft" / "run").iterdir())
    assert len(runs) == 2  # code and layer, unpacked once each, content-addressed


def test_invoke_local_app_json_route_and_post(aloft: Aloft, flask_hello: Path) -> None:
    hello = aloft("invoke", "--local", "app", "--path", "/hello/Ada", cwd=flask_hello)
    assert hello.returncode == 0, hello.stderr
    assert json.loads(response(hello.stdout)["body"])["message"] == "Hello, Ada!"
    echo = aloft("invoke", "--local", "app", "--path", "/echo", "--method", "POST",
                 "-H", "content-type: application/json", "--body", '{"a": 1}', cwd=flask_hello)
    assert echo.returncode == 0, echo.stderr
    reply = response(echo.stdout)
    assert reply["body"] == '{"a": 1}'
    assert reply["headers"]["content-type"] == "application/json"


def test_invoke_local_app_full_event_from_a_file(aloft: Aloft, flask_hello: Path,
                                                 tmp_path: Path) -> None:
    event = {
        "version": "2.0", "routeKey": "$default", "rawPath": "/hello/file",
        "rawQueryString": "", "headers": {"host": "example.com"},
        "requestContext": {"http": {"method": "GET", "path": "/hello/file",
                                    "protocol": "HTTP/1.1", "sourceIp": "10.0.0.1",
                                    "userAgent": "test"},
                           "stage": "$default", "requestId": "r1", "accountId": "1",
                           "apiId": "a", "domainName": "example.com", "domainPrefix": "example",
                           "routeKey": "$default", "time": "", "timeEpoch": 0},
        "isBase64Encoded": False,
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    result = aloft("invoke", "--local", "app", "--event", str(path), cwd=flask_hello)
    assert result.returncode == 0, result.stderr
    assert json.loads(response(result.stdout)["body"])["message"] == "Hello, file!"


def test_invoke_local_raw_prints_what_the_code_printed(aloft: Aloft, flask_hello: Path) -> None:
    result = aloft("invoke", "--local", "app", "--raw", "import flask; print(40 + 2)",
                   cwd=flask_hello)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "42\n"
    failed = aloft("invoke", "--local", "app", "--raw", "1 / 0", cwd=flask_hello)
    assert failed.returncode == 1
    assert "ZeroDivisionError" in failed.stderr


@pytest.fixture(scope="module")
def functions(example: Callable[[str], Path]) -> Path:
    return example("functions")


def test_package_without_dependencies_has_no_layer(aloft: Aloft, functions: Path) -> None:
    result = aloft("package", "--json", cwd=functions)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["layer"] is None


def test_invoke_local_http_function(aloft: Aloft, functions: Path) -> None:
    result = aloft("invoke", "--local", "hello", "--path", "/hello?name=Ada", cwd=functions)
    assert result.returncode == 0, result.stderr
    body = json.loads(response(result.stdout)["body"])
    assert body == {"message": "Hello, Ada!", "function": "functions-dev-hello"}


def test_invoke_local_schedule_function_logs_to_stderr(aloft: Aloft, functions: Path) -> None:
    result = aloft("invoke", "dev", "tick", "--local", "--data", '{"job": "heartbeat"}',
                   cwd=functions)
    assert result.returncode == 0, result.stderr
    assert response(result.stdout)["job"] == "heartbeat"
    assert "tick for heartbeat" in result.stderr
    assert "tick for" not in result.stdout


def test_invoke_local_queue_records_each_reports_the_failed_message(
    aloft: Aloft, functions: Path
) -> None:
    result = aloft("invoke", "--local", "worker", "--event", "events/jobs.json", cwd=functions)
    assert result.returncode == 0, result.stderr
    assert response(result.stdout) == {
        "batchItemFailures": [{"itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da"}]
    }
    assert "processed job 1: resize" in result.stderr
    assert "job 2 asked to fail" in result.stderr


def test_invoke_local_failure_exits_1_with_the_error_object(aloft: Aloft,
                                                             functions: Path) -> None:
    result = aloft("invoke", "--local", "hello", "--data", '"not an object"', cwd=functions)
    assert result.returncode == 1
    error = response(result.stdout)
    assert error["errorType"] == "AttributeError"
    lines = [line for line in result.stderr.splitlines() if line.startswith(("error:", "fix:"))]
    assert lines[0].startswith("error: function 'hello', stage 'dev': failed: AttributeError: ")
    assert "Traceback" in result.stderr  # the function's own traceback, as its log


def test_invoke_local_shows_an_error_record_one_row_per_line(aloft_cache: Path,
                                                             functions: Path) -> None:
    """Lambda's runtime joins an error's lines with CR: shown as they are, the traceback would
    overwrite itself on a terminal (read as bytes: text mode would turn CRs into newlines)."""
    script = Path(sys.executable).parent / "aloft"
    done = subprocess.run(
        [str(script), "invoke", "--local", "hello", "--data", '"not an object"'],
        cwd=functions, capture_output=True, timeout=600, check=False,
        env={**os.environ, "ALOFT_CACHE_DIR": str(aloft_cache), "NO_COLOR": "1"})
    assert done.returncode == 1
    assert b"\r" not in done.stderr
    rows = done.stderr.decode().split("\n")
    record = next(i for i, row in enumerate(rows) if row.startswith("[ERROR] AttributeError"))
    assert rows[record + 1] == "Traceback (most recent call last):"


def test_invoke_local_unknown_function(aloft: Aloft, functions: Path) -> None:
    result = aloft("invoke", "--local", "nope", cwd=functions)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "fix: use one of: hello, tick, worker"


def test_invoke_by_handler_path_names_the_function(aloft: Aloft, functions: Path) -> None:
    """`zappa invoke dev handlers.process_job` takes a handler's path: the fix names its
    function."""
    result = aloft("invoke", "--local", "handlers.process_job", cwd=functions)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "fix: name the function, not its handler: worker"
