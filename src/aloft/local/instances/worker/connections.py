"""Connections a template opened, closed before it forks instances (standard library only).

A template runs the function's init and one priming request, then forks every instance from
itself: a socket it holds then is one kernel socket shared by all of them, and their
conversations interleave (two instances sending queries on one PostgreSQL connection read each
other's rows). Lambda's SnapStart never shares: a restored snapshot's connections are simply
gone. So before the first fork, the template closes what it opened since `before` (the
descriptors it had before any of the function's code ran): `shared`, then `cut`; a template of
a function that did not declare SnapStart declines to fork rather than cut (instance_main):

- Django's connections, the way Django closes them (the next query opens a new one);
- SQLAlchemy's pooled connections (`Engine.dispose()`), when a connected socket is left;
- any other connected stream socket is replaced, under the same descriptor, by one whose peer
  has gone, so the library holding it sees a connection the server closed (urllib3, redis-py
  and most pools open a new one; a driver without a check fails that query once), and the
  function's log says which connection, and why.
"""

from __future__ import annotations

import contextlib
import gc
import os
import socket
import stat
import sys


def open_fds() -> set[int]:
    """This process's open file descriptors (not the one that listed them, closed by now)."""
    listed = [int(name) for name in os.listdir("/proc/self/fd") if name.isdigit()]
    return {fd for fd in listed if _is_open(fd)}


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _connected_streams(before: set[int]) -> dict[int, str]:
    """Descriptors opened since `before` that are connected stream sockets: fd -> the peer."""
    found: dict[int, str] = {}
    for fd in sorted(open_fds() - before):
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            probe = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        with probe:
            try:
                if probe.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) != socket.SOCK_STREAM:
                    continue
                peer = probe.getpeername()
            except OSError:  # not connected (a listening socket): nothing to share
                continue
        if peer in ("", b""):  # a socketpair's end (one cut already): no server behind it
            continue
        found[fd] = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
    return found


def _close_django() -> None:
    db = sys.modules.get("django.db")
    if db is not None:
        with contextlib.suppress(Exception):  # not configured, or a backend's own failure
            db.connections.close_all()


def _dispose_sqlalchemy() -> None:
    engine_module = sys.modules.get("sqlalchemy.engine")
    engine_type = getattr(engine_module, "Engine", None)
    if engine_type is None:
        return
    for obj in gc.get_objects():  # engines have no registry; done once, only when needed
        if isinstance(obj, engine_type):
            with contextlib.suppress(Exception):
                obj.dispose()


def _cut(fd: int) -> None:
    """`fd` becomes a socket whose peer is gone: reads see the end, writes EPIPE."""
    inheritable = os.get_inheritable(fd)
    ours, theirs = socket.socketpair()
    theirs.close()
    with ours:
        os.dup2(ours.fileno(), fd, inheritable=inheritable)


def shared(before: set[int]) -> dict[int, str]:
    """Close what knows how to reopen (Django's connections, SQLAlchemy's pools) among the
    connections opened since `before`; the others, fd -> peer (for `cut`, or for a template
    that declines to fork)."""
    _close_django()
    left = _connected_streams(before)
    if left and "sqlalchemy" in sys.modules:
        _dispose_sqlalchemy()
        left = _connected_streams(before)
    return left


def cut(left: dict[int, str]) -> list[str]:
    """Cut the connections `shared` left (see the module's docstring); their peers."""
    for fd in left:
        _cut(fd)
    return list(left.values())
