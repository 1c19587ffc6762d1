"""Who holds a port: this process, another aloft cloud (by its home's daemon.json), or nobody
/proc can show; and the one error that names it with a fix."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from aloft.local.http.ports import PortHolder, port_free, port_holder, port_taken_error


def test_a_listening_socket_of_this_process_is_found() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not port_free(port)
        holder = port_holder(port)
        assert holder.pid == os.getpid() and holder.aloft_home is None
        assert holder.command is not None and "python" in holder.command
        error = port_taken_error(port, holder)
        assert error.message.startswith(f"port {port} is taken by another program "
                                        f"(pid {os.getpid()}: ")
        assert error.fix is not None and "aloft --port" in error.fix
        assert "ALOFT_PORT" in error.fix
    assert port_free(port)
    assert port_holder(port) == PortHolder()


def _fake_proc(root: Path, port: int, pid: int, argv: list[str]) -> Path:
    """A /proc with one listening socket (inode 4242) held by `pid`."""
    (root / "net").mkdir(parents=True)
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  " \
        "timeout inode\n"
    row = f"   0: 0100007F:{port:04X} 00000000:0000 0A 00000000:00000000 00:00000000 00000000  " \
        "1000        0 4242 1 0000000000000000 100 0 0 10 0\n"
    (root / "net" / "tcp").write_text(header + row)
    (root / "net" / "tcp6").write_text(header)
    (root / str(pid) / "fd").mkdir(parents=True)
    os.symlink("socket:[4242]", root / str(pid) / "fd" / "3")
    (root / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
    (root / "self").mkdir()  # not a pid: skipped
    return root


def test_another_aloft_cloud_is_named_by_its_home(tmp_path: Path) -> None:
    home = tmp_path / "other-home"
    home.mkdir()
    (home / "daemon.json").write_text(json.dumps({"pid": 777, "port": 9100, "home": str(home)}))
    proc = _fake_proc(tmp_path / "proc", 9100, 777, [
        "/usr/bin/python3", "-m", "aloft.local.daemon", "--home", str(home), "--port", "9100"])
    holder = port_holder(9100, proc)
    assert holder == PortHolder(pid=777, command=holder.command, aloft_home=str(home))
    error = port_taken_error(9100, holder)
    assert error.message == (f"port 9100 is taken by another aloft local cloud (home {home}, "
                             "pid 777)")
    assert error.fix is not None and f"ALOFT_HOME={home} aloft cloud stop" in error.fix


def test_a_daemon_json_naming_another_pid_is_not_that_cloud(tmp_path: Path) -> None:
    home = tmp_path / "other-home"
    home.mkdir()
    (home / "daemon.json").write_text(json.dumps({"pid": 1, "port": 9100, "home": str(home)}))
    proc = _fake_proc(tmp_path / "proc", 9100, 777, [
        "python", "-m", "aloft.local.daemon", "--home", str(home)])
    assert port_holder(9100, proc).aloft_home is None


def test_an_invisible_holder_is_said_so() -> None:
    error = port_taken_error(9100, PortHolder())
    assert "its pid is not visible" in error.message
    assert error.fix is not None and "ss -ltnp" in error.fix
