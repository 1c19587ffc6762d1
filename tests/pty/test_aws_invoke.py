"""`aloft invoke STAGE FUNCTION` on an aws stage, run as a person runs it: the real `aloft` in
a pseudo-terminal, boto3 pointed at a fake Lambda endpoint (AWS_ENDPOINT_URL, as LocalStack
users do). It prints the return value and Lambda's log tail, exits 1 with the function's error,
and Ctrl-C during a slow invocation stops it at once with 130 and no traceback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_lambda_endpoint import FakeAws
from tests.pty.conftest import Cloud
from tests.pty.test_session import ctrl_c_budget

pytestmark = pytest.mark.timeout(120)

CONFIG = """\
service: shop
functions:
  worker:
    handler: jobs.work
  fails:
    handler: jobs.fail
stages:
  prod:
    provider: aws
    aws:
      region: eu-west-1
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "aloft.yml").write_text(CONFIG)
    (tmp_path / "jobs.py").write_text("def work(event, context):\n    return event\n\n\n"
                                      "def fail(event, context):\n    raise KeyError(event)\n")
    return tmp_path


def aws_env(endpoint: FakeAws) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint.url, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}


@pytest.fixture(autouse=True)
def no_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own AWS settings stay out of the command's environment."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION",
                "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def fake() -> Iterator[FakeAws]:
    with FakeAws() as server:
        yield server


def test_it_prints_the_return_value_and_the_log_tail(cloud: Cloud, project: Path,
                                                      fake: FakeAws) -> None:
    with cloud.terminal("invoke", "prod", "worker", "--data", '{"x": 1}', cwd=project,
                        **aws_env(fake)) as term:
        done = term.wait(30)
    assert done.code == 0, done.text
    assert json.dumps({"ran": {"x": 1}}) in done.text
    assert "working on it" in done.text  # the tail Lambda sent back
    assert "Traceback" not in done.text
    assert len(fake.invocations) == 1
    assert fake.invocations[0].startswith("/2015-03-31/functions/shop-prod-worker/")


def test_a_failing_function_exits_1_with_its_error(cloud: Cloud, project: Path,
                                                   fake: FakeAws) -> None:
    with cloud.terminal("invoke", "prod", "fails", "--data", "{}", cwd=project,
                        **aws_env(fake)) as term:
        done = term.wait(30)
    assert done.code == 1, done.text
    assert "failed: no such job" in done.text
    assert "aloft tail prod --function fails" in done.text
    assert "Traceback" not in done.text


def test_ctrl_c_during_a_slow_invocation_exits_130(cloud: Cloud, project: Path) -> None:
    with FakeAws(slow=30) as fake, cloud.terminal("invoke", "prod", "worker", "--data", "{}",
                                                  cwd=project, **aws_env(fake)) as term:
        assert fake.arrived.wait(30), term.text  # the invocation is running
        pressed = term.ctrl_c()
        done = term.wait(10)
        took = time.monotonic() - pressed
    assert done.code == 130, done.text
    assert "Traceback" not in done.text
    assert took < ctrl_c_budget(), f"invoke stopped {took:.2f} s after Ctrl-C"
