"""Records shared by the local cloud's parts: the instance pool, the gateway and the control plane.

They are plain frozen data; the Protocols say what each part needs of another, so that tests
replace any part with an in-memory fake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

from aloft.stage.records import ApiAuth, RouteAuth

InvokeStatus = Literal["ok", "error", "timeout", "crash", "throttled", "init_error"]


@dataclass(frozen=True)
class FunctionVersion:
    """One immutable published version of a deployed function, ready to run."""

    function: str  # physical name: {service}-{stage}-{name}
    version: int
    code_dir: Path  # unpacked code zip: aloft/, aloft_settings.json, the user's code
    layer_dir: Path | None  # unpacked dependency layer, None when there are no dependencies
    memory: int  # MB, enforced
    timeout: int  # seconds, enforced
    concurrency: int | None  # reserved concurrency (None: only the account limit applies)
    keep_alive: int  # idle seconds before an instance stops
    environment: Mapping[str, str] = field(default_factory=dict)  # full env of an instance
    snapshot: bool = True  # fork instances from an initialised template
    payload: Literal["2.0", "1.0"] = "2.0"  # HTTP event format the function expects
    python: str | None = None  # the interpreter (the declared runtime's); None: the daemon's
    runtime_dir: Path | None = None  # Lambda's boto3 and botocore, after the layer on sys.path
    ephemeral_storage: int = 512  # MB of the instance's /tmp (enforced where isolated)
    prime_path: str = "/"  # what a template of an app GETs before its snapshot: its health path
    provisioned: int = 0  # instances kept initialised (provisioned concurrency)
    snap_start: bool = False  # declared SnapStart: a template cuts what its init left open

    @property
    def key(self) -> str:
        return f"{self.function}:{self.version}"


@dataclass(frozen=True)
class Runtime:
    """What a deploy's functions run on, as the CLI chose it: the declared Python's interpreter
    (None: the daemon's) and Lambda's runtime layer for it (boto3 and botocore; None: none)."""

    python: str | None = None
    layer: str | None = None
    # Python version -> what the functions that declare it as their own `runtime` run on
    versions: tuple[tuple[str, Runtime], ...] = ()

    def of(self, version: str | None) -> Runtime:
        """What a function of Python `version` runs on: its own, else the deploy's."""
        own = dict(self.versions).get(version) if version else None
        return own if own is not None else Runtime(self.python, self.layer)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"python": self.python, "layer": self.layer}
        if self.versions:  # only then: the platform's part of a version's hash stays as it was
            out["versions"] = {v: r.as_json() for v, r in self.versions}
        return out

    @classmethod
    def from_json(cls, data: object) -> Runtime:
        if not isinstance(data, dict):
            return cls()
        python, layer, versions = data.get("python"), data.get("layer"), data.get("versions")
        own = tuple(sorted((str(v), cls.from_json(r)) for v, r in versions.items())) \
            if isinstance(versions, dict) else ()
        return cls(python if isinstance(python, str) else None,
                   layer if isinstance(layer, str) else None, own)


class _Record:
    """Equality and repr over `_FIELDS`, in order, for the plain classes made per request
    (what the dataclasses they replaced gave); not hashable, as those were not."""

    __slots__ = ()
    _FIELDS: ClassVar[tuple[str, ...]] = ()

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Record)
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(
            f"{name}={value!r}" for name, value in zip(self._FIELDS, self._values(),
                                                       strict=True)) + ")"


