"""Deploy, update, rollback, undeploy and health checks against a real daemon."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aloft.errors import DeployError, NotDeployedError
from tests.integration.local.cloud_helpers import JOBS, WSGI_APP, Cloud, get, service, write_project


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    c = Cloud(tmp_path_factory.mktemp("home"))
    c.start()
    yield c
    c.stop()


def project(root: Path, name: str, *, app: str = WSGI_APP, extra: str = "") -> Path:
    out = root / "out"
    out.mkdir(parents=True, exist_ok=True)
    return write_project(root, f"""
        service: {name}
        app: app:app
        functions:
          echo:
            handler: jobs.echo
        environment:
          OUT_DIR: {out}
        {extra}
        stages:
          dev: {{}}
    """, {"app.py": app, "jobs.py": JOBS})


def test_deploy_update_rollback_undeploy(cloud: Cloud, tmp_path: Path) -> None:
    root = project(tmp_path, "cycle")
    svc = service(root)
    first = cloud.provider.deploy(svc)
    assert first.url == cloud.url("/cycle/dev/")
    assert first.version == 1 and first.functions == {"app": 1, "echo": 1}
    status, body = get(first.url + "hello")
    assert (status, body) == (200, b"v1 /cycle/dev /hello")

    # unchanged: nothing to do, same version
    again = cloud.provider.deploy(svc, plan_only=True)
    assert [i["action"] for i in again.plan] == ["keep", "keep"]

    # a code-only change publishes new versions and serves them
    (root / "app.py").write_text((root / "app.py").read_text().replace('"v1"', '"v2"'))
    second = cloud.provider.deploy(service(root))
    assert second.version == 2 and second.functions == {"app": 2, "echo": 2}
    assert get(second.url + "hello") == (200, b"v2 /cycle/dev /hello")
    out = cloud.provider.invoke(svc, "echo", {"x": 1})
    assert out.error is None
    assert out.payload["version"] == "2" and out.payload["event"] == {"x": 1}
    assert out.payload["function"] == "cycle-dev-echo"
    assert out.payload["base_path"] == "/cycle/dev" and out.payload["region"] == "us-east-1"
    assert "REPORT RequestId" in out.logs

    status_data = cloud.provider.status(svc)
    assert status_data["version"] == 2
    assert {f["function"]: f["version"] for f in status_data["functions"]} == {"app": 2, "echo": 2}
    assert [v["version"] for v in status_data["versions"]] == [1, 2]

    back = cloud.provider.rollback(svc, 1)
    assert back.version == 1 and back.functions == {"app": 1, "echo": 1}
    assert get(first.url + "hello") == (200, b"v1 /cycle/dev /hello")
    with pytest.raises(DeployError, match="cannot roll back"):
        cloud.provider.rollback(svc, 1)

    artifacts = cloud.home / "artifacts"
    assert len(list(artifacts.glob("*.zip"))) >= 2
    cloud.provider.undeploy(svc)
    status, body = get(first.url)
    assert status == 404
    assert not [p for p in artifacts.glob("*.zip")]
    with pytest.raises(NotDeployedError):
        cloud.provider.status(svc)


def test_failing_init_keeps_the_old_version(cloud: Cloud, tmp_path: Path) -> None:
    root = project(tmp_path, "initfail")
    svc = service(root)
    cloud.provider.deploy(svc)
    broken = textwrap.dedent(WSGI_APP) + "\nraise RuntimeError('broken on purpose')\n"
    (root / "app.py").write_text(broken)
    with pytest.raises(DeployError) as failure:
        cloud.provider.deploy(service(root))
    text = str(failure.value)
    assert "failed to initialise" in text and "broken on purpose" in text
    assert "Traceback" in text or "app.py" in text
    assert get(cloud.url("/initfail/dev/x")) == (200, b"v1 /initfail/dev /x")
    assert cloud.provider.status(svc)["version"] == 1


def test_failing_health_path_keeps_the_old_version(cloud: Cloud, tmp_path: Path) -> None:
    root = project(tmp_path, "healthfail")
    svc = service(root)
    cloud.provider.deploy(svc)
    # a new version (code changed) whose health path answers 500
    project(tmp_path, "healthfail", app=WSGI_APP.replace('"v1"', '"v2"'),
            extra="health_path: /boom")
    with pytest.raises(DeployError, match="health check"):
        cloud.provider.deploy(service(root))
    assert get(cloud.url("/healthfail/dev/")) == (200, b"v1 /healthfail/dev /")
    assert cloud.provider.status(svc)["version"] == 1


def test_deploy_json_from_the_cli(cloud: Cloud, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from aloft.cli.main import cli

    root = project(tmp_path, "clijson")
    env = {"ALOFT_HOME": str(cloud.home), "ALOFT_PORT": str(cloud.port)}
    result = CliRunner().invoke(cli, ["-C", str(root), "deploy", "dev", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == {"url": cloud.url("/clijson/dev/"), "version": 1}
    result = CliRunner().invoke(cli, ["-C", str(root), "undeploy", "dev", "--yes"], env=env)
    assert result.exit_code == 0, result.output


SLOW_APP = WSGI_APP.replace(
    '        if path == "/boom":',
    '        if path == "/slow":\n'
    '            import time\n'
    '            time.sleep(1.5)\n'
    '        if path == "/boom":',
)


def test_in_flight_requests_finish_on_the_old_version(cloud: Cloud, tmp_path: Path) -> None:
    import threading

    root = project(tmp_path, "inflight", app=SLOW_APP)
    first = cloud.provider.deploy(service(root))
    slow: list[tuple[int, bytes]] = []
    request = threading.Thread(target=lambda: slow.append(get(cloud.url("/inflight/dev/slow"))))
    request.start()
    time.sleep(0.4)  # the slow request runs on version 1 now
    project(tmp_path, "inflight", app=SLOW_APP.replace('"v1"', '"v2"'))
    second = cloud.provider.deploy(service(root))
    assert (first.version, second.version) == (1, 2)
    assert get(cloud.url("/inflight/dev/x")) == (200, b"v2 /inflight/dev /x")
    request.join(10)
    assert slow == [(200, b"v1 /inflight/dev /slow")]
