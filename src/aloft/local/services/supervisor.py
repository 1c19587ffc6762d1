"""The local cloud's AWS-compatible endpoint, as seen from the daemon: a supervised child.

`AwsEndpoint` starts `python -m aloft.local.services.moto_server` (moto behind function grants, see
moto_server.py) on 127.0.0.1, keeps it running (a crash restarts it on the same port, with
the data of its last snapshot), pushes the functions' grants to it, stops it at shutdown (it
saves its data then) and hands out boto3 clients with the platform's own credentials.

The port is chosen once per home and kept in `$ALOFT_HOME/aws/endpoint.json`: deployed
versions carry it in their `AWS_ENDPOINT_URL`, so it must not change across restarts (a new
one is picked only when another program took it).

Event-source managers (aloft.local.triggers.pollers) use `url`, `ready()` and `client(name)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from aloft.errors import ProviderError
from aloft.local.services.auth import (
    ACCOUNT,
    ADMIN_KEY,
    FUNCTION_KEY_PREFIX,
    Statement,
    admin_secret,
    function_access_key,
)
from aloft.local.services.sigv4 import function_secret, signing_key

log = logging.getLogger("aloft.local.endpoint")

"""The access key of the platform and the CLI: not a function's, so not restricted."""
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
MAX_RESTARTS = 5


def _port_free(port: int) -> bool:
    """Whether the endpoint could bind `port` (with SO_REUSEADDR, as its server does: a port
    whose connections linger in TIME_WAIT after a restart is free for it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _is_endpoint(pid: int) -> bool:
    """Whether `pid` is a live endpoint process (not a reused pid, not a zombie)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read()
        with open(f"/proc/{pid}/stat") as fh:
            zombie = fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
    return not zombie and b"aloft.local.services.moto_server" in cmdline


def client_kwargs(url: str, directory: Path) -> dict[str, Any]:
    """boto3 client arguments for the endpoint at `url` with the platform's credentials (its
    secret derived from the signing key in `directory`, the home's `aws/`)."""
    return {"endpoint_url": url, "region_name": ACCOUNT.region, "aws_access_key_id": ADMIN_KEY,
            "aws_secret_access_key": admin_secret(signing_key(directory))}


