"""Deploy, update, rollback, undeploy and health checks against a real daemon."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

from aloft.errors import DeployError, NotDeployedError, UsageError
from tests.integration.local.cloud_helpers import (
    JOBS,
    WSGI_APP,
    Cloud,
    cloud_fixture,
    get,
    service,
    write_project,
)
from tests.waiting import wait_until

cloud = cloud_fixture()


def project(root: Path, name: str, *, app: str = WSGI_APP, extra: str = "") -> Path:
    """The project in `root`/`name`; what its functions write goes to `root`/out (not in the
    project: functions cannot see it)."""
    out = root / "out"
    out.mkdir(parents=True, exist_ok=True)
    return write_project(root / name, f"""
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
    assert [i.action for i in again.plan] == ["keep", "keep"]

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

    status_data = cloud.provider.status(svc).report
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
    assert cloud.provider.status(svc).report["version"] == 1


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
    assert cloud.provider.status(svc).report["version"] == 1
    # --no-health-check: it serves unchecked (and says so in its result)
    skipped = cloud.provider.deploy(service(root), health_check=False)
    assert skipped.unchecked and skipped.health == [] and skipped.version == 2
    assert get(cloud.url("/healthfail/dev/")) == (200, b"v2 /healthfail/dev /")


def test_the_result_says_what_each_new_version_answered(cloud: Cloud, tmp_path: Path) -> None:
    root = project(tmp_path, "healthok", extra="health_path: /up")
    first = cloud.provider.deploy(service(root))
    assert sorted((x.function, x.version, x.check) for x in first.health) == [
        ("app", 1, "GET /up answered 200"), ("echo", 1, "initialised")]
    assert not first.unchecked
    assert cloud.provider.deploy(service(root)).health == []  # nothing new: nothing checked


