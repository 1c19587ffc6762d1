"""A function's own `runtime` on the local cloud: it runs on that Python (with Lambda's runtime
layer for it), the others on the service's; a change of it publishes a new version; a Python
not installed here is said, and the function runs on the service's."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from aloft.package.python import find_interpreter
from tests.integration.local.cloud_helpers import (
    USER,
    Cloud,
    cloud_fixture,
    lambda_client,
    service,
    write_project,
)

HOST = f"{sys.version_info[0]}.{sys.version_info[1]}"
OTHER = next((v for v in ("3.12", "3.13", "3.11", "3.10") if v != HOST and find_interpreter(v)),
             None)
cloud = cloud_fixture(USER)  # the Invoke API takes the test user's credentials

HANDLERS = """
    import sys

    def version(event, context):
        return "%d.%d" % sys.version_info[:2]
"""


def _project(root: Path, own: str) -> Path:
    return write_project(root, f"""
        service: pyver
        runtime: "{HOST}"
        functions:
          host:
            handler: h.version
          own:
            handler: h.version
            runtime: "{own}"
        stages:
          dev: {{}}
    """, {"h.py": HANDLERS})


def _ran_on(cloud: Cloud, function: str) -> str:
    got = lambda_client(cloud).invoke(FunctionName=f"pyver-dev-{function}", Payload=b"{}")
    return str(json.loads(got["Payload"].read()))


@pytest.mark.skipif(OTHER is None, reason=f"needs a Python other than {HOST} installed here")
def test_a_function_runs_on_its_own_python(cloud: Cloud, tmp_path: Path) -> None:
    assert OTHER is not None
    svc = service(_project(tmp_path, OTHER))
    deployed = cloud.provider.deploy(svc)
    assert not any("runtime" in w for w in deployed.warnings), deployed.warnings
    assert _ran_on(cloud, "own") == OTHER
    assert _ran_on(cloud, "host") == HOST
    # back to the service's Python: that function gets a new version, the other keeps its own
    again = cloud.provider.deploy(service(_project(tmp_path, HOST)))
    assert again.functions == {"host": deployed.functions["host"],
                               "own": deployed.functions["own"] + 1}
    assert _ran_on(cloud, "own") == HOST
    cloud.provider.undeploy(svc)


def test_a_python_not_installed_is_said(cloud: Cloud, tmp_path: Path) -> None:
    svc = service(_project(tmp_path, "3.99"))
    deployed = cloud.provider.deploy(svc)
    assert any("`functions.own.runtime`: Python 3.99 is not installed here" in w
               for w in deployed.warnings), deployed.warnings
    assert _ran_on(cloud, "own") == HOST
    cloud.provider.undeploy(svc)
