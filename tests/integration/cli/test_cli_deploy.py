"""The provider-backed commands against the real local cloud: deploy, request, status, invoke,
tail, undeploy (a private ALOFT_HOME and a free port; the cloud is stopped afterwards)."""

from __future__ import annotations

import json
import re
import socket
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.cli.cli_run import Aloft

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def cloud_env(aloft: Aloft, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {"ALOFT_HOME": str(tmp_path / "home"), "ALOFT_PORT": str(free_port())}
    yield env
    aloft("cloud", "stop", cwd=tmp_path, env=env, timeout=60)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as reply:
        return reply.status, reply.read().decode()


def test_deploy_request_status_invoke_tail_undeploy(
    aloft: Aloft, example: Callable[[str], Path], cloud_env: dict[str, str]
) -> None:
    root = example("flask-hello")
    deployed = aloft("deploy", "dev", "--json", cwd=root, env=cloud_env)
    assert deployed.returncode == 0, deployed.stderr
    result = json.loads(deployed.stdout)
    url = result["url"]
    assert url == f"http://127.0.0.1:{cloud_env['ALOFT_PORT']}/flask-hello/dev/"
    assert result["version"] >= 1

    status, body = get(url)
    assert status == 200 and "Hello from aloft!" in body
    assert 'href="/flask-hello/dev/hello/aloft"' in body  # url_for under the stage's path
    status, body = get(url + "hello/Ada")
    assert json.loads(body)["script_root"] == "/flask-hello/dev"
    # the stage's own host: the app at the root, url_for without a prefix
    port = cloud_env["ALOFT_PORT"]
    host_url = f"http://dev.flask-hello.localhost:{port}/"
    assert result["urls"] == [host_url, url]
    at_host = {"Host": f"dev.flask-hello.localhost:{port}"}
    status, body = get(f"http://127.0.0.1:{port}/", headers=at_host)
    assert status == 200 and 'href="/hello/aloft"' in body
    status, body = get(f"http://127.0.0.1:{port}/hello/Ada", headers=at_host)
    assert json.loads(body)["script_root"] == ""
    again = aloft("deploy", "dev", cwd=root, env=cloud_env)  # what people read: the host first
    assert again.returncode == 0, again.stderr
    assert again.stdout.index(host_url) < again.stdout.index(url)

    table = aloft("status", "dev", cwd=root, env=cloud_env)
    assert table.returncode == 0, table.stderr
    assert url in table.stdout
    as_json = json.loads(aloft("status", "dev", "--json", cwd=root, env=cloud_env).stdout)
    assert as_json["version"] == result["version"]
    # the keys scripts read (`--json` prints the provider's report as it always did)
    assert list(as_json) == ["url", "version", "alias", "deployed", "versions", "functions",
                             "schedules", "async", "routes", "event_sources", "static"]

    invoked = aloft("invoke", "dev", "app", "--path", "/hello/cli", cwd=root, env=cloud_env)
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(json.loads(invoked.stdout)["body"])["message"] == "Hello, cli!"

    plan = aloft("deploy", "dev", "--plan", cwd=root, env=cloud_env)
    assert plan.returncode == 0, plan.stderr
    assert "app" in plan.stdout
    planned = json.loads(aloft("deploy", "dev", "--plan", "--json", cwd=root,
                               env=cloud_env).stdout)
    assert set(planned) == {"url", "urls", "version", "functions", "changed", "plan"}
    assert planned["plan"] == [{"action": "keep", "name": "app", "function": "flask-hello-dev-app",
                                "version": result["version"]}]

    logs = aloft("tail", "dev", "--no-follow", "--since", "10m", cwd=root, env=cloud_env)
    assert logs.returncode == 0, logs.stderr
    assert "REPORT RequestId" in logs.stdout  # the direct invoke: not an HTTP request
    # the requests through the gateway: one request line each, instead of START/END/REPORT
    assert re.search(r" app GET /flask-hello/dev/hello/Ada 200 [\d.]+ ms \S+", logs.stdout)
    as_json = [json.loads(x) for x in aloft("tail", "dev", "--no-follow", "--json", cwd=root,
                                            env=cloud_env).stdout.splitlines()]
    requests = [x["request"] for x in as_json if "request" in x]
    assert {(r["method"], r["path"], r["status"]) for r in requests} == {
        ("GET", "/flask-hello/dev/", 200), ("GET", "/flask-hello/dev/hello/Ada", 200),
        ("GET", "/", 200), ("GET", "/hello/Ada", 200)}  # the last two at the stage's host
    assert all(r["request_id"] and r["latency_ms"] > 0 for r in requests)

    gone = aloft("undeploy", "dev", "--yes", cwd=root, env=cloud_env)
    assert gone.returncode == 0, gone.stderr
    after = aloft("status", "dev", cwd=root, env=cloud_env)
    assert after.returncode == 1
    assert after.stderr.startswith("error: ") and len(after.stderr.strip().splitlines()) == 2


def test_deploy_says_which_keys_it_ignores_before_deploying(
    aloft: Aloft, tmp_path: Path, cloud_env: dict[str, str]
) -> None:
    """A serverless.yml key aloft does not read (a typo, most often) is warned at deploy, as the
    Serverless Framework warns it, not only by `aloft validate`: the deploy still runs."""
    root = tmp_path / "typo"
    root.mkdir()
    (root / "serverless.yml").write_text(
        "service: typo\nprovider:\n  name: aws\n  runtime: python3.11\n"
        "  enviroment:\n    GREETING: hi\n"
        "functions:\n  hello:\n    handler: handler.hello\n"
        "    events:\n      - httpApi: GET /hello\n"
    )
    (root / "handler.py").write_text(
        "import os\n\ndef hello(event, context):\n"
        "    return {'statusCode': 200, 'body': os.environ.get('GREETING', 'unset')}\n"
    )
    deployed = aloft("deploy", "dev", "--json", cwd=root, env=cloud_env)
    assert deployed.returncode == 0, deployed.stderr
    warning = "warning: `provider.enviroment`: unknown key; ignored: did you mean `environment`?"
    assert warning in deployed.stderr
    status, body = get(json.loads(deployed.stdout)["url"] + "hello")
    assert (status, body) == (200, "unset")  # ignored, as the warning said
