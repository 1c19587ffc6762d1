"""The AWS endpoint process: `python -m aloft.local.services.moto_server --dir D --port P`.

moto's server (S3, SQS, SNS, DynamoDB and its streams, Kinesis, SSM, KMS, Secrets Manager) behind
`AuthMiddleware` (function grants), in its own process so that moto's blocking, GIL-heavy work
never stalls the daemon's event loop. It restores the snapshot before it binds, prints
`READY <port> <restore ms>` on stdout once it answers, saves the snapshot every `--save-every`
seconds (or ten times as long as a save takes) when something was written and once more at
SIGTERM/SIGINT, and stops by itself when its parent (the daemon) is gone. The admin token comes
in ALOFT_ENDPOINT_TOKEN. Like the daemon's server, it answers only requests that name it in their
`Host` (aloft.local.http.sites): a page whose name an attacker re-points at 127.0.0.1 must not
read the local buckets and tables.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from aloft.local.http.sites import Site
from aloft.local.services import thread_safe_ast
from aloft.local.services.account import ACCOUNT_ID
from aloft.local.services.auth import GRANTS_WAIT, AuthMiddleware
from aloft.local.services.events_api import ENV_CONTROL, ENV_CONTROL_TOKEN, EventsApi
from aloft.local.services.local_apis import LocalApis, LocalService
from aloft.local.services.logs_api import LogsApi
from aloft.local.services.sigv4 import signing_key
from aloft.local.services.snapshot import SnapshotFile, dump_backends, load_backends
from aloft.local.services.user_credentials import UserCredentials

ENV_TOKEN = "ALOFT_ENDPOINT_TOKEN"
log = logging.getLogger("aloft.local.endpoint")


class Saver:
    """Saves the snapshot when the data changed since the last save."""

    def __init__(self, snapshot: SnapshotFile):
        self.snapshot = snapshot
        self.last_seconds = 0.0  # how long the last save took
        self._dirty = False
        self._lock = threading.Lock()

    def mark(self) -> None:
        self._dirty = True

    def save(self, *, force: bool = False) -> bool:
        with self._lock:
            if not (self._dirty or force):
                return False
            self._dirty = False
            started = time.perf_counter()
            try:
                self.snapshot.save(dump_backends())
            except Exception:
                self._dirty = True
                log.exception("saving the AWS endpoint's data failed; will retry")
                return False
            self.last_seconds = time.perf_counter() - started
            return True


class OwnHostsOnly:
    """WSGI: 421 for a request whose `Host` is not one of the endpoint's own names (DNS
    rebinding); `site` is set once the port is bound. A request without a Host (HTTP/1.0) is
    no browser's."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.site: Site | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST")
        if self.site is not None and host is not None and not self.site.host_ok(str(host)):
            body = (b'{"message": "Misdirected Request", "reason": "the local AWS endpoint '
                    b'answers only to 127.0.0.1, localhost, [::1] and *.localhost with its port"}')
            start_response("421 Misdirected Request", [("Content-Type", "application/json"),
                                                       ("Content-Length", str(len(body)))])
            return [body]
        return self.app(environ, start_response)  # type: ignore[no-any-return]


def use_local_account() -> None:
    """Every request in the local cloud's account (moto reads MOTO_ACCOUNT_ID per request; a
    few of its services read DEFAULT_ACCOUNT_ID, bound at their import: set it before)."""
    os.environ["MOTO_ACCOUNT_ID"] = ACCOUNT_ID
    import moto.core
    import moto.core.models

    for module in (moto.core, moto.core.models):
        setattr(module, "DEFAULT_ACCOUNT_ID", ACCOUNT_ID)  # noqa: B010 (not exported)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aloft.local.services.moto_server")
    parser.add_argument("--dir", required=True, help="where the snapshot lives")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--save-every", type=float, default=5.0)
    parser.add_argument("--logs-db", type=Path, help="the log store CloudWatch Logs reads")
    parser.add_argument("--state-db", type=Path, help="the state (versions: stream names)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request lines in the log
    token = os.environ.pop(ENV_TOKEN, "")
    parent = os.getppid()
    use_local_account()

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    snapshot = SnapshotFile(Path(args.dir))
    saver = Saver(snapshot)
    started = time.perf_counter()
    data = snapshot.load()
    if data is not None and load_backends(data):
        saver.mark()  # moved from the legacy account: save it so
    restore_ms = (time.perf_counter() - started) * 1000
    control_url, control_token = os.environ.pop(ENV_CONTROL, ""), os.environ.pop(
        ENV_CONTROL_TOKEN, "")
    local: list[LocalService] = []
    if args.logs_db and args.state_db:
        local.append(LogsApi(args.logs_db, args.state_db))
    if args.state_db:
        local.append(EventsApi(args.state_db, (control_url, control_token)
                               if control_url else None))
    moto = LocalApis(DomainDispatcherApplication(create_backend_app), local)
    app = OwnHostsOnly(AuthMiddleware(moto, token, saver.mark, signing_key(Path(args.dir)),
                                      UserCredentials().secret, grants_wait=GRANTS_WAIT))
    thread_safe_ast.install()  # threaded: concurrent first requests build URL maps at once
    server = make_server("127.0.0.1", args.port, app, True, request_handler=MotoRequestHandler)
    app.site = Site.on(server.server_address[1])
    # The poll interval is how long shutdown() waits (0.5 s by default): stopping the local
    # cloud (Ctrl-C in `aloft dev`) must take well under a second.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="moto", daemon=True)
    thread.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"READY {server.server_address[1]} {restore_ms:.0f}", flush=True)
    # Large data takes long to save: then save less often (at most a tenth of the time).
    while not stop.wait(max(args.save_every, 10 * saver.last_seconds)):
        saver.save()
        if os.getppid() != parent:  # the daemon died without stopping us
            break
    server.shutdown()
    saver.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
