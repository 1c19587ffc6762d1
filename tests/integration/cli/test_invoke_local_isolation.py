"""`aloft invoke --local` runs the function as the local cloud's instances run: narrowed to its
code, layer and runtime (worker/sandbox.py `run`), not the user's home, the local cloud's home
or the build cache. The user's home here is a directory outside /tmp (as /home/<user> is), with
the project inside it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from aloft.local.instances import isolation
from tests.integration.cli.cli_run import Aloft
from tests.isolation_required import no_isolation

pytestmark = pytest.mark.slow

HANDLER = '''
import os


def _try(path):
    try:
        if os.path.isdir(path):
            return f"dir {sorted(os.listdir(path))}"
        with open(path) as f:
            return f"read {f.read()!r}"
    except OSError as exc:
        return type(exc).__name__


def look(event, context):
    seen = {name: _try(path) for name, path in event["paths"].items()}
    with open("/tmp/scratch", "w") as f:  # its own /tmp is writable
        f.write("x")
    try:
        with open("handler.py", "a") as f:  # its code is read-only, as in /var/task
            f.write("#")
        seen["write code"] = "written"
    except OSError as exc:
        seen["write code"] = type(exc).__name__
    import boto3  # the runtime's, from the build cache, which is otherwise hidden

    seen["boto3"] = boto3.__name__
    seen["data"] = _try(os.environ.get("DATA_FILE", "/nonexistent"))
    # what it hides and keeps is neither in its environment nor on its command line (`ps`)
    seen["spec in environment"] = any("hide" in v for v in os.environ.values())
    with open("/proc/self/cmdline", "rb") as f:
        seen["spec on command line"] = b"hide" in f.read()
    return seen
'''


@pytest.fixture(params=["in the home", "outside it"])
def user_home(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A home directory outside /tmp holding a secret, the local cloud's home (a token) and
    the project, `shop` (in the home, or a link there to a project outside it, as /srv/shop
    would be)."""
    mode, described = isolation.probe()
    if mode == "none":  # pragma: no cover - a machine without isolation
        no_isolation(described)
    home = Path(tempfile.mkdtemp(prefix="aloft-user-", dir="/var/tmp"))
    srv = Path(tempfile.mkdtemp(prefix="aloft-srv-", dir="/var/tmp"))
    try:
        (home / "notes.txt").write_text("the user's secret")
        cloud = home / ".local" / "share" / "aloft"
        cloud.mkdir(parents=True)
        (cloud / "token").write_text("control-token")
        project = home / "shop"
        if request.param == "outside it":
            project = srv / "shop"
            (home / "shop").symlink_to(project)
        project.mkdir()
        (project / "handler.py").write_text(HANDLER)
        (project / "data").mkdir()
        (project / "data" / "prices.csv").write_text("apple,1\n")
        (project / "aloft.yml").write_text(
            "service: shop\nfunctions:\n  look:\n    handler: handler.look\n"
            f"    environment:\n      DATA_FILE: {project / 'data' / 'prices.csv'}\n")
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(srv, ignore_errors=True)


def _invoke(aloft: Aloft, home: Path, **env: str) -> tuple[dict[str, str], str]:
    event = {"paths": {"secret": str(home / "notes.txt"),
                       "token": str(home / ".local" / "share" / "aloft" / "token"),
                       "project": str((home / "shop" / "aloft.yml").resolve()),
                       "own code": "handler.py"}}
    result = aloft("invoke", "--local", "look", "--data", json.dumps(event), cwd=home / "shop",
                   env={"HOME": str(home), "ALOFT_HOME": str(home / ".local" / "share" / "aloft"),
                        **env})
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert isinstance(seen, dict)
    return seen, result.stderr


def test_a_local_invocation_sees_its_code_not_the_users_files(aloft: Aloft, user_home: Path
                                                               ) -> None:
    seen, stderr = _invoke(aloft, user_home)
    assert seen["secret"] == "FileNotFoundError"
    assert seen["token"] == "FileNotFoundError"
    assert seen["project"] == "FileNotFoundError"  # the project's own files beside the build
    assert seen["own code"].startswith("read ") and "def look" in seen["own code"]
    assert seen["write code"] == "OSError"  # EROFS
    assert seen["boto3"] == "boto3"
    assert seen["data"] == "FileNotFoundError"
    assert seen["spec in environment"] is False
    assert seen["spec on command line"] is False
    # The deploy's warning, with the fix for this command (as one line: the console wraps it)
    said = " ".join(stderr.split())
    data = (user_home / "shop" / "data").resolve()
    assert f"environment DATA_FILE names {data / 'prices.csv'}, which functions run by" in said
    assert f"ALOFT_SANDBOX_SHARE={data} aloft invoke --local" in said
    # Bytecode still goes to the project's .aloft/pycache (shared read-write)
    assert any((user_home / "shop" / ".aloft" / "pycache").rglob("handler*.pyc"))


def test_a_shared_directory_is_seen_and_the_switch_turns_isolation_off(
    aloft: Aloft, user_home: Path
) -> None:
    shared = str(user_home / "shop" / "data")
    seen, stderr = _invoke(aloft, user_home,
                           ALOFT_SANDBOX_SHARE=os.pathsep.join(
                               [os.environ.get("ALOFT_SANDBOX_SHARE", ""), shared]))
    assert seen["data"] == "read 'apple,1\\n'"
    assert seen["secret"] == "FileNotFoundError"
    assert "DATA_FILE" not in stderr

    seen, _ = _invoke(aloft, user_home, ALOFT_SANDBOX="0")
    assert seen["secret"] == "read \"the user's secret\""
    assert seen["token"] == "read 'control-token'"
    assert seen["write code"] == "written"
