"""The local cloud's daemon: `python -m aloft.local.daemon --home H --port P`.

One process, one asyncio loop (uvloop): the HTTP server (gateway + control API), the instance
pool, the scheduler, the async queue's workers. Blocking work (SQLite, unpacking artifacts)
runs in worker threads. Start-up order matters for "nothing is lost": state is read, the
registry built and the async queue reloaded (unfinished events re-queued) before the server
accepts requests; the pid file is written only once the port is bound, so the CLI finds a
daemon that answers.
"""

from __future__ import annotations

from aloft.local import compiled

if __name__ == "__main__":  # the daemon's process: the data plane compiled, if it is built
    compiled.activate()  # (before the imports below load its Python sources: see compiled.py)

import argparse
import asyncio
import logging
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aloft.errors import AloftError, ProviderError, UsageError
from aloft.local.control.control_api import ControlHandler
from aloft.local.control.platform import LogWaiter, Platform
from aloft.local.deploy.deployer import Deployer
from aloft.local.http.gateway import Gateway
from aloft.local.http.proxy_integration import health_event
from aloft.local.http.server import Limits, bind, create_app, serve
from aloft.local.instances import credentials, isolation
from aloft.local.instances.cpu_policy import batch_scheduling
from aloft.local.instances.pool import InstancePool
from aloft.local.services import eventbridge
from aloft.local.services.supervisor import AwsEndpoint, client_kwargs
from aloft.local.store.artifacts import ArtifactStore
from aloft.local.store.home import DaemonInfo, Home, resolve_home, resolve_port
from aloft.local.store.logs import DEFAULT_MAX_BYTES, LogStore
from aloft.local.store.registry import LocalRegistry
from aloft.local.store.state import ScheduleRecord, State
from aloft.local.triggers.async_queue import DEFAULT_BACKOFF, AsyncEvent, AsyncQueue
from aloft.local.triggers.destinations import Destinations
from aloft.local.triggers.pollers.manager import EventSources
from aloft.local.triggers.scheduler import Scheduler
from aloft.local.types import InvokeResult
from aloft.stage.records import DEFAULT_ASYNC

ASYNC_DEFAULTS = (DEFAULT_ASYNC.retries, DEFAULT_ASYNC.max_event_age)
"""Retries and maximum event age of a function the registry has no settings for."""

log = logging.getLogger("aloft.local.daemon")

ENV_CONCURRENCY = "ALOFT_ACCOUNT_CONCURRENCY"
ENV_BACKOFF = "ALOFT_ASYNC_BACKOFF"
ENV_LOG_RETENTION = "ALOFT_LOG_RETENTION_DAYS"
ENV_LOG_MAX_MB = "ALOFT_LOG_MAX_MB"
ENV_AWS_ENDPOINT = "ALOFT_AWS_ENDPOINT"
ENV_HEADER_TIMEOUT = "ALOFT_HEADER_TIMEOUT"
ENV_MAX_CONNECTIONS = "ALOFT_MAX_CONNECTIONS"


@dataclass
class Options:
    home: Path
    port: int
    account_concurrency: int = 10
    async_backoff: float = DEFAULT_BACKOFF
    log_retention_days: float = 7.0
    log_max_mb: float = DEFAULT_MAX_BYTES / (1 << 20)
    aws_endpoint: bool = True  # the local AWS endpoint (S3, SQS, SNS, DynamoDB, SSM, KMS, ...)
    limits: Limits = field(default_factory=Limits)  # what the HTTP server accepts


def options_from_env(home: str | Path | None, port: int | None) -> Options:
    defaults = Limits()
    root = resolve_home(home)
    max_connections = _env_number(ENV_MAX_CONNECTIONS, 0, int)
    return Options(
        home=root,
        port=resolve_port(port, Home(root)),
        account_concurrency=int(_env_number(ENV_CONCURRENCY, 10, int)),
        async_backoff=_env_number(ENV_BACKOFF, DEFAULT_BACKOFF, least=0),
        log_retention_days=_env_number(ENV_LOG_RETENTION, 7),
        log_max_mb=_env_number(ENV_LOG_MAX_MB, DEFAULT_MAX_BYTES / (1 << 20)),
        aws_endpoint=(os.environ.get(ENV_AWS_ENDPOINT) or "1").lower() not in ("0", "off",
                                                                             "false", "no"),
        limits=Limits(
            header_timeout=_env_number(ENV_HEADER_TIMEOUT, defaults.header_timeout),
            max_connections=int(max_connections) if max_connections else
            connection_cap(open_files_limit(), defaults.max_connections),
        ),
    )