class InvokeResult(_Record):
    """What one invocation produced. `payload` is the function's JSON-encoded return value, or
    Lambda's error object (`errorMessage`, `errorType`, `stackTrace`) when status is not ok.

    Made for every request, so a plain class: compiled (aloft.local.compiled), its __init__ is
    native, where a dataclass's stays Python (five times the cost). Nothing changes one once
    it is made."""

    __slots__ = ("duration_ms", "init_ms", "log_stream", "max_memory_mb", "payload", "report",
                 "request_id", "response", "status", "version")
    _FIELDS = ("request_id", "status", "payload", "duration_ms", "init_ms", "max_memory_mb",
               "version", "response", "report", "log_stream")

    def __init__(
        self,
        request_id: str,
        status: InvokeStatus,
        payload: bytes,
        duration_ms: float,
        init_ms: float | None = None,  # set on a cold start
        max_memory_mb: int = 0,
        version: int = 0,
        # With `InstancePool.invoke(..., http=True)` an ok result is already the HTTP response
        # API Gateway would make of the function's return value (payload is then empty).
        response: HttpResponse | None = None,
        # With a `response`, the invocation's closing log entry (END and REPORT, START first
        # when it is still unwritten) is left to the caller, which writes it with its request
        # line as one entry (one log entry per request: logging is on every request's path).
        report: str | None = None,
        log_stream: str | None = None,  # the log stream of the instance that ran it
    ) -> None:
        self.request_id = request_id
        self.status = status
        self.payload = payload
        self.duration_ms = duration_ms
        self.init_ms = init_ms
        self.max_memory_mb = max_memory_mb
        self.version = version
        self.response = response
        self.report = report
        self.log_stream = log_stream


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ..., or ANY
    path: str  # "/items/{id}", "/files/{proxy+}", "/{proxy+}" for an app's catch-all
    function: str  # physical function name
    cors: bool | None = None  # the route's own `cors:`; None: the stage's policy
    auth: RouteAuth | None = None  # its authorizer and API key (the stage model's)


@dataclass(frozen=True)
class CorsPolicy:
    origins: tuple[str, ...] = ("*",)
    methods: tuple[str, ...] = ("*",)
    headers: tuple[str, ...] = ("*",)
    expose_headers: tuple[str, ...] = ()
    credentials: bool = False
    max_age: int = 600


@dataclass(frozen=True)
class StageRoutes:
    """What the gateway serves under one stage's URL prefix `/{service}/{stage}`."""

    service: str
    stage: str
    routes: tuple[Route, ...]
    cors: CorsPolicy | None = None
    static_path: str | None = None  # URL path served from static_dir, e.g. "/static"
    static_dir: Path | None = None
    api_auth: ApiAuth | None = None  # authorizers, API keys, usage plan
    api_key_values: Mapping[str, str] = field(default_factory=dict)  # key name -> its value
    # Derived once here, so that the gateway's hot path reads one flag per request.
    cors_overrides: bool = field(init=False, repr=False, compare=False)  # a route's own cors:
    extras: bool = field(init=False, repr=False, compare=False)  # CORS or static files
    guarded: bool = field(init=False, repr=False, compare=False)  # a route with `auth`

    def __post_init__(self) -> None:
        overrides = any(r.cors is not None for r in self.routes)
        object.__setattr__(self, "cors_overrides", overrides)
        guarded = any(r.auth is not None for r in self.routes)
        object.__setattr__(self, "guarded", guarded)
        object.__setattr__(self, "extras", self.cors is not None or bool(self.static_path)
                           or any(r.cors for r in self.routes) or guarded)

    @property
    def base_path(self) -> str:
        return f"/{self.service}/{self.stage}"

    @property
    def host(self) -> str:
        """The stage's own host name (`dev.shop.localhost`), served at the root."""
        return stage_host(self.service, self.stage)


LOCALHOST = ".localhost"


def host_label(name: str) -> str:
    """A service or stage name as a DNS label: lower case, `_` as `-` (host names are
    case-insensitive and have no underscores)."""
    return name.lower().replace("_", "-")


def stage_host(service: str, stage: str) -> str:
    """`{stage}.{service}.localhost`: where a stage is served without a path prefix, the app
    at the root as API Gateway's `$default` stage serves it (browsers and curl resolve any
    `*.localhost` name to the loopback address themselves)."""
    return f"{host_label(stage)}.{host_label(service)}{LOCALHOST}"


def stage_host_url(port: int, service: str, stage: str) -> str:
    return f"http://{stage_host(service, stage)}:{port}/"


def stage_path_url(port: int, service: str, stage: str) -> str:
    return f"http://127.0.0.1:{port}/{service}/{stage}/"


def host_key(host: str) -> str | None:
    """`dev.shop` of a `Host` header `dev.shop.localhost:8750` (any case, any port), None when
    the host is not a subdomain of localhost: the key a stage is found by."""
    name = host.rpartition(":")[0] if host[-1:].isdigit() and ":" in host else host
    name = name.lower().rstrip(".")
    if not name.endswith(LOCALHOST) or len(name) == len(LOCALHOST):
        return None
    return name[: -len(LOCALHOST)]