class AwsEndpoint:
    def __init__(self, directory: Path, *, save_every: float = 5.0,
                 stores: tuple[Path, Path] | None = None,
                 control: tuple[str, str] | None = None):
        self.directory = directory
        self.stores = stores  # (logs.db, state.db): the endpoint serves CloudWatch Logs from them
        self.control = control  # (URL, token) of the daemon's control API: PutEvents goes there
        self.save_every = save_every
        self.info_file = directory / "endpoint.json"
        self.port = 0  # chosen by start()
        self.pid: int | None = None
        self.restore_ms: float | None = None
        self.start_ms: float | None = None
        self.restarts = 0
        self._token = secrets.token_urlsafe(24)
        self._process: asyncio.subprocess.Process | None = None
        self._ready: asyncio.Future[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        self._grants: dict[str, tuple[str, list[Statement]]] = {}
        self._clients: dict[str, Any] = {}
        self._signing_key: bytes | None = None

    def function_credentials(self, physical: str, version: int) -> dict[str, str]:
        """A function version's own access key id; its secret is never stored: `secret_of`
        derives it when an instance starts (aloft.local.instances.credentials)."""
        return {"AWS_ACCESS_KEY_ID": function_access_key(physical, version)}

    def admin_secret(self) -> str:
        """The platform's secret key on the endpoint (with ADMIN_KEY)."""
        if self._signing_key is None:
            self._signing_key = signing_key(self.directory)
        return admin_secret(self._signing_key)

    def secret_of(self, access_key: str) -> str | None:
        """The secret access key of a function's key (see sigv4.py); None for another key."""
        if not access_key.startswith(FUNCTION_KEY_PREFIX):
            return None
        if self._signing_key is None:
            self._signing_key = signing_key(self.directory)
        return function_secret(self._signing_key, access_key)

    def function_key(self, access_key: str) -> tuple[str, str, list[Statement]] | None:
        """The function version `access_key` was given to, its secret and its grants; None
        when no kept version has that key (the Invoke API checks calls with it)."""
        found = self._grants.get(access_key)
        if found is None:
            return None
        if self._signing_key is None:
            self._signing_key = signing_key(self.directory)
        return found[0], function_secret(self._signing_key, access_key), found[1]

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`: functions get it as AWS_ENDPOINT_URL."""
        return f"http://127.0.0.1:{self.port}"

    def _saved(self) -> dict[str, Any]:
        try:
            data = json.loads(self.info_file.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_info(self) -> None:
        tmp = self.info_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"port": self.port, "pid": self.pid}))
        os.replace(tmp, self.info_file)

    async def _reclaim(self, saved: dict[str, Any]) -> None:
        """Stop an endpoint left by a daemon that was killed (it saves its data as it stops),
        so that this one starts from that data, on the same port."""
        pid = saved.get("pid")
        if not isinstance(pid, int) or not _is_endpoint(pid):
            return
        log.warning("stopping the AWS endpoint left running by the previous daemon (pid %d)",
                    pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _is_endpoint(pid) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def _choose_port(self, saved: dict[str, Any]) -> int:
        port = saved.get("port")
        if isinstance(port, int) and port > 0:
            deadline = time.monotonic() + 5.0  # a port just released may linger a moment
            while time.monotonic() < deadline:
                if _port_free(port):
                    return port
                await asyncio.sleep(0.1)
            log.warning("the AWS endpoint's port %d is taken: deployed versions that use it "
                        "need a redeploy", port)
        return _free_port()

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Choose the port and spawn the endpoint process; `ready()` waits until it answers."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        saved = self._saved()
        await self._reclaim(saved)
        self.port = await self._choose_port(saved)
        self._save_info()
        self._ready = asyncio.get_running_loop().create_future()
        self._supervisor = asyncio.ensure_future(self._supervise())

    async def ready(self, timeout: float = START_TIMEOUT) -> None:
        if self._ready is None:
            raise ProviderError("the AWS endpoint was not started")
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), timeout)
        except TimeoutError:
            raise ProviderError(
                f"the local AWS endpoint did not answer within {timeout:.0f} s",
                fix="see daemon.log in the local cloud's home") from None

    async def _spawn(self) -> None:
        started = time.perf_counter()
        env = {**os.environ, "ALOFT_ENDPOINT_TOKEN": self._token}
        if self.control is not None:
            env.update({"ALOFT_CONTROL_URL": self.control[0],
                        "ALOFT_CONTROL_TOKEN": self.control[1]})
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "aloft.local.services.moto_server", "--dir", str(self.directory),
            "--port", str(self.port), "--save-every", str(self.save_every),
            *(("--logs-db", str(self.stores[0]), "--state-db", str(self.stores[1]))
              if self.stores else ()),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, env=env,
            # A Ctrl-C at the terminal of `aloft cloud start --foreground` is the daemon's: it
            # stops the endpoint in order (the endpoint saves its data), like the instances.
            start_new_session=True,
        )
        self.pid = self._process.pid
        self._save_info()
        assert self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), START_TIMEOUT)
        parts = line.decode().split()
        if len(parts) != 3 or parts[0] != "READY":
            raise ProviderError(
                f"the local AWS endpoint failed to start on port {self.port}",
                fix="see daemon.log in the local cloud's home")
        self.restore_ms = float(parts[2])
        self.start_ms = round((time.perf_counter() - started) * 1000, 1)
        # (none too: function keys' calls wait for the first grants, see auth.GRANTS_WAIT)
        await asyncio.to_thread(self._put_grants, dict(self._grants))

    async def _supervise(self) -> None:
        assert self._ready is not None
        while not self._stopping:
            try:
                await self._spawn()
            except (ProviderError, TimeoutError, OSError) as exc:
                if not self._stopping:  # else stopped while starting: not a failure
                    log.error("AWS endpoint: %s", exc)
                if self._process is not None and self._process.returncode is None:
                    self._process.kill()
            else:
                if not self._ready.done():
                    self._ready.set_result(None)
            if self._process is not None:
                await self._process.wait()
            if self._stopping:
                return
            self.restarts += 1
            log.warning("the AWS endpoint (pid %s) exited with %s; restarting", self.pid,
                        self._process.returncode if self._process else None)
            if self.restarts > MAX_RESTARTS:
                log.error("the AWS endpoint keeps failing; giving up")
                if not self._ready.done():
                    self._ready.set_exception(ProviderError(
                        "the local AWS endpoint keeps failing",
                        fix="see daemon.log in the local cloud's home"))
                return
            await asyncio.sleep(min(5.0, 0.5 * self.restarts))

    async def stop(self) -> None:
        """SIGTERM: the endpoint saves its data and exits."""
        self._stopping = True
        proc = self._process
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                log.error("the AWS endpoint did not stop within %.0f s; killed", STOP_TIMEOUT)
                proc.kill()
                await proc.wait()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor

    # -- grants and clients ------------------------------------------------------------

    async def set_grants(self, grants: dict[str, tuple[str, list[Statement]]]) -> None:
        """Replace every function key's grants (access key id -> (function, statements))."""
        self._grants = dict(grants)
        if self._ready is not None and self._ready.done() and self._ready.exception() is None:
            await asyncio.to_thread(self._put_grants, dict(grants))

    def _put_grants(self, grants: dict[str, tuple[str, list[Statement]]]) -> None:
        body = json.dumps({k: {"function": f, "statements": s}
                           for k, (f, s) in grants.items()}).encode()
        req = urllib.request.Request(
            f"{self.url}/_aloft/grants", data=body, method="PUT",
            headers={"Authorization": f"Bearer {self._token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()

    def client(self, name: str) -> Any:
        """A boto3 client of the endpoint (blocking: call it from a worker thread)."""
        found = self._clients.get(name)
        if found is None:
            import boto3  # type: ignore[import-untyped]

            found = self._clients[name] = boto3.session.Session().client(
                name, **client_kwargs(self.url, self.directory))
        return found

    def status(self) -> dict[str, Any]:
        ready = self._ready is not None and self._ready.done() and \
            self._ready.exception() is None
        return {"url": self.url, "pid": self.pid, "ready": ready,
                "start_ms": self.start_ms, "restore_ms": self.restore_ms,
                "restarts": self.restarts}


def wait_for_endpoint(cloud: Any, timeout: float = START_TIMEOUT) -> str:
    """The URL of the running daemon's AWS endpoint once it answers (`cloud`: a CloudClient;
    the daemon starts if needed). For the CLI and scripts."""
    cloud.ensure_running()
    deadline = time.monotonic() + timeout
    while True:
        endpoint = cloud.call("GET", "cloud").get("aws_endpoint")
        if not endpoint:
            raise ProviderError(
                "the local cloud runs without its AWS endpoint",
                fix="unset ALOFT_AWS_ENDPOINT and restart it: `aloft cloud stop`")
        if endpoint.get("ready"):
            return str(endpoint["url"])
        if time.monotonic() > deadline:
            raise ProviderError(
                f"the local AWS endpoint did not answer within {timeout:.0f} s",
                fix=f"see {cloud.home.daemon_log}")
        time.sleep(0.1)


def local_aws_client(cloud: Any, name: str) -> Any:
    """A boto3 client of the local AWS endpoint with the platform's credentials."""
    import boto3

    url = wait_for_endpoint(cloud)
    return boto3.session.Session().client(name, **client_kwargs(url, cloud.home.root / "aws"))