def test_deploy_json_from_the_cli(cloud: Cloud, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from aloft.cli.main import cli

    root = project(tmp_path, "clijson")
    env = {"ALOFT_HOME": str(cloud.home), "ALOFT_PORT": str(cloud.port)}
    result = CliRunner().invoke(cli, ["-C", str(root), "deploy", "dev", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == {"url": cloud.url("/clijson/dev/"), "version": 1,
                    "functions": {"app": 1, "echo": 1}, "changed": True,
                    "urls": [f"http://dev.clijson.localhost:{cloud.port}/",
                             cloud.url("/clijson/dev/")]}
    # the same code and config again: nothing deployed, the serving version reported
    again = CliRunner().invoke(cli, ["-C", str(root), "deploy", "dev"], env=env)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[0] == \
        "no changes: clijson dev serves version 1 already (nothing was deployed)"
    assert cloud.url("/clijson/dev/") in again.stdout
    assert "applied" not in again.stderr and "uploaded" not in again.stderr
    assert [v["version"] for v in cloud.provider.status(service(root)).report["versions"]] == [1]

    # human output: yes/no, `app: 1`, times relative to now; never Python reprs
    for args in (["status", "dev"], ["cloud", "status"]):
        shown = CliRunner().invoke(cli, ["-C", str(root), *args], env=env)
        assert shown.exit_code == 0, shown.output
        text = shown.stdout.replace("{proxy+}", "")  # the route's own braces
        for python_repr in ("True", "False", "None", "{", "'"):
            assert python_repr not in text, shown.stdout
    status = CliRunner().invoke(cli, ["-C", str(root), "status", "dev"], env=env).stdout
    deployed = next(line for line in status.splitlines() if line.startswith("deployed"))
    assert deployed.endswith(("just now", " s ago")), status
    version_row = status.splitlines()[status.splitlines().index("versions") + 2]
    assert version_row.split()[0] == "1" and "yes      app: 1, echo: 1" in version_row
    assert version_row.endswith(" no")  # not made by `aloft dev`
    cloud_status = CliRunner().invoke(cli, ["-C", str(root), "cloud", "status"], env=env).stdout
    assert "running          yes" in cloud_status and "uptime_s" not in cloud_status
    result = CliRunner().invoke(cli, ["-C", str(root), "undeploy", "dev", "--yes"], env=env)
    assert result.exit_code == 0, result.output


def test_redeploys_without_changes_and_rollback_to_a_version(cloud: Cloud,
                                                             tmp_path: Path) -> None:
    root = project(tmp_path, "tover")
    svc = service(root)
    assert cloud.provider.deploy(svc).version == 1
    same = cloud.provider.deploy(service(root))
    assert (same.changed, same.version, same.functions) == (False, 1, {"app": 1, "echo": 1})
    assert same.url == cloud.url("/tover/dev/")
    v1 = (root / "app.py").read_text()
    for n in (2, 3):
        (root / "app.py").write_text(v1.replace('"v1"', f'"v{n}"'))
        assert cloud.provider.deploy(service(root)).version == n
    assert [v["version"] for v in cloud.provider.status(svc).report["versions"]] == [1, 2, 3]

    back = cloud.provider.rollback(svc, to=1)
    assert (back.changed, back.version, back.functions) == (True, 1, {"app": 1, "echo": 1})
    assert get(cloud.url("/tover/dev/x")) == (200, b"v1 /tover/dev /x")
    again = cloud.provider.rollback(svc, to=1)  # it serves 1: nothing to do
    assert (again.changed, again.version) == (False, 1)
    with pytest.raises(UsageError) as unknown:
        cloud.provider.rollback(svc, to=7)
    assert "no version 7" in unknown.value.message
    assert unknown.value.fix is not None and "versions kept: 1, 2, 3" in unknown.value.fix
    forward = cloud.provider.rollback(svc, to=3)  # forward again, to a newer kept version
    assert forward.version == 3 and get(cloud.url("/tover/dev/x"))[1] == b"v3 /tover/dev /x"

    # "no change" compares with the version that serves: after a rollback to 1, deploying
    # version 1's code changes nothing; deploying version 3's code publishes a new version
    cloud.provider.rollback(svc, to=1)
    (root / "app.py").write_text(v1)
    assert cloud.provider.deploy(service(root)).changed is False
    (root / "app.py").write_text(v1.replace('"v1"', '"v3"'))
    newer = cloud.provider.deploy(service(root))
    assert newer.changed is True and newer.version == 4
    cloud.provider.undeploy(svc)


SLOW_APP = WSGI_APP.replace(
    '        if path == "/boom":',
    '        if path == "/slow":\n'
    '            import time\n'
    '            open(os.path.join(os.environ["OUT_DIR"], "slow-started"), "w").close()\n'
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
    wait_until(lambda: (tmp_path / "out" / "slow-started").exists(),
               message="the slow request to run on version 1")
    project(tmp_path, "inflight", app=SLOW_APP.replace('"v1"', '"v2"'))
    second = cloud.provider.deploy(service(root))
    assert (first.version, second.version) == (1, 2)
    assert get(cloud.url("/inflight/dev/x")) == (200, b"v2 /inflight/dev /x")
    request.join(10)
    assert slow == [(200, b"v1 /inflight/dev /slow")]


def test_dev_reloads_replace_the_dev_version(cloud: Cloud, tmp_path: Path) -> None:
    """`aloft dev` deploys through DevSession: each save replaces the version the previous
    save made (numbers are never reused), and real deploys stay in the history."""
    from aloft.cli.devserver import DevSession

    root = project(tmp_path, "devloop")
    deployed = cloud.provider.deploy(service(root))
    zips = set((cloud.home / "artifacts").glob("*.zip"))
    session = DevSession(root, lambda: service(root), cloud.client)
    results = []
    for n in range(2, 6):  # four saves
        (root / "app.py").write_text(textwrap.dedent(WSGI_APP.replace('"v1"', f'"v{n}"')))
        results.append(session.deploy())
        assert get(cloud.url("/devloop/dev/x")) == (200, f"v{n} /devloop/dev /x".encode())
    assert [r["version"] for r in results] == [2, 3, 4, 5]
    # the first dev deploy follows a real one: it replaces nothing
    assert [r["replaced"] for r in results] == [None, 2, 3, 4]
    status = cloud.provider.status(service(root)).report
    assert [(v["version"], v["dev"], v["current"]) for v in status["versions"]] == [
        (1, False, False), (5, True, True)]
    assert status["version"] == 5
    assert {f["function"]: f["version"] for f in status["functions"]} == {"app": 5, "echo": 5}
    # the replaced versions are gone, and their code with them: one code zip more than before
    from aloft.local.store.state import State

    state = State(cloud.home / "state.db")
    assert state.versions("devloop-dev-app") == [1, 5]
    assert len(set((cloud.home / "artifacts").glob("*.zip")) - zips) == 1
    # rollback goes to the real deploy before the dev session
    back = cloud.provider.rollback(service(root), 1)
    assert back.version == deployed.version == 1
    assert get(cloud.url("/devloop/dev/x")) == (200, b"v1 /devloop/dev /x")
    # a dev save after a rollback replaces nothing (the current version is not a dev one)
    (root / "app.py").write_text(textwrap.dedent(WSGI_APP.replace('"v1"', '"v6"')))
    again = session.deploy()
    assert (again["version"], again["replaced"]) == (6, None)
    status = cloud.provider.status(service(root)).report
    assert [(v["version"], v["dev"]) for v in status["versions"]] == [
        (1, False), (5, True), (6, True)]
    cloud.provider.undeploy(service(root))


CALLS_APP = """
import json

calls = []


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path != "/calls":
        calls.append([path, environ.get("HTTP_USER_AGENT", "")])
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(calls).encode()]
"""


def test_the_health_path_is_what_the_snapshot_is_primed_with(cloud: Cloud,
                                                             tmp_path: Path) -> None:
    """A root with side effects is never called by the platform once `health_path` is set:
    neither by the health check nor by the template's priming request."""
    root = project(tmp_path, "primed", app=CALLS_APP, extra="health_path: /up")
    first = cloud.provider.deploy(service(root))
    status, body = get(first.url + "calls")
    assert status == 200
    seen = json.loads(body)
    assert ["/up", "aloft-snapshot-prime"] in seen  # the template's, inherited by the fork
    assert all(path == "/up" for path, _ in seen), seen


def _instances(cloud: Cloud, svc: object, function: str) -> int:
    report = cloud.provider.status(svc).report  # type: ignore[arg-type]
    return int(next(f for f in report["functions"] if f["function"] == function)["instances"])


def test_provisioned_concurrency_starts_instances_with_the_deploy(cloud: Cloud,
                                                                  tmp_path: Path) -> None:
    """`provisioned_concurrency: 2`: the deploy leaves two instances of the new version
    initialised before any request, whatever keep_alive says; changing it publishes a version
    (as on Lambda, where it is the alias's setting: here the version follows it)."""
    root = project(tmp_path, "prov", extra="keep_alive: 1")
    text = (root / "aloft.yml").read_text().replace(
        "    handler: jobs.echo\n", "    handler: jobs.echo\n    provisioned_concurrency: 2\n")
    assert "provisioned_concurrency" in text
    (root / "aloft.yml").write_text(text)
    svc = service(root)
    first = cloud.provider.deploy(svc)
    assert not any("provisioned" in w for w in first.warnings), first.warnings
    wait_until(lambda: _instances(cloud, svc, "echo") == 2)
    time.sleep(1.6)  # idle past keep_alive: they stay
    assert _instances(cloud, svc, "echo") == 2
    assert _instances(cloud, svc, "app") <= 1  # the app has none provisioned
    rows = {f["function"]: f for f in cloud.provider.status(svc).report["functions"]}
    assert (rows["echo"]["provisioned"], rows["app"]["provisioned"]) == ("2/2", "-")
    # no longer provisioned: a new version, and the old one's instances stop once idle
    (root / "aloft.yml").write_text(text.replace("    provisioned_concurrency: 2\n", ""))
    second = cloud.provider.deploy(service(root))
    assert second.functions["echo"] == 2
    wait_until(lambda: _instances(cloud, svc, "echo") == 0, timeout=10)
    cloud.provider.undeploy(svc)
