"""`aloft invoke STAGE FUNCTION --local` and `aloft unschedule`, run as a person runs them: the
real `aloft` in a pseudo-terminal. A failing function's traceback shows one row per line (the
runtime joins an error's lines with CR, which a terminal would print over each other), once;
Ctrl-C during a slow local invocation stops it at once with 130 and no traceback (the
function's process is interrupted too, and says nothing); a schedule's name typed wrong is an
error (that nothing changes is tests/unit/local/triggers/test_scheduler.py's)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.pty.conftest import Cloud
from tests.pty.test_session import ctrl_c_budget

pytestmark = pytest.mark.timeout(180)

CONFIG = """\
service: jobs
functions:
  fails:
    handler: jobs.fail
  slow:
    handler: jobs.slow
  tick:
    handler: jobs.tick
    events:
      - schedule: rate(1 day)
"""

CODE = """\
import time


def fail(event, context):
    return helper(event)


def helper(event):
    raise KeyError("no such order")


def slow(event, context):
    print("working", flush=True)
    time.sleep(60)


def tick(event, context):
    return "ticked"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "aloft.yml").write_text(CONFIG)
    (tmp_path / "jobs.py").write_text(CODE)
    return tmp_path


def test_a_failing_functions_traceback_shows_one_row_per_line_once(
        cloud: Cloud, project: Path) -> None:
    done = cloud.run("invoke", "dev", "fails", "--local", cwd=project, timeout=90)
    assert done.code == 1, done.text
    raw = done.raw
    start = raw.index(b"[ERROR] KeyError")
    # every line ends as the terminal ends lines (CRLF): no CR that sends the cursor back
    assert re.search(rb"\r(?!\n)", raw[start:]) is None, raw[start:]
    text = done.text
    assert text.count('raise KeyError("no such order")') == 1, text
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("[ERROR] KeyError"))
    assert lines[at + 1].startswith("Traceback (most recent call last):"), text


def test_ctrl_c_stops_a_slow_local_invocation_at_once(cloud: Cloud, project: Path) -> None:
    with cloud.terminal("invoke", "dev", "slow", "--local", cwd=project) as term:
        term.expect("working", timeout=90)
        pressed = term.ctrl_c()
        done = term.wait(30)
    assert done.code == 130, done.text
    assert time.monotonic() - pressed < 2 * ctrl_c_budget() + 1, done.text
    assert "Traceback" not in done.text


def test_unschedule_with_a_wrong_name_changes_nothing(cloud: Cloud, project: Path) -> None:
    deployed = cloud.run("deploy", "dev", cwd=project, timeout=120)
    assert deployed.code == 0, deployed.text
    wrong = cloud.run("unschedule", "dev", "tick", "tikc", cwd=project)
    assert wrong.code == 1, wrong.text
    assert "'tikc'" in wrong.text and "Traceback" not in wrong.text
    right = cloud.run("unschedule", "dev", "tick", cwd=project)
    assert right.code == 0, right.text
    assert cloud.run("undeploy", "dev", "--yes", cwd=project).code == 0
