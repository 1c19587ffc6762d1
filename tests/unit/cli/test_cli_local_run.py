from __future__ import annotations

from pathlib import Path

from aloft.cli.local_run import error_summary, instance_environment
from aloft.config import load_project
from tests.unit.cli.cli_helpers import write

CONFIG = """\
service: shop
environment: {SHARED: "1", LEVEL: service}
functions:
  worker:
    handler: jobs.work
    memory: 1024
    timeout: 45
    environment: {LEVEL: function}
"""


def test_instance_environment_is_lambda_like_and_does_not_leak_the_shell(tmp_path: Path) -> None:
    write(tmp_path, {"aloft.yml": CONFIG})
    service = load_project(tmp_path).service()
    shell = {"PATH": "/usr/bin", "HOME": "/root", "AWS_SECRET_ACCESS_KEY": "s3cr3t",
             "PYTHONPATH": "/elsewhere", "VIRTUAL_ENV": "/venv"}
    env = instance_environment(service, "worker", tmp_path / "code", tmp_path / "layer",
                               base=shell)
    assert env["PATH"] == "/usr/local/bin:/usr/bin/:/bin:/opt/bin"  # Lambda's
    assert env["HOME"] == "/root"
    assert "AWS_SECRET_ACCESS_KEY" not in env and "VIRTUAL_ENV" not in env
    assert env["PYTHONPATH"] == f"{tmp_path / 'code'}:{tmp_path / 'layer' / 'python'}"
    assert (env["SHARED"], env["LEVEL"]) == ("1", "function")
    assert env["ALOFT_FUNCTION"] == "worker" and env["ALOFT_TIMEOUT"] == "45"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "shop-dev-worker"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "1024"
    assert env["PYTHONPYCACHEPREFIX"] == str(tmp_path / ".aloft" / "pycache")
    no_layer = instance_environment(service, "worker", tmp_path / "code", None, base=shell)
    assert no_layer["PYTHONPATH"] == str(tmp_path / "code")


def test_error_summary() -> None:
    assert error_summary('{"errorType": "KeyError", "errorMessage": "x"}') == "KeyError: x"
    assert error_summary("not json") == "not json"
    assert error_summary("", 139) == "the instance process exited with code 139 and no result"
