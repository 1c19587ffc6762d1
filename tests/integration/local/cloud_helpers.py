"""Helpers for the control plane's integration tests: a real daemon on a free port with a
temporary ALOFT_HOME, and small projects written into tmp directories."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import textwrap
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from aloft.config import load_project
from aloft.config.models import Service
from aloft.local.control.client import CloudClient
from aloft.local.provider import LocalProvider
from tests.waiting import wait_until

USER = {"AWS_ACCESS_KEY_ID": "AKIAALOFTTESTUSER001",
        "AWS_SECRET_ACCESS_KEY": "aloft-test-user-secret"}
"""The user's own AWS credentials, in a test daemon's environment (`Cloud(..., env=USER)`): what
they sign may call the Invoke API."""


def signed_invoke(url: str, body: bytes, headers: Mapping[str, str] | None = None
                  ) -> urllib.request.Request:
    """A POST to the Invoke API signed with USER, as boto3 signs it."""
    from aloft.runtime.sigv4 import Credentials, sign

    creds = Credentials(USER["AWS_ACCESS_KEY_ID"], USER["AWS_SECRET_ACCESS_KEY"])
    signed = sign("POST", url, dict(headers or {}), body, credentials=creds,
                  region="us-east-1", service="lambda")
    return urllib.request.Request(url, data=body, method="POST", headers=signed)


def lambda_client(cloud: Cloud, key: str = USER["AWS_ACCESS_KEY_ID"],
                  secret: str = USER["AWS_SECRET_ACCESS_KEY"], *, retry: bool = True) -> Any:
    """boto3's Lambda client against the cloud's gateway, signing as the test user (or with
    `key` and `secret`); `retry=False`: one attempt, so that an error answer is the test's."""
    import boto3
    from botocore.config import Config

    return boto3.client("lambda", endpoint_url=cloud.url(""), region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=None if retry else Config(retries={"total_max_attempts": 1}))


