"""`python -S -m aloft.runtime.invoke` as `aloft invoke --local` runs it: the runtime copied
into a code dir (as the packager does), no site-packages, one JSON document on stdout.
These tests spawn processes: the one place in the runtime's unit tests that must."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import aloft
from tests.unit.runtime.runtime_helpers import (
    LAMBDA_FUNCTION,
    ORDER_ERROR,
    ORDER_EVENT,
    handler_frame,
    load_event,
    make_settings,
)

SRC_ALOFT = Path(aloft.__file__).resolve().parent

FUNCS = '''
import logging, sys
import layerdep

def hello(event, context):
    print("printed by the function")
    logging.getLogger("fn").warning("logged by the function")
    sys.stdout.write("written to stdout\\n")
    return {"got": event, "name": context.function_name, "dep": layerdep.VALUE,
            "left": context.get_remaining_time_in_millis() > 0}

def broken(event, context):
    raise ValueError("bad input: " + str(event))

def unjsonable(event, context):
    return {1, 2}

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("path=" + environ["SCRIPT_NAME"] + "|" + environ["PATH_INFO"]).encode()]
'''


def package_runtime(code: Path) -> None:
    """Copy aloft/__init__.py and aloft/runtime the way an artifact holds them."""
    (code / "aloft").mkdir(parents=True)
    shutil.copy(SRC_ALOFT / "__init__.py", code / "aloft" / "__init__.py")
    shutil.copytree(SRC_ALOFT / "runtime", code / "aloft" / "runtime",
                    ignore=shutil.ignore_patterns("__pycache__"))


@pytest.fixture
def artifact(tmp_path: Path) -> tuple[Path, Path]:
    code, layer = tmp_path / "code", tmp_path / "layer"
    package_runtime(code)
    (code / "funcs.py").write_text(FUNCS)
    layer.mkdir()
    (layer / "layerdep.py").write_text("VALUE = 'from the layer'\n")
    functions = {
        name: {"handler": f"funcs.{name}", "records": "batch", "payload": "2.0"}
        for name in ("hello", "broken", "unjsonable")
    }
    functions["app"] = {"handler": None, "records": "batch", "payload": "2.0"}
    (code / "aloft_settings.json").write_text(
        json.dumps(make_settings(app="funcs:app", functions=functions))
    )
    return code, layer


def invoke(artifact: tuple[Path, Path], function: str, event: Any, **env: str) -> Any:
    code, layer = artifact
    return subprocess.run(
        [sys.executable, "-S", "-m", "aloft.runtime.invoke"],
        input=json.dumps(event), capture_output=True, text=True, timeout=60, cwd=code.parent,
        env={"PYTHONPATH": f"{code}:{layer}", "ALOFT_FUNCTION": function,
             "AWS_LAMBDA_FUNCTION_NAME": f"svc-dev-{function}", "PATH": "/usr/bin:/bin", **env},
    )


def test_result_alone_on_stdout(artifact: tuple[Path, Path]) -> None:
    done = invoke(artifact, "hello", {"n": 1})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "got": {"n": 1}, "name": "svc-dev-hello", "dep": "from the layer", "left": True
    }
    assert done.stdout.count("\n") == 1
    for text in ("printed by the function", "logged by the function", "written to stdout"):
        assert text in done.stderr


def test_error_object_and_exit_code(artifact: tuple[Path, Path]) -> None:
    done = invoke(artifact, "broken", {"n": 2})
    assert done.returncode == 1
    error = json.loads(done.stdout)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "bad input: {'n': 2}"
    assert any("raise ValueError" in frame for frame in error["stackTrace"])
    # Logged once, as Lambda's runtime logs it: `[ERROR] Type: message` and the traceback.
    assert done.stderr.count("Traceback") == 1, done.stderr
    assert "[ERROR] ValueError: bad input: {'n': 2}" in done.stderr


def test_a_failing_handlers_trace_starts_at_its_own_frame(artifact: tuple[Path, Path]) -> None:
    """As Lambda shows it: the handler's frame first, none of aloft's runtime before it, in
    the error object and in the `[ERROR]` record logged with it."""
    code, _ = artifact
    (code / "lambda_function.py").write_text(LAMBDA_FUNCTION)
    settings = json.loads((code / "aloft_settings.json").read_text())
    settings["functions"]["orders"] = {"handler": "lambda_function.lambda_handler",
                                       "records": "batch", "payload": "2.0"}
    (code / "aloft_settings.json").write_text(json.dumps(settings))
    done = invoke(artifact, "orders", ORDER_EVENT)
    assert done.returncode == 1, done.stderr
    error = json.loads(done.stdout)
    assert (error["errorType"], error["errorMessage"]) == ORDER_ERROR
    first = handler_frame(str(code / "lambda_function.py"))
    assert error["stackTrace"][0] == first
    assert not any("/aloft/" in frame for frame in error["stackTrace"])
    lines = done.stderr.splitlines()  # (text mode: the record's \r are line ends here)
    at = lines.index(f"[ERROR] {ORDER_ERROR[0]}: {ORDER_ERROR[1]}")
    assert lines[at + 1:at + 3] == ["Traceback (most recent call last):",
                                    first.splitlines()[0].replace(" ", "\u00a0", 2)]


def test_unmarshalable_result(artifact: tuple[Path, Path]) -> None:
    done = invoke(artifact, "unjsonable", {})
    assert done.returncode == 1
    assert json.loads(done.stdout)["errorType"] == "Runtime.MarshalError"


def test_init_error_is_reported(artifact: tuple[Path, Path]) -> None:
    done = invoke(artifact, "nope", {})
    assert done.returncode == 3  # init failed: `aloft invoke --local` shows it itself
    error = json.loads(done.stdout)
    assert error["errorType"] == "Runtime.InitError"
    assert "ALOFT_FUNCTION='nope'" in error["errorMessage"]
    assert "Traceback" not in done.stderr  # the CLI shows the error object, once


def test_http_event_through_the_app_with_base_path(artifact: tuple[Path, Path]) -> None:
    event = load_event("v2_base_path.json")
    done = invoke(artifact, "app", event, ALOFT_BASE_PATH="/svc/dev")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["statusCode"] == 200 and result["body"] == "path=/svc/dev|/items"


def test_runtime_imports_only_the_standard_library(tmp_path: Path) -> None:
    """Import every runtime module with no site-packages and only aloft's shipped files on the
    path, then check that every loaded top-level module is the standard library's (or aloft)."""
    code = tmp_path / "code"
    package_runtime(code)
    script = '''
import importlib, pkgutil, sys
import aloft.runtime
modules = pkgutil.walk_packages(aloft.runtime.__path__, "aloft.runtime.")
names = ["aloft"] + [m.name for m in modules]
for name in names:
    importlib.import_module(name)
foreign = sorted({m.split(".")[0] for m in sys.modules} - set(sys.stdlib_module_names)
                 - set(sys.builtin_module_names) - {"aloft", "__main__"})
print(len(names), foreign)
'''
    done = subprocess.run(
        [sys.executable, "-S", "-P", "-c", script], capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"}, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    count, foreign = done.stdout.split(" ", 1)
    assert int(count) >= 15
    assert foreign.strip() == "[]"
