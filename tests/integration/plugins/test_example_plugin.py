"""examples/plugin: its deploy_summary plugin posts a JSON summary of each deploy to a real local
HTTP server configured in the plugin's section, and adds `aloft summary`."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.integration.plugins.plugin_helpers import Aloft, free_port, get

pytestmark = pytest.mark.slow


class Receiver(ThreadingHTTPServer):
    posts: list[tuple[str, dict[str, str], Any]]


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append((self.path, dict(self.headers), json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(("127.0.0.1", 0), _Handler)
    server.posts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def example(repo_root: Path, tmp_path: Path) -> Path:
    target = tmp_path / "plugin"
    shutil.copytree(repo_root / "examples" / "plugin", target,
                    ignore=shutil.ignore_patterns(".aloft", "__pycache__"))
    return target


def test_each_deploy_posts_its_summary(aloft: Aloft, example: Path, receiver: Receiver,
                                       cloud_env: dict[str, str]) -> None:
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}/deploys"
    env = {"DEPLOY_SUMMARY_URL": endpoint}
    first = aloft("deploy", "dev", "--json", cwd=example, env=env)
    assert first.returncode == 0, first.stderr
    url = json.loads(first.stdout)["url"]
    assert get(url)[0] == 200
    path, headers, body = receiver.posts[-1]
    assert path == "/deploys" and headers["Content-Type"] == "application/json"
    assert body["service"] == "plugin-demo" and body["stage"] == "dev"
    assert body["provider"] == "local" and body["url"] == url
    assert body["version"] == json.loads(first.stdout)["version"]
    assert body["functions"] == {"app": body["version"]} and body["seconds"] > 0

    (example / "app.py").write_text((example / "app.py").read_text() + "\n# changed\n")
    second = aloft("deploy", "dev", cwd=example, env=env)
    assert second.returncode == 0, second.stderr
    assert len(receiver.posts) == 2 and receiver.posts[-1][2]["version"] == body["version"] + 1

    shown = aloft("summary", "dev", cwd=example, env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["version"] == body["version"] + 1


def test_an_unreachable_endpoint_does_not_fail_the_deploy_unless_required(
    aloft: Aloft, example: Path, cloud_env: dict[str, str],
) -> None:
    env = {"DEPLOY_SUMMARY_URL": f"http://127.0.0.1:{free_port()}/nobody"}
    done = aloft("deploy", "dev", cwd=example, env=env)
    assert done.returncode == 0, done.stderr
    assert "deploy_summary: could not post" in done.stderr

    config = (example / "aloft.yml").read_text().replace("timeout: 5",
                                                         "timeout: 5\n  required: true")
    (example / "aloft.yml").write_text(config)
    failed = aloft("deploy", "dev", cwd=example, env=env)
    assert failed.returncode == 1
    error, fix = failed.stderr.strip().splitlines()[-2:]
    assert error.startswith("error: plugin 'my_plugins.deploy_summary' stopped at "
                            "deploy:finalize: could not post the deploy summary")
    assert fix == "fix: start the endpoint, or set `deploy_summary.required: false`"


def test_a_bad_url_in_its_section_is_a_config_error(aloft: Aloft, example: Path) -> None:
    failed = aloft("validate", cwd=example, env={"DEPLOY_SUMMARY_URL": "ftp://x"})
    assert failed.returncode == 1
    assert "aloft.yml:10" in failed.stderr and "must start with http://" in failed.stderr