def _env_number(name: str, default: float, kind: type[int] | type[float] = float,
                least: float = 1e-9) -> float:
    """The daemon's setting `name` from the environment (unset or empty: `default`), a number
    of `kind` of at least `least`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = least - 1
    if not value >= least:  # (NaN too)
        word = "a whole number" if kind is int else "a number"
        bound = "0 or more" if least == 0 else "above 0"
        raise UsageError(f"{name}={raw!r} in the local cloud's environment is not {word} "
                         f"{bound}", fix=f"unset {name} (default {default:g}) or set it to "
                         f"{word} {bound}")
    return value


def raise_open_files_limit() -> int:
    """The soft limit of open files raised to the hard one (a connection is a file; Linux's
    soft default of 1024 would end the server's connections before its cap); the new soft
    limit. Instances set Lambda's own limit for themselves."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for target in (hard, 1 << 20, 10240):  # macOS refuses more than OPEN_MAX (10240)
        if (hard != resource.RLIM_INFINITY and target > hard) or target <= soft:
            continue
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            continue
        return target
    return soft


def open_files_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def connection_cap(open_files: int, default: int) -> int:
    """At most `default` connections, and half the open files: instances, their pipes and the
    databases need the rest."""
    return max(16, min(default, open_files // 2))


async def run(opts: Options, *, ready: Callable[[DaemonInfo], None] | None = None) -> int | None:
    """Run the platform until SIGTERM/SIGINT or `POST /_aloft/api/stop`; returns the signal
    that stopped it (None: stopped through the API)."""
    loop = asyncio.get_running_loop()
    # SQLite calls and unpacking go through to_thread: give them room beside long-polls.
    loop.set_default_executor(ThreadPoolExecutor(max_workers=32, thread_name_prefix="aloft"))
    home = Home(opts.home)
    other = home.read_pid()
    if other is not None and other.pid != os.getpid():
        raise ProviderError(
            f"a local cloud already runs for {home.root} (pid {other.pid}, port {other.port})",
            fix="`aloft cloud stop` first, or pass another --home",
        )
    # Fail fast, before touching anything else: a taken port leaves no home behind.
    listener = bind("127.0.0.1", opts.port)
    home.create()
    token = home.token(create=True)
    assert token is not None
    port = listener.getsockname()[1]
    before = home.last_port()
    if before is not None and before != port:
        log.warning("listening on port %d, not %d as before: versions deployed then name the "
                    "old port in AWS_ENDPOINT_URL_LAMBDA (redeploy them)", port, before)
    home.remember_port(port)  # the next start takes it again (see resolve_port)
    # A zygote keeps the unpacked code and layers (its templates' code is there), not the zips.
    isolated = await asyncio.to_thread(isolation.configure, home.root,
                                       ArtifactStore(home.artifacts).unpacked_root)
    log.info("instance isolation: %s", isolated.describe())
    data_plane = compiled.describe()
    if data_plane.startswith("Python sources"):  # no build of these sources (a pip install)
        later = compiled.compile_later(home.root / "compile.log")
        data_plane += f"; {later}" if later else ""
    log.info("data plane: %s", data_plane)
    logs = LogStore(home.logs_db, retention=opts.log_retention_days * 86400,
                    max_bytes=int(opts.log_max_mb * (1 << 20)))
    logs.start()
    pool = InstancePool(logs, account_concurrency=opts.account_concurrency)
    registry = LocalRegistry()

    async def run_event(event: AsyncEvent) -> InvokeResult | None:
        fv = registry.resolve(event.function, event.qualifier)
        return None if fv is None else await pool.invoke(fv, event.payload)

    clients: dict[str, Any] = {}
    clients_lock = threading.Lock()

    def aws_client(service: str) -> Any:
        """A boto3 client of the local endpoint (started below), as the platform
        (destinations' queues and topics); called in worker threads."""
        if endpoint is None:
            raise RuntimeError("the local cloud runs without its AWS endpoint")
        with clients_lock:
            if service not in clients:
                import boto3  # type: ignore[import-untyped]

                clients[service] = boto3.session.Session().client(
                    service, **client_kwargs(endpoint.url, home.root / "aws"))
            return clients[service]

    async def enqueue_async(function: str, payload: bytes) -> None:
        """An asynchronous invocation with the function's own retries and maximum age."""
        retries, max_age = registry.snapshot.async_config.get(function, ASYNC_DEFAULTS)
        await asyncq.enqueue(function, payload, max_retries=retries, max_age=max_age)

    async def put_events(body: dict[str, Any]) -> None:
        rules = eventbridge.rules_from_extras(
            info.deployment.extra for info in registry.snapshot.stages.values())
        for function, payload in eventbridge.put_events(body, rules, datetime.now(UTC))[1]:
            await enqueue_async(function, payload)

    destinations = Destinations(
        lambda function: registry.snapshot.destinations.get(function, (None, None, None)),
        enqueue_async, put_events, aws_client)
    # As many async workers as instances may run: more would only wait for a slot.
    asyncq = AsyncQueue(home.state_db, run_event, workers=max(1, opts.account_concurrency),
                        backoff=opts.async_backoff, on_outcome=destinations.deliver)
    stop_event = asyncio.Event()
    info = DaemonInfo(pid=os.getpid(), port=port, home=str(home.root))
    # The AWS endpoint is a child process; it starts now and loads its data while the rest of
    # the platform starts (whoever needs it awaits `endpoint.ready()`).
    endpoint = AwsEndpoint(home.root / "aws", stores=(home.logs_db, home.state_db),
                           control=(f"http://127.0.0.1:{port}", token)
                           ) if opts.aws_endpoint else None
    credentials.configure(endpoint.secret_of if endpoint is not None else None)
    sources: list[Any] = []  # event-source managers: each has `async stop()`
    tasks: list[asyncio.Future[None]] = []  # helpers that end with the daemon
    try:
        if endpoint is not None:
            await endpoint.start()
        state = State(home.state_db)

        async def fire(rule: ScheduleRecord, payload: bytes) -> None:
            await enqueue_async(rule.function, payload)

        scheduler = Scheduler(state, fire)

        event_sources: EventSources | None = None

        async def changed() -> None:
            scheduler.wake()
            pool.provision(registry.snapshot.current.values())  # the aliases' versions
            if event_sources is not None:
                await event_sources.refresh()  # bindings follow deploys, rollbacks, undeploys

        deployer = Deployer(state, ArtifactStore(home.artifacts), pool, registry, port=port,
                            on_change=changed, health_event=health_event, endpoint=endpoint)
        await deployer.reload()
        waiter = LogWaiter(loop)
        logs.on_commit.append(waiter.notify_threadsafe)
        tasks.append(asyncio.ensure_future(_close_when(stop_event, waiter)))
        control = ControlHandler(Platform(
            token=token, state=state, store=deployer.store, registry=registry, pool=pool,
            deployer=deployer, asyncq=asyncq, scheduler=scheduler, logs=logs, port=port,
            home=str(home.root), stop=stop_event.set, log_waiter=waiter, endpoint=endpoint,
            data_plane=data_plane,
        ))
        requeued = await asyncq.start()  # unfinished events from before a crash run again
        if requeued:
            log.warning("re-queued %d unfinished async events", requeued)
        scheduler.start()
        if endpoint is not None:
            # Event-source pollers (aloft.local.triggers.pollers: SQS, SNS, S3, DynamoDB
            # streams) start here: append each to `sources`; they may `await endpoint.ready()`.
            event_sources = EventSources(
                endpoint_url=endpoint.url, registry=registry, invoke=pool.invoke,
                enqueue=enqueue_async, state_db=home.state_db, ready=endpoint.ready,
                secret=await asyncio.to_thread(endpoint.admin_secret))
            await event_sources.start()
            sources.append(event_sources)
            control.p.sources = event_sources
        app = create_app(Gateway(registry, pool), control)
        stopped_by: list[int] = []

        def on_signal(sig: int) -> None:
            stopped_by.append(sig)
            stop_event.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal, sig)
        started = asyncio.Event()
        server = asyncio.ensure_future(
            serve(app, sock=listener, started=started, stop=stop_event, limits=opts.limits))
        await asyncio.wait({server, asyncio.ensure_future(started.wait())},
                           return_when=asyncio.FIRST_COMPLETED)
        if started.is_set():
            home.write_pid(info)  # only now: a CLI that finds the file finds a daemon answering
            if ready is not None:
                ready(info)
            log.info("aloft local cloud on http://127.0.0.1:%d (home %s, pid %d)", port,
                        home.root, os.getpid())
        try:
            await server
        finally:
            home.clear_pid(info.pid)
            await scheduler.stop()
        return stopped_by[0] if stopped_by else None
    finally:
        for task in tasks:
            task.cancel()
        for source in reversed(sources):
            await source.stop()
        await asyncq.stop()
        if endpoint is not None:
            await endpoint.stop()  # it saves its data
        await pool.close()
        logs.close()
        listener.close()


async def _close_when(stop: asyncio.Event, waiter: LogWaiter) -> None:
    """Long-polls answer as soon as the daemon is asked to stop, so that stopping is quick."""
    await stop.wait()
    waiter.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aloft.local.daemon",
                                     description="aloft's local cloud daemon")
    parser.add_argument("--home", help="state directory (default $ALOFT_HOME or "
                        "~/.local/share/aloft)")
    parser.add_argument("--port", type=int, help="HTTP port (default $ALOFT_PORT or 8750)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)  # its own start and stop lines; the rest logs warnings only
    raise_open_files_limit()  # before the options: the connection cap follows from it
    try:
        opts = options_from_env(args.home, args.port)
    except AloftError as exc:
        print(f"aloft local cloud: {exc}", file=sys.stderr)
        return exc.exit_code
    batch_scheduling()  # before the loop: its threads and the processes it starts inherit it
    started = time.monotonic()
    stopped_by: int | None = None
    try:
        try:
            import uvloop
        except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
            stopped_by = asyncio.run(run(opts))
        else:
            stopped_by = uvloop.run(run(opts))
    except AloftError as exc:
        print(f"aloft local cloud: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before the loop's own handler was in place
        stopped_by = signal.SIGINT
    log.info("stopped after %.0f s", time.monotonic() - started)
    # Ctrl-C in a terminal (`aloft cloud start --foreground`) exits 130 like every command;
    # SIGTERM and `aloft cloud stop` are the normal way a server stops: 0.
    return 128 + signal.SIGINT if stopped_by == signal.SIGINT else 0


if __name__ == "__main__":
    sys.exit(main())
