"""The CLI's side of the control API: an HTTP client with the bearer token, which starts the
daemon when it is not running.

Standard library HTTP (http.client) on purpose: every `aloft` command pays for its imports.
Errors the daemon reports as `{"error": {"type": ..., ...}}` are raised again here as the same
`aloft.errors` class, so the CLI prints them as if they had happened in-process.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aloft import errors
from aloft.local.http.ports import port_free, port_taken_error
from aloft.local.store.home import DaemonInfo, Home, pid_alive, resolve_home, resolve_port

START_TIMEOUT = 60.0  # as long as the daemon waits for its AWS endpoint (services/supervisor.py): a
# slow start on a busy machine is not a failed one (a daemon that exits is seen at once)
STOP_TIMEOUT = 10.0
INLINE_UPLOAD_LIMIT = 16 * 1024 * 1024
PORT_GRACE = 1.0
"""How long a taken port may take to be freed (a daemon killed a moment ago, its instances
exiting) before it is a conflict."""


class CloudClient:
    def __init__(self, home: str | Path | None = None, port: int | None = None):
        self.home = Home(resolve_home(home))
        self._port = port
        self._process: subprocess.Popen[bytes] | None = None
        self._log_start = 0

    # -- the daemon process -----------------------------------------------------------

    def running(self) -> DaemonInfo | None:
        return self.home.read_pid()

    @property
    def port(self) -> int:
        info = self.running()
        if info is not None:
            return info.port
        return resolve_port(self._port, self.home)

    def require_running(self) -> DaemonInfo:
        """The running daemon; a ProviderError saying how to start one when there is none
        (read-only commands never start a cloud)."""
        info = self.running()
        if info is None:
            raise errors.ProviderError(
                f"the local cloud is not running (home {self.home.root})",
                fix="start it with `aloft cloud start` (`aloft deploy <stage>` and `aloft dev` "
                "start it too); with another ALOFT_HOME, set the same one here",
            )
        return info

    def ensure_running(self, timeout: float = START_TIMEOUT) -> DaemonInfo:
        """The running daemon, starting one (detached) if there is none."""
        info = self.running()
        if info is not None and self._healthy(info.port):
            return info
        if info is None:
            self.start(timeout=timeout)
        info = self._wait_ready(timeout)
        return info

    def start(self, timeout: float = START_TIMEOUT) -> DaemonInfo:
        """Spawn `python -m aloft.local.daemon` in its own session and wait until it answers."""
        port = resolve_port(self._port, self.home)
        if port and not _freed(port, PORT_GRACE):  # who holds it, rather than the daemon's log
            raise port_taken_error(port)  # before the home is made: a failed start leaves none
        self.home.create()
        log = open(self.home.daemon_log, "ab")  # noqa: SIM115 - handed to the child
        self._log_start = log.tell()
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "aloft.local.daemon", "--home", str(self.home.root),
                 "--port", str(port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                close_fds=True, cwd=str(self.home.root),
            )
        finally:
            log.close()
        return self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> DaemonInfo:
        deadline = time.monotonic() + timeout
        why = f"did not start within {timeout:.0f} s"
        while time.monotonic() < deadline:
            info = self.running()
            if info is not None and self._healthy(info.port):
                return info
            if self._process is not None and self._process.poll() is not None:
                port = resolve_port(self._port, self.home)
                if port and not port_free(port):  # taken meanwhile (a race with another start)
                    raise port_taken_error(port)
                why = "failed to start"  # the daemon exited: its log says why
                break
            time.sleep(0.05)
        raise errors.ProviderError(
            f"the local cloud {why}:\n{self._log_tail()}",
            fix=f"see {self.home.daemon_log}; `aloft cloud start --foreground` shows the error, "
            "and `--port` (or ALOFT_PORT) picks another port if this one is taken",
        )

    def _healthy(self, port: int) -> bool:
        try:
            status, _, _ = self.request("GET", "/_aloft/api/health", port=port, timeout=2)
        except OSError:
            return False
        return status == 200

    def _log_tail(self) -> str:
        try:
            with open(self.home.daemon_log, "rb") as fh:
                fh.seek(self._log_start)
                lines = fh.read().decode(errors="replace").splitlines()
        except OSError:
            return "(no daemon log)"
        return "\n".join(lines[-15:]) or "(the daemon wrote nothing)"

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Stop the daemon (gracefully, then SIGTERM); False when none was running."""
        info = self.running()
        if info is None:
            return False
        try:
            self.request("POST", "/_aloft/api/stop", port=info.port, timeout=5)
        except OSError:
            os.kill(info.pid, signal.SIGTERM)
        # Until the process is gone, not only its pid file: it still stops its instances and
        # saves the AWS endpoint's data after it stopped answering.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not pid_alive(info.pid):
                self.home.clear_pid(info.pid)
                return True
            time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, signal.SIGKILL)
        self.home.clear_pid(info.pid)
        return True

    # -- HTTP ---------------------------------------------------------------------------

    def request(
        self, method: str, path: str, *, body: bytes | None = None,
        headers: dict[str, str] | None = None, port: int | None = None, timeout: float = 300,
    ) -> tuple[int, dict[str, str], bytes]:
        token = self.home.token() or ""
        all_headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=all_headers)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def call(
        self, method: str, route: str, payload: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None, timeout: float = 300, *, start: bool = True,
    ) -> Any:
        """A control API call: JSON in, JSON out, daemon errors raised as aloft errors.
        `start=False` (read-only commands): a cloud that is not running is an error, not
        started."""
        if start:
            self.ensure_running()
        else:
            self.require_running()
        path = "/_aloft/api/" + route
        if query:
            path += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            status, _, data = self.request(method, path, body=body, headers=headers,
                                           timeout=timeout)
        except OSError as exc:
            raise errors.ProviderError(
                f"cannot reach the local cloud on port {self.port}: {exc}",
                fix="`aloft cloud status` shows whether it runs; `aloft cloud start` starts it",
            ) from None
        try:
            decoded = json.loads(data) if data else None
        except ValueError:
            decoded = None
        if status >= 400:
            raise _error_from(status, decoded, data)
        return decoded

    # -- artifacts ------------------------------------------------------------------------

    def has_artifact(self, sha256: str) -> bool:
        status, _, _ = self.request("HEAD", f"/_aloft/api/artifacts/{sha256}")
        return status == 200

    def put_artifact(self, sha256: str, path: Path) -> None:
        """Send an artifact; a large one is copied by the daemon from `path` instead (both run
        on this machine as this user), so no size limit of an HTTP body applies."""
        if path.stat().st_size > INLINE_UPLOAD_LIMIT:
            body, headers = b"", {"X-Aloft-Artifact-Path": str(path.resolve())}
        else:
            body, headers = path.read_bytes(), {"Content-Type": "application/zip"}
        status, _, data = self.request(
            "PUT", f"/_aloft/api/artifacts/{sha256}", body=body, headers=headers)
        if status >= 400:
            raise _error_from(status, _json_or_none(data), data)


def _freed(port: int, grace: float) -> bool:
    """Whether `port` is free now or within `grace` seconds."""
    deadline = time.monotonic() + grace
    while not port_free(port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _json_or_none(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _error_from(status: int, decoded: Any, raw: bytes) -> errors.AloftError:
    if status == 401:
        return errors.ProviderError(
            "the local cloud refused the token",
            fix="the daemon was started with another ALOFT_HOME; pass the same --home, or "
            "`aloft cloud stop` and start again",
        )
    if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
        err = decoded["error"]
        cls = getattr(errors, str(err.get("type")), None)
        if not (isinstance(cls, type) and issubclass(cls, errors.AloftError)) or cls in (
            errors.ConfigErrors,
        ):
            cls = errors.ProviderError
        where = errors.Location(**err["where"]) if isinstance(err.get("where"), dict) else None
        detail = err.get("detail")
        return cls(str(err.get("message")), where=where, fix=err.get("fix"),
                   detail=detail if isinstance(detail, str) else None)
    return errors.ProviderError(
        f"the local cloud answered {status}: {raw[:500].decode('utf-8', 'replace')}"
    )
