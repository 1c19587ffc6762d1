"""Provisioned concurrency at a terminal: `aloft deploy` in a pseudo-terminal leaves the
function's instances initialised before any request, and `aloft status` says how many."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.pty.conftest import Cloud
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(180)


def test_deploy_then_status_shows_the_provisioned_instances(cloud: Cloud,
                                                            tmp_path: Path) -> None:
    (tmp_path / "aloft.yml").write_text(textwrap.dedent("""\
        service: warm
        functions:
          hello:
            handler: h.hello
            provisioned_concurrency: 2
            keep_alive: 1
        stages:
          dev: {}
    """))
    (tmp_path / "h.py").write_text("def hello(event, context):\n    return 'hi'\n")
    deployed = cloud.run("deploy", "dev", cwd=tmp_path, timeout=120)
    assert deployed.code == 0, deployed.text
    assert "provisioned" not in deployed.text  # nothing to warn of

    def status() -> str:
        done = cloud.run("status", "dev", cwd=tmp_path, timeout=20)
        assert done.code == 0, done.text
        return done.text

    # the functions table: `provisioned` last, `2/2` once both are initialised
    def initialised() -> str | None:
        text = status()
        return text if re.search(r"^hello\s.*\s2/2\s*$", text, re.M) else None

    text = wait_until(initialised, message="status showing hello's 2/2 provisioned instances")
    # (a terminal of 80 columns shortens the headings): 2 instances, 0 invocations so far
    assert re.search(r"^hello\s+\S+\s+1\s+512\s+30\s+2\s+0\s.*\s2/2\s*$", text, re.M), text