class LogSink(Protocol):
    """Receives every line an instance prints, and the START/END/REPORT lines around it. An
    entry may hold several lines (a request's START, END and REPORT come as one when it printed
    nothing); readers split entries on newlines. `stream`: the log stream of the instance that
    wrote it (None: the platform's, about no instance in particular)."""

    def write(self, function: str, version: int, request_id: str | None, text: str,
              stream: str | None = None) -> None: ...


class Registry(Protocol):
    """The gateway's read-only view of what is deployed (kept in memory by the control plane)."""

    def stage_for_path(self, path: str) -> tuple[StageRoutes, str] | None:
        """The stage whose base path prefixes `path`, and the rest of the path."""
        ...

    def stage_for_host(self, key: str) -> StageRoutes | None:
        """The stage served at host `{key}.localhost` (`host_key`), the app at the root."""
        ...

    def current(self, function: str) -> FunctionVersion | None:
        """The version the function's stage alias points at now."""
        ...

    def stages(self) -> list[StageRoutes]: ...


class HttpRequest(_Record):
    """One HTTP request as the gateway and the control handler see it (socket-free). One per
    request: a plain class, as InvokeResult is."""

    __slots__ = ("body", "client", "headers", "method", "path", "query")
    _FIELDS = ("method", "path", "query", "headers", "body", "client")

    def __init__(
        self,
        method: str,
        path: str,  # raw (percent-encoded) path, without the query string
        query: str,  # raw query string, without "?"
        headers: Sequence[tuple[str, str]],  # in order; names lower-case
        body: bytes = b"",
        client: str = "127.0.0.1",  # the client's IP address
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.client = client

    def header(self, name: str) -> str | None:
        """The first value of a header (`name` lower-case)."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


class HttpResponse:
    """An HTTP response. `head`: header lines an instance encoded for the wire already
    (`name: value\r\n`, names in lower case, no CR or LF inside, no hop-by-hop header), which
    go out before `headers` as they are: the gateway neither decodes nor re-encodes them on its
    hot path. Reading `headers` decodes them into it first (what a test or CORS needs)."""

    __slots__ = ("_headers", "body", "head", "status")

    def __init__(self, status: int, headers: list[tuple[str, str]] | None = None,
                 body: bytes = b"", head: bytes = b"") -> None:
        self.status = status
        self._headers = [] if headers is None else headers
        self.body = body
        self.head = head

    @property
    def headers(self) -> list[tuple[str, str]]:
        if self.head:
            lines = self.head.decode("latin-1").split("\r\n")
            decoded = [(name, value) for name, _, value in
                       (line.partition(": ") for line in lines[:-1])]
            self._headers[:0] = decoded
            self.head = b""
        return self._headers

    @headers.setter
    def headers(self, value: list[tuple[str, str]]) -> None:
        self._headers, self.head = value, b""

    @property
    def extra_headers(self) -> list[tuple[str, str]]:
        """The headers after `head` (all of them when there is none), as they are."""
        return self._headers

    def add_header(self, name: str, value: str) -> None:
        """A header of the gateway's own (no CR or LF in it), after the others."""
        if self.head:
            self.head += f"{name}: {value}\r\n".encode("latin-1")
        else:
            self._headers.append((name, value))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HttpResponse):
            return NotImplemented
        return (self.status, self.headers, self.body) == (other.status, other.headers,
                                                           other.body)

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it was

    def __repr__(self) -> str:
        return f"HttpResponse(status={self.status!r}, headers={self.headers!r}, " \
               f"body={self.body!r})"


ACCOUNT_ID = "000000000000"
"""The local cloud's one account (aloft.local.services.account)."""
LEGACY_ACCOUNT_ID = "123456789012"
"""moto's default account, where homes made before the local cloud had its own kept data."""

LAMBDA_API_PREFIXES = ("/2014-11-13/", "/2015-03-31/", "/2016-08-19/", "/2017-03-31/",
                       "/2017-10-31/", "/2018-10-31/", "/2019-09-25/", "/2019-09-30/",
                       "/2021-10-31/")
"""The path prefixes of Lambda's API on the gateway's port (each operation carries the date
it was added): the control handler answers them (control/lambda_api.py)."""


class ControlHandler(Protocol):
    """The control plane's part of the HTTP server: requests under `/_aloft/` and Lambda's API
    (`LAMBDA_API_PREFIXES`) are offered to it first; None means "not mine" and the gateway
    handles the request."""

    async def handle(self, request: HttpRequest) -> HttpResponse | None: ...
