"""Who holds a TCP port on 127.0.0.1, so that a port conflict is one clear error.

Linux's /proc tells: /proc/net/tcp{,6} lists the listening sockets with their inode, and
/proc/<pid>/fd links to `socket:[inode]` (only for this user's processes). When the holder is
another aloft local cloud, its command line names its home (`--home`), whose daemon.json
confirms it. Elsewhere (no /proc, another user's process), the error says what it cannot see.
"""

from __future__ import annotations

import errno
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from aloft.errors import ProviderError

_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's `st` column


@dataclass(frozen=True)
class PortHolder:
    """What listens on a port: a pid and its command line when visible, and the home of
    another aloft local cloud when it is one."""

    pid: int | None = None
    command: str | None = None
    aloft_home: str | None = None


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether the daemon could bind `port` now (with the SO_REUSEADDR it binds with)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def _listening_inodes(port: int, proc: Path) -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != _LISTEN:
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _owner(inodes: set[str], proc: Path) -> int | None:
    targets = {f"socket:[{inode}]" for inode in inodes}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in targets:
                    return int(entry.name)
        except OSError:  # another user's process, or gone meanwhile
            continue
    return None


def _aloft_home(argv: list[str], pid: int) -> str | None:
    """The home of an aloft daemon's command line, if its daemon.json names this pid."""
    if "aloft.local.daemon" not in argv or "--home" not in argv:
        return None
    index = argv.index("--home") + 1
    if index >= len(argv):
        return None
    home = argv[index]
    try:
        data = json.loads((Path(home) / "daemon.json").read_text())
    except (OSError, ValueError):
        return home  # starting, or stopping: its command line is enough
    return home if data.get("pid") == pid else None


def port_holder(port: int, proc: Path = Path("/proc")) -> PortHolder:
    """Who listens on `port`; an empty PortHolder when /proc does not tell."""
    inodes = _listening_inodes(port, proc)
    pid = _owner(inodes, proc) if inodes else None
    if pid is None:
        return PortHolder()
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:
        return PortHolder(pid=pid)
    argv = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    return PortHolder(pid=pid, command=" ".join(argv)[:200] or None,
                      aloft_home=_aloft_home(argv, pid))


def suggest_port(port: int) -> int:
    """A port near `port` that is free now (for the fix line), else `port + 1`."""
    for candidate in range(port + 1, min(port + 50, 65536)):
        if port_free(candidate):
            return candidate
    return port + 1


def port_taken_error(port: int, holder: PortHolder | None = None) -> ProviderError:
    """The one error for a port that is taken: who holds it, and a fix that works."""
    holder = holder if holder is not None else port_holder(port)
    other = suggest_port(port)
    use_another = f"use another port: `aloft --port {other} ...` or `export ALOFT_PORT={other}`"
    if holder.aloft_home is not None:
        return ProviderError(
            f"port {port} is taken by another aloft local cloud (home {holder.aloft_home}, "
            f"pid {holder.pid})",
            fix=f"{use_another}; or stop that cloud: "
            f"`ALOFT_HOME={holder.aloft_home} aloft cloud stop`",
        )
    if holder.pid is not None:
        return ProviderError(
            f"port {port} is taken by another program (pid {holder.pid}: "
            f"{holder.command or 'command line not readable'})",
            fix=f"{use_another}; or stop that program",
        )
    return ProviderError(
        f"port {port} is taken by another program (its pid is not visible to this user)",
        fix=f"{use_another}; `ss -ltnp 'sport = :{port}'` (as root) shows who holds it",
    )
