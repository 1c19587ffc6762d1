"""What a template closes before it forks: the connected stream sockets the function's code
opened (Django's connections the way Django closes them, the others cut under the same
descriptor), nothing it had before, nothing unconnected."""

from __future__ import annotations

import socket
import sys
import types

import pytest

from aloft.local.instances.worker import connections as C


def test_connections_opened_since_are_cut_and_named() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        kept = socket.create_connection(("127.0.0.1", port))  # ours: before the code ran
        kept_peer = server.accept()[0]
        before = C.open_fds()
        opened = socket.create_connection(("127.0.0.1", port))
        opened_port = opened.getsockname()[1]
        listening = socket.create_server(("127.0.0.1", 0))  # not connected: left alone
        accepted = [kept_peer]
        try:
            assert C.cut(C.shared(before)) == [f"127.0.0.1:{port}"]
            assert opened.recv(10) == b""  # the peer is gone, under the same descriptor
            with pytest.raises(OSError):
                opened.sendall(b"x" * 100_000)
            kept.sendall(b"still")  # what was there before is untouched
            assert kept_peer.recv(10) == b"still"
            accepted.append(server.accept()[0])  # the cut one: the server sees it end
            assert accepted[1].recv(10) == b""
            assert listening.getsockname()[1] > 0
            # again: only what is new and connected (the server's end), not the cut one
            assert C.cut(C.shared(before)) == [f"127.0.0.1:{opened_port}"]
        finally:
            for sock in (kept, opened, listening, *accepted):
                sock.close()


def test_django_connections_are_closed_the_django_way(monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[bool] = []
    handler = types.SimpleNamespace(close_all=lambda: closed.append(True))
    monkeypatch.setitem(sys.modules, "django.db", types.SimpleNamespace(connections=handler))
    assert C.shared(C.open_fds()) == {}
    assert closed == [True]
