"""A `Platform` for the control plane's unit tests: the stores are the real ones over files in
tmp (state.db, logs.db, the artifact directory, the in-memory registry), the parts that run
processes or loops are fakes that record what they were asked (the instance pool, the deployer,
the async queue, the scheduler). No process, no socket: requests go to the handlers' `handle`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aloft import errors
from aloft.local.control.control_api import ControlHandler
from aloft.local.control.platform import Platform
from aloft.local.instances.awake import Spinner
from aloft.local.services.user_credentials import UserCredentials
from aloft.local.store.artifacts import ArtifactStore
from aloft.local.store.logs import LogStore
from aloft.local.store.metrics import Metrics
from aloft.local.store.registry import LocalRegistry, Snapshot, StageInfo
from aloft.local.store.state import Deployment, ScheduleRecord, State
from aloft.local.triggers.async_queue import AsyncEvent
from aloft.local.types import (
    FunctionVersion,
    HttpRequest,
    HttpResponse,
    InvokeResult,
    Route,
    StageRoutes,
)
from aloft.runtime.sigv4 import Credentials, sign

TOKEN = "s3cret-token"
PORT = 8750
HOST = f"127.0.0.1:{PORT}"
USER = Credentials("AKIAUSERSOWNKEY00001", "the-users-own-secret")
"""The user's own AWS credentials (as in ~/.aws/credentials): the Invoke API accepts them."""
CALLER = Credentials("ALOFTFNCALLER0000001", "the-callers-derived-secret")
"""A function version's key and secret (`caller_may` gives them to shop-dev-app)."""


class FakeEndpoint:
    """The AWS endpoint's part the Invoke API reads: function keys, their secrets and grants
    (the platform's endpoint with `platform(tmp_path, endpoint=True)`)."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[str, str, list[dict[str, Any]]]] = {}

    def function_key(self, access_key: str) -> tuple[str, str, list[dict[str, Any]]] | None:
        return self.keys.get(access_key)


def fv(function: str, version: int = 1) -> FunctionVersion:
    return FunctionVersion(function=function, version=version, code_dir=Path("/nowhere"),
                           layer_dir=None, memory=128, timeout=3, concurrency=None,
                           keep_alive=60)


class FakePool:
    """Answers invocations with `answer` (status, payload) and logs them as an instance does
    (START, a line of its own, END, REPORT) into the real log store."""

    def __init__(self, logs: LogStore) -> None:
        self.logs = logs
        self.metrics = Metrics()
        self.spinner = Spinner(lambda: 0, spin=0.0)  # never polls
        self.answer: tuple[str, bytes] = ("ok", b'{"ok": true}')
        self.invoked: list[tuple[str, int, bytes]] = []
        self.client_contexts: list[bytes | None] = []
        self.traces: list[str | None] = []  # each invocation's _X_AMZN_TRACE_ID
        self.running: dict[str, int] = {}

    def instances(self) -> dict[str, int]:
        return dict(self.running)

    async def invoke(self, fv: FunctionVersion, payload: bytes, *,
                     request_id: str | None = None, http: bool = False,
                     client_context: bytes | None = None,
                     trace: str | None = None) -> InvokeResult:
        rid = request_id or f"req-{len(self.invoked) + 1}"
        self.invoked.append((fv.function, fv.version, payload))
        self.client_contexts.append(client_context)
        self.traces.append(trace)
        status, body = self.answer
        for text in (f"START RequestId: {rid} Version: {fv.version}", f"handling {rid}",
                     f"END RequestId: {rid}", f"REPORT RequestId: {rid}\tDuration: 1.00 ms"):
            self.logs.write(fv.function, fv.version, rid, text)
        return InvokeResult(rid, status, body, 1.0, version=fv.version)  # type: ignore[arg-type]


@dataclass
class FakeDeployer:
    """Records each call; answers with `result`, or raises `error` when it is set."""

    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=lambda: {"version": 2, "changed": True})
    error: BaseException | None = None

    async def _answer(self, name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.calls.append((name, args, kwargs))
        if self.error is not None:
            raise self.error
        return self.result

    async def deploy(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return await self._answer("deploy", *args, **kwargs)

    async def cancel(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return await self._answer("cancel", *args, **kwargs)

    async def rollback(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return await self._answer("rollback", *args, **kwargs)

    async def undeploy(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return await self._answer("undeploy", *args, **kwargs)


@dataclass
class FakeQueue:
    """The async queue: what was enqueued, what is dead, what was re-driven."""

    processed: int = 0
    enqueued: list[dict[str, Any]] = field(default_factory=list)
    dead_events: list[AsyncEvent] = field(default_factory=list)
    redriven: list[tuple[list[str], list[str]]] = field(default_factory=list)

    async def enqueue(self, function: str, payload: bytes, *, qualifier: str | None = None,
                      max_retries: int = 2, max_age: int = 21600,
                      event_id: str | None = None) -> str:
        self.enqueued.append({"function": function, "payload": payload, "qualifier": qualifier,
                              "max_retries": max_retries, "max_age": max_age})
        return event_id or f"event-{len(self.enqueued)}"

    async def pending_count(self, functions: list[str]) -> int:
        return sum(1 for e in self.enqueued if e["function"] in functions)

    async def dead(self, functions: list[str]) -> list[AsyncEvent]:
        return [e for e in self.dead_events if e.function in functions]

    async def redrive(self, functions: list[str], ids: list[str]) -> list[str]:
        self.redriven.append((list(functions), list(ids)))
        return [e.id for e in self.dead_events if e.function in functions
                and (not ids or e.id in ids)]


@dataclass
class FakeScheduler:
    fired: int = 0
    calls: list[tuple[str, str, bool, list[str]]] = field(default_factory=list)

    async def set_enabled(self, service: str, stage: str, enabled: bool,
                          names: list[str]) -> list[str]:
        self.calls.append((service, stage, enabled, names))
        return [f"{service}-{stage}-{n}" for n in names]


@dataclass
class Fakes:
    """The platform and the fakes inside it, for the assertions."""

    platform: Platform
    pool: FakePool
    deployer: FakeDeployer
    queue: FakeQueue
    scheduler: FakeScheduler
    stopped: list[bool]
    endpoint: FakeEndpoint

    @property
    def handler(self) -> ControlHandler:
        return ControlHandler(self.platform)


def deployed_stage(state: State) -> Snapshot:
    """`shop dev` deployed once: app (HTTP) and worker (a schedule), as the deployer records
    it in state.db and swaps it into the registry."""
    physical = {"app": "shop-dev-app", "worker": "shop-dev-worker"}
    routes = [{"method": "ANY", "path": "/{proxy+}", "function": "shop-dev-app"}]
    dep = state.record_deployment(
        Deployment(id=0, service="shop", stage="dev", number=0,
                   functions={"app": 1, "worker": 1}, physical=physical, routes=routes),
        [], [ScheduleRecord("shop-dev-worker", "shop", "dev", "shop-dev-worker",
                            "rate(5 minutes)", None, "schedule", True, 0.0, 4_000_000_000.0)])
    functions = {name: fv(phys) for name, phys in physical.items()}
    info = StageInfo(StageRoutes("shop", "dev", (Route("ANY", "/{proxy+}", "shop-dev-app"),)),
                     dep, functions)
    return Snapshot(stages={"/shop/dev": info},
                    current={f.function: f for f in functions.values()},
                    versions={(f.function, f.version): f for f in functions.values()},
                    stage_of={f.function: ("shop", "dev") for f in functions.values()},
                    async_config={"shop-dev-worker": (0, 60)})


def platform(tmp_path: Path, *, endpoint: bool = False) -> Fakes:
    """The platform over files in `tmp_path`; with `endpoint`, the fake AWS endpoint's function
    keys are the platform's (functions may call with CALLER)."""
    state = State(tmp_path / "state.db")
    logs = LogStore(tmp_path / "logs.db")
    pool, deployer, queue, scheduler = FakePool(logs), FakeDeployer(), FakeQueue(), FakeScheduler()
    stopped: list[bool] = []
    fake_endpoint = FakeEndpoint()
    p = Platform(
        token=TOKEN, state=state, store=ArtifactStore(tmp_path / "artifacts"),
        registry=LocalRegistry(deployed_stage(state)), pool=pool,  # type: ignore[arg-type]
        deployer=deployer, asyncq=queue, scheduler=scheduler,  # type: ignore[arg-type]
        logs=logs, port=PORT, home=str(tmp_path), stop=lambda: stopped.append(True),
        credentials=UserCredentials({"AWS_ACCESS_KEY_ID": USER.access_key,
                                     "AWS_SECRET_ACCESS_KEY": USER.secret_key,
                                     "HOME": str(tmp_path)}),
    )
    if endpoint:
        p.endpoint = fake_endpoint  # type: ignore[assignment]
    return Fakes(p, pool, deployer, queue, scheduler, stopped, fake_endpoint)


