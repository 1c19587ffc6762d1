"""Where the local cloud keeps its state (`$ALOFT_HOME`), its port, token and pid file.

Layout of a home directory:

    state.db            SQLite (WAL): stages, versions, aliases, schedules, async events
    logs.db             SQLite (WAL): function logs, kept apart so log writes never wait on deploys
    artifacts/          <sha256>.zip and the unpacked <sha256>/ directories; zygote-views/, each
                        running zygote's view of those (hard links: instances/zygote_view.py)
    token               the control API's bearer token (mode 0600)
    daemon.json         pid and port of the running daemon (written at start, removed at stop)
    port                the port the daemon last listened on (kept: a restart takes it again)
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 8750
ENV_HOME = "ALOFT_HOME"
ENV_PORT = "ALOFT_PORT"


def default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "aloft"


def resolve_home(home: str | Path | None = None) -> Path:
    """`--home`, else $ALOFT_HOME, else ~/.local/share/aloft."""
    chosen = home or os.environ.get(ENV_HOME) or default_home()
    return Path(chosen).expanduser().resolve()


def resolve_port(port: int | str | None = None, home: Home | None = None) -> int:
    """`--port`, else $ALOFT_PORT, else the port the home's daemon last had, else 8750. A
    restarted daemon takes its old port again: deployed versions carry it in their environment
    (AWS_ENDPOINT_URL_LAMBDA) and the stages' URLs name it."""
    chosen = port if port not in (None, "") else os.environ.get(ENV_PORT)
    if chosen not in (None, ""):
        return int(chosen)
    last = home.last_port() if home is not None else None
    return last if last is not None else DEFAULT_PORT


@dataclass(frozen=True)
class DaemonInfo:
    pid: int
    port: int
    home: str


@dataclass(frozen=True)
class Home:
    """Paths inside one ALOFT_HOME."""

    root: Path

    @property
    def state_db(self) -> Path:
        return self.root / "state.db"

    @property
    def logs_db(self) -> Path:
        return self.root / "logs.db"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def token_file(self) -> Path:
        return self.root / "token"

    @property
    def pid_file(self) -> Path:
        return self.root / "daemon.json"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    @property
    def daemon_log(self) -> Path:
        return self.root / "daemon.log"

    def create(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.artifacts.mkdir(exist_ok=True)

    def token(self, *, create: bool = False) -> str | None:
        """The control API token; created (mode 0600) on first start when `create`."""
        try:
            return self.token_file.read_text().strip() or None
        except FileNotFoundError:
            if not create:
                return None
        self.create()
        value = secrets.token_urlsafe(32)
        tmp = self.token_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(value + "\n")
        os.replace(tmp, self.token_file)
        return value

    def write_pid(self, info: DaemonInfo) -> None:
        tmp = self.pid_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": info.pid, "port": info.port, "home": info.home}))
        os.replace(tmp, self.pid_file)

    def read_pid(self) -> DaemonInfo | None:
        """The running daemon, or None (no file, or a stale one whose process is gone)."""
        try:
            data = json.loads(self.pid_file.read_text())
            info = DaemonInfo(pid=int(data["pid"]), port=int(data["port"]), home=str(data["home"]))
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None
        if not pid_alive(info.pid) or not _is_daemon(info.pid):
            return None
        return info

    def last_port(self) -> int | None:
        """The port the daemon of this home last listened on."""
        try:
            port = int(self.port_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return port if 0 < port < 65536 else None

    def remember_port(self, port: int) -> None:
        tmp = self.port_file.with_suffix(".tmp")
        tmp.write_text(f"{port}\n")
        os.replace(tmp, self.port_file)

    def clear_pid(self, pid: int) -> None:
        """Remove the pid file if it still names `pid` (a newer daemon may have replaced it)."""
        try:
            data = json.loads(self.pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return
        if data.get("pid") == pid:
            self.pid_file.unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (killed but not yet reaped by its parent) is not alive.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_daemon(pid: int) -> bool:
    """False when `pid` now belongs to another program (the daemon died and the pid was
    reused); True when it cannot be told (no /proc)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read()
    except OSError:
        return True
    return b"aloft" in cmdline
