"""A stage's first deploy publishes an app that answers its health path with a 5xx (Zappa's
rule, aloft.health), later deploys do not; `release:` commands run in the new version after it
initialised and before its health check, and one failing keeps the previous version serving.
Against a real daemon."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from aloft.errors import DeployError
from tests.integration.local.cloud_helpers import Cloud, cloud_fixture, get, service, write_project

# The app answers its health path /ready with 500 until the release command `jobs.migrate`
# has written its marker (a database that is not migrated yet).
APP = """
    import os

    VERSION = "v1"
    MARKER = os.path.join(os.environ["OUT_DIR"], "migrated")

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/ready" and not os.path.exists(MARKER):
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"relation \\"shop_item\\" does not exist"]
        body = f"{VERSION} script={environ.get('SCRIPT_NAME')!r} path={path}".encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
"""

JOBS = """
    import os
    import sys

    def migrate(*args):
        if os.path.exists(os.path.join(os.environ["OUT_DIR"], "fail-release")):
            print("Applying shop.0002... FAILED")
            raise RuntimeError("migration 0002 failed")
        with open(os.path.join(os.environ["OUT_DIR"], "migrated"), "w") as fh:
            fh.write(" ".join(args))
        print("Applying shop.0001_initial... OK", *args)
"""


cloud = cloud_fixture()


def project(root: Path, name: str, *, version: str = "v1", release: str = "") -> Path:
    """The project in `root`/`name`; what its functions write goes to `root`/out (not in the
    project: functions cannot see it)."""
    out = root / "out"
    out.mkdir(parents=True, exist_ok=True)
    return write_project(root / name, f"""
        service: {name}
        app: app:app
        health_path: /ready
        environment:
          OUT_DIR: {out}
        {release}
        stages:
          dev: {{}}
    """, {"app.py": textwrap.dedent(APP).replace('"v1"', f'"{version}"'), "jobs.py": JOBS})


def test_a_first_deploy_serves_with_a_5xx_and_later_ones_do_not(cloud: Cloud,
                                                                 tmp_path: Path) -> None:
    root = project(tmp_path, "firstfive")
    first = cloud.provider.deploy(service(root))
    assert first.version == 1
    [warning] = first.warnings
    assert "answered GET /ready with 500" in warning and "first deploy" in warning
    assert 'relation "shop_item" does not exist' in warning  # the app's answer
    assert "aloft manage dev migrate" in warning
    # it serves (at both of its URLs), so that a command can run in it
    assert get(cloud.url("/firstfive/dev/x")) == (200, b"v1 script='/firstfive/dev' path=/x")
    assert get(cloud.url("/x"), headers={"Host": f"dev.firstfive.localhost:{cloud.port}"}) \
        == (200, b"v1 script='' path=/x")
    assert first.urls == [f"http://dev.firstfive.localhost:{cloud.port}/",
                          cloud.url("/firstfive/dev/")]

    # the stage serves now: a new version answering 500 does not replace it
    project(tmp_path, "firstfive", version="v2")
    with pytest.raises(DeployError) as failure:
        cloud.provider.deploy(service(root))
    assert "failed its health check (GET /ready answered 500)" in str(failure.value)
    assert "the previous version keeps serving" in str(failure.value)
    assert get(cloud.url("/firstfive/dev/x"))[1].startswith(b"v1 ")
    assert cloud.provider.status(service(root)).version == 1


def test_a_first_deploy_that_cannot_initialise_deploys_nothing(cloud: Cloud,
                                                               tmp_path: Path) -> None:
    root = project(tmp_path, "firstbroken")
    (root / "app.py").write_text("raise RuntimeError('broken on purpose')\n")
    with pytest.raises(DeployError) as failure:
        cloud.provider.deploy(service(root))
    assert "failed to initialise; nothing was deployed" in str(failure.value)
    assert get(cloud.url("/firstbroken/dev/"))[0] == 404


def test_release_commands_run_before_the_health_check(cloud: Cloud, tmp_path: Path) -> None:
    out = tmp_path / "out"
    root = project(tmp_path, "released", release="release: ['jobs.migrate --noinput']")
    planned = cloud.provider.deploy(service(root), plan_only=True)
    assert [(s.action, s.resource) for s in planned.plan if s.action == "release"] == [
        ("release", "jobs.migrate --noinput")]
    first = cloud.provider.deploy(service(root))
    assert first.warnings == []  # the release migrated before /ready was asked
    assert (out / "migrated").read_text() == "--noinput"
    [(command, output)] = first.release
    assert command == "jobs.migrate --noinput" and "0001_initial... OK --noinput" in output

    # a failing release command: the new version never serves
    (out / "fail-release").touch()
    project(tmp_path, "released", version="v2", release="release: ['jobs.migrate']")
    with pytest.raises(DeployError) as failure:
        cloud.provider.deploy(service(root))
    text = str(failure.value)
    assert "release command `jobs.migrate` failed in version 2" in text
    assert "migration 0002 failed" in text and "0002... FAILED" in text
    assert "the previous version keeps serving" in text
    assert get(cloud.url("/released/dev/x"))[1].startswith(b"v1 ")

    (out / "fail-release").unlink()
    third = cloud.provider.deploy(service(root))
    assert third.version == 2 and get(cloud.url("/released/dev/x"))[1].startswith(b"v2 ")