def caller_may(fakes: Fakes, *statements: dict[str, Any]) -> None:
    """shop-dev-app's version holds CALLER's key, with these grants."""
    fakes.endpoint.keys[CALLER.access_key] = ("shop-dev-app", CALLER.secret_key,
                                              list(statements))


def request(method: str, path: str, *, query: str = "", body: Any = None,
            token: str | None = TOKEN, headers: dict[str, str] | None = None) -> HttpRequest:
    """A request as the HTTP server hands it over: lower-case header names, a Host header,
    the bearer token unless `token` is None, a JSON body from a dict."""
    data = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    all_headers = [("host", HOST)]
    if token is not None:
        all_headers.append(("authorization", f"Bearer {token}"))
    all_headers += [(k.lower(), v) for k, v in (headers or {}).items()]
    return HttpRequest(method, path, query, all_headers, data)


def call(fakes: Fakes, method: str, path: str, **kwargs: Any) -> HttpResponse:
    response = asyncio.run(fakes.handler.handle(request(method, path, **kwargs)))
    assert response is not None, f"{method} {path} was not the control handler's"
    return response


def api(fakes: Fakes, method: str, route: str, **kwargs: Any) -> tuple[int, Any]:
    """A control API call: (status, decoded JSON body)."""
    response = call(fakes, method, "/_aloft/api/" + route, **kwargs)
    assert header(response, "content-type") == "application/json", response
    return response.status, json.loads(response.body)


def header(response: HttpResponse, name: str) -> str | None:
    return next((v for k, v in response.headers if k.lower() == name.lower()), None)


def assert_error(data: Any, kind: type[errors.AloftError], *words: str) -> None:
    """The control API's error shape, which the CLI turns back into the same exception."""
    error = data["error"]
    assert set(error) >= {"type", "message", "fix", "where"}, error
    assert error["type"] == kind.__name__, error
    for word in words:
        assert word in error["message"], error


def signed(method: str, path: str, query: str, body: bytes, headers: dict[str, str],
           credentials: Credentials = USER, **kwargs: Any) -> dict[str, str]:
    """`headers` plus a SigV4 signature of the request, as boto3 (and @aloft.task) sign it."""
    url = f"http://{HOST}{path}" + (f"?{query}" if query else "")
    out = sign(method, url, headers, body, credentials=credentials, region="us-east-1",
               service="lambda", **kwargs)
    del out["Host"]  # the request has it already
    return out
