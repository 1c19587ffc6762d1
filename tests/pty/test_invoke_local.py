"""`aloft invoke STAGE FUNCTION --local` and `aloft unschedule`, run as a person runs them: the
real `aloft` in a pseudo-terminal. A failing function's traceback shows one row per line (the
runtime joins an error's lines with CR, which a terminal would print over each other), once;
Ctrl-C during a slow local invocation stops it at once with 130 and no traceback (the
function's process is interrupted too, and says nothing); a function that cannot be isolated
(a shared directory its sandbox cannot mount) does not run, and the error says why and how to
run it anyway; a schedule's name typed wrong is an error (that nothing changes is
tests/unit/local/triggers/test_scheduler.py's)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from aloft.local.instances import isolation
from tests.isolation_required import no_isolation
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
  hello:
    handler: jobs.hello
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


def hello(event, context):
    print("the function ran", flush=True)
    return "hello"
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


def test_a_function_that_cannot_be_isolated_does_not_run(cloud: Cloud, project: Path) -> None:
    """A directory shared with the function that its sandbox cannot mount (another user's
    process's root, here init's, out of reach from the sandbox's user namespace): the
    function does not run unisolated, the error says why, where and how to run it anyway."""
    mode, described = isolation.probe()
    if mode != isolation.NAMESPACES:  # pragma: no cover - a machine without namespaces
        no_isolation(described)
    done = cloud.run("invoke", "dev", "hello", "--local", cwd=project, timeout=90,
                     ALOFT_SANDBOX_SHARE="/proc/1/root")
    assert done.code == 1, done.text
    text = " ".join(done.text.split())  # (rich wraps at the width)
    assert "aloft: cannot isolate the function: [Errno 13] Permission denied: '/proc/1/root'" \
        in text, text
    assert ("error: function 'hello', stage 'dev': could not isolate the function (why is "
            "said above); it did not run") in text, text
    assert "fix: run it without isolation: ALOFT_SANDBOX=0 aloft invoke --local" in text, text
    assert "the function ran" not in text and "Traceback" not in text
    ran = cloud.run("invoke", "dev", "hello", "--local", cwd=project, timeout=90)
    assert ran.code == 0 and "the function ran" in ran.text, ran.text


def test_unschedule_with_a_wrong_name_changes_nothing(cloud: Cloud, project: Path) -> None:
    deployed = cloud.run("deploy", "dev", cwd=project, timeout=120)
    assert deployed.code == 0, deployed.text
    wrong = cloud.run("unschedule", "dev", "tick", "tikc", cwd=project)
    assert wrong.code == 1, wrong.text
    assert "'tikc'" in wrong.text and "Traceback" not in wrong.text
    right = cloud.run("unschedule", "dev", "tick", cwd=project)
    assert right.code == 0, right.text
    assert cloud.run("undeploy", "dev", "--yes", cwd=project).code == 0