def client_error(call: Any, **kwargs: Any) -> dict[str, Any]:
    """The error response of a boto3 call that must fail."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value.response  # type: ignore[no-any-return]


def aws_cli(endpoint: str, *args: str) -> tuple[int, str, str]:
    """The AWS CLI (awscli's driver, in process) against `endpoint`, with USER's credentials
    and no config file of this machine's: (exit code, stdout, stderr)."""
    env = {**USER, "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(out), redirect_stderr(err):
        # importing awscli puts its data directory in os.environ's AWS_DATA_PATH: left there,
        # every later boto3 session in this process skips the config file (a missing profile
        # no longer fails), so it is set inside the context only (setenv records what was
        # there before the import; delenv records nothing when the variable is absent)
        patch.setenv("AWS_DATA_PATH", "")
        import awscli
        from awscli.clidriver import create_clidriver

        patch.setenv("AWS_DATA_PATH", os.pathsep.join(awscli._awscli_data_path))
        for key, value in env.items():
            patch.setenv(key, value)
        code = create_clidriver().main([*args, "--endpoint-url", endpoint, "--output", "json"])
    return code, out.getvalue(), err.getvalue()


def aws_cli_json(endpoint: str, *args: str) -> Any:
    """What the AWS CLI prints, read as JSON (None when it prints nothing); it must succeed."""
    code, out, err = aws_cli(endpoint, *args)
    assert code == 0, err
    return json.loads(out) if out.strip() else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cloud:
    """One daemon for a test module: started detached like `aloft deploy` does."""

    def __init__(self, home: Path, env: Mapping[str, str] | None = None):
        self.home = home
        self.port = free_port()
        self.env = dict(env or {})
        self.client = CloudClient(home, self.port)
        self.provider = LocalProvider(home, self.port)

    def start(self) -> None:
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            self.client.start()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def stop(self) -> None:
        self.client.stop()

    def kill9(self) -> None:
        info = self.client.running()
        assert info is not None, "the daemon is not running"
        os.kill(info.pid, signal.SIGKILL)
        wait_until(lambda: self.client.running() is None, timeout=10, interval=0.02,
                   message=f"the killed daemon (pid {info.pid}) to be gone")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def write_project(root: Path, config: str, files: Mapping[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "aloft.yml").write_text(textwrap.dedent(config))
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text))
    return root


def service(root: Path, stage: str = "dev") -> Service:
    return load_project(root).service(stage)


def deployed_project(
    tmp_path_factory: pytest.TempPathFactory, config: Callable[[Path], str],
    files: Mapping[str, str], *, env: Mapping[str, str] | None = None,
) -> Iterator[tuple[Cloud, Service, Path]]:
    """A module's cloud (the test user's credentials, and `env`) with one project deployed to
    dev: `config(out)` is its aloft.yml, `out` a directory its functions may write to. For a
    module fixture: `yield from deployed_project(...)`; the cloud stops after the module."""
    cloud = Cloud(tmp_path_factory.mktemp("home"), env={**(env or {}), **USER})
    cloud.start()
    try:
        root = tmp_path_factory.mktemp("project")
        out = tmp_path_factory.mktemp("out")  # not in the project, which functions cannot see
        write_project(root, config(out), files)
        svc = service(root)
        cloud.provider.deploy(svc)
        yield cloud, svc, out
    finally:
        cloud.stop()


def get(url: str, *, headers: Mapping[str, str] | None = None,
        method: str = "GET", body: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


WSGI_APP = """
    import os

    VERSION = "v1"

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/boom":
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"boom"]
        body = f"{VERSION} {environ.get('SCRIPT_NAME')} {path}".encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
"""

JOBS = """
    import json
    import os
    import time

    OUT = os.environ["OUT_DIR"]

    def _append(name, event):
        with open(os.path.join(OUT, name), "a") as fh:
            fh.write(json.dumps(event) + "\\n")

    def echo(event, context):
        return {"event": event, "function": context.function_name,
                "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
                "base_path": os.environ["ALOFT_BASE_PATH"],
                "region": os.environ["AWS_REGION"]}

    def fail(event, context):
        raise ValueError("fails on purpose")

    def record(event, context):
        time.sleep(event.get("sleep", 0) if isinstance(event, dict) else 0)
        _append("record.log", event)
        return "ok"

    def flaky(event, context):
        _append("flaky-attempts.log", event)
        if not os.path.exists(os.path.join(OUT, "fixed")):
            raise RuntimeError("not fixed yet")
        _append("flaky.log", event)
        return "ok"
"""


def read_lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


def cloud_fixture(env: Mapping[str, str] | None = None) -> Any:
    """A module-scoped `cloud` fixture: one daemon for the test module, stopped at its end.
    In a test module: `cloud = cloud_fixture()`."""

    @pytest.fixture(scope="module")
    def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
        c = Cloud(tmp_path_factory.mktemp("home"), env)
        c.start()
        yield c
        if c.client.running() is not None:
            c.stop()

    return cloud


def endpoint_client(cloud: Cloud, name: str) -> Any:
    """A boto3 client of the cloud's AWS endpoint with the platform's (unrestricted) key."""
    import boto3

    from aloft.local.services.supervisor import client_kwargs, wait_for_endpoint

    return boto3.client(name, **client_kwargs(wait_for_endpoint(cloud.client), cloud.home / "aws"))


def module_wheel(path: Path, name: str, module: str) -> Path:
    """A pure-Python wheel holding one module: what pip installs without an index."""
    wheel = path / f"{name}-1.0-py3-none-any.whl"
    info = f"{name}-1.0.dist-info"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(f"{name}.py", module)
        zf.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        zf.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\n"
                                     "Root-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr(f"{info}/RECORD", f"{name}.py,,\n{info}/METADATA,,\n{info}/WHEEL,,\n"
                                      f"{info}/RECORD,,\n")
    return wheel
