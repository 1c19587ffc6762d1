"""Shared by the local cloud's benchmarks: flask-hello's artifact, and the data plane (instance
pool + gateway + HTTP server, no control plane) running in a child process.

    python bench/_localcloud.py serve PORT CODE_DIR LAYER_DIR CONCURRENCY [SERVICE [FUNCTION]]

serves two stages of a service's FUNCTION (flask-hello's `app` unless named), every path of a
stage routed to it: `/SERVICE/dev` (instances forked from a template) and `/SERVICE/fresh`
(`snapshot: false`),
with `POST /_aloft/bench/drop?function=F` stopping a function's idle instances so that the next
request is a cold start (`&templates=1`: its template too, as after keep_alive).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    from aloft.local import compiled

    # What the daemon runs: the data plane compiled, when it is built (before anything below
    # imports its sources).
    compiled.activate()

from aloft.local.types import (  # noqa: E402
    FunctionVersion,
    HttpRequest,
    HttpResponse,
    Route,
    StageRoutes,
)

BENCH_USER = {"AWS_ACCESS_KEY_ID": "AKIAALOFTBENCHUSER01",
              "AWS_SECRET_ACCESS_KEY": "aloft-bench-user-secret"}
"""The user's own credentials, in the environment of a daemon a benchmark starts: the Invoke API
accepts what they sign (set them in os.environ before the daemon starts)."""


def invoke_headers(url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
    """`headers` plus the SigV4 signature of a POST of `body` to the Invoke API at `url`, with
    BENCH_USER: valid for 5 minutes, for every request with the same URL, headers and body."""
    from aloft.runtime.sigv4 import Credentials, sign

    creds = Credentials(BENCH_USER["AWS_ACCESS_KEY_ID"], BENCH_USER["AWS_SECRET_ACCESS_KEY"])
    return sign("POST", url, headers, body, credentials=creds, region="us-east-1",
                service="lambda")


EXAMPLE = ROOT / "examples" / "flask-hello"
SERVICE = "flask-hello"
STAGES = {"dev": True, "fresh": False}  # stage -> snapshot
CONNECTED = "-connected"
"""A copy of the code beside it, named with this suffix (cold_start.py makes one, whose app
connects at import), is served too, as stage `connected` (snapshot on: its template declines)."""


def build_flask_hello(work: Path) -> tuple[Path, Path | None]:
    """Package examples/flask-hello with aloft.package and unpack it: (code dir, layer dir)."""
    return build_example(EXAMPLE, work)


def build_example(example: Path, work: Path) -> tuple[Path, Path | None]:
    """Package an example with aloft.package and unpack it: (code dir, layer dir)."""
    from aloft.config import load_service
    from aloft.package.build import build
    from aloft.package.unpack import unpack

    service = load_service(example, "dev")
    manifest = build(service, out_dir=work / "build")
    # As the daemon's artifact store does: with .pyc (instances see the tree read-only).
    code = unpack(manifest.code.path, work / "unpacked", sha256=manifest.code.sha256,
                  compile_bytecode=True)
    layer = None
    if manifest.layer is not None:
        layer = unpack(manifest.layer.path, work / "unpacked", sha256=manifest.layer.sha256,
                       compile_bytecode=True)
        layer = layer / "python"
    return code, layer


def function_version(
    code: Path, layer: Path | None, stage: str, *, concurrency: int | None, snapshot: bool,
    service: str = SERVICE, function: str = "app",
) -> FunctionVersion:
    name = f"{service}-{stage}-{function}"
    env = {
        "ALOFT_FUNCTION": function,
        "ALOFT_BASE_PATH": f"/{service}/{stage}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_REGION": "us-east-1",
        "LANG": "C.UTF-8",
    }
    return FunctionVersion(name, 1, code, layer, 256, 10, concurrency, 600, env, snapshot)


class BenchRegistry:
    def __init__(self, versions: dict[str, FunctionVersion], service: str = SERVICE) -> None:
        self.versions = {fv.function: fv for fv in versions.values()}
        self.routes = {
            f"/{service}/{stage}": StageRoutes(
                service,
                stage,
                (Route("ANY", "/", fv.function), Route("ANY", "/{proxy+}", fv.function)),
            )
            for stage, fv in versions.items()
        }

    def stage_for_path(self, path: str) -> tuple[StageRoutes, str] | None:
        parts = path.split("/", 3)
        stage = self.routes.get("/".join(parts[:3])) if len(parts) >= 3 else None
        if stage is None:
            return None
        return stage, "/" + (parts[3] if len(parts) > 3 else "")

    def current(self, function: str) -> FunctionVersion | None:
        return self.versions.get(function)

    def stages(self) -> list[StageRoutes]:
        return list(self.routes.values())


class BenchControl:
    def __init__(self, pool: object) -> None:
        self.pool = pool

    async def handle(self, request: HttpRequest) -> HttpResponse | None:
        if request.path == "/_aloft/bench/drop":
            from urllib.parse import parse_qs

            query = parse_qs(request.query)
            function, templates = query["function"][0], query.get("templates") == ["1"]
            pool = self.pool  # type: ignore[attr-defined]
            if templates:  # one started after the last cold start (beside it) is let finish
                for _ in range(500):
                    if not any(v.template_starting for v in pool._versions.values()
                               if v.fv.function == function):
                        break
                    await asyncio.sleep(0.01)
            stopped = pool.drop_idle(function, templates=templates)
            await asyncio.sleep(0.05)  # let the stopped processes go before the next request
            return HttpResponse(200, [], str(stopped).encode())
        return None


async def _serve(
    port: int, code: Path, layer: Path | None, concurrency: int, service: str, function: str
) -> None:
    from aloft.local.http.gateway import Gateway
    from aloft.local.http.server import create_app, serve
    from aloft.local.instances import isolation
    from aloft.local.instances.pool import InstancePool
    from aloft.local.store.logs import LogStore

    home = Path(tempfile.mkdtemp(prefix="aloft-bench-"))
    # Instances isolated as the daemon's are (ALOFT_SANDBOX=0: not). The artifact store is
    # where build_example unpacked the code and the layer: what a zygote keeps for the templates
    # it forks (a template cannot see what its zygote hid).
    store = code.parent
    print(f"isolation: {isolation.configure(home, store).describe()}", flush=True)
    from aloft.local import compiled

    print(f"data plane: {compiled.describe()}", flush=True)
    logs = LogStore(home / "logs.db")  # the real log store: its cost is part of the figures
    logs.start()
    versions = {
        stage: function_version(code, layer, stage, concurrency=concurrency, snapshot=snapshot,
                                service=service, function=function)
        for stage, snapshot in STAGES.items()
    }
    connected = code.with_name(code.name + CONNECTED)
    if connected.is_dir():
        versions["connected"] = function_version(connected, layer, "connected",
                                                 concurrency=concurrency, snapshot=True,
                                                 service=service, function=function)
    pool = InstancePool(logs, account_concurrency=concurrency, throttle_wait=10.0)
    gateway = Gateway(BenchRegistry(versions, service), pool)
    # The benchmark terminates us: SIGTERM cancels serving and the cleanup below runs. (Not a
    # KeyboardInterrupt raised by a signal handler: uvloop swallows it when it lands in a
    # transport's callback, and the process never exits.)
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await serve(create_app(gateway, BenchControl(pool)), "127.0.0.1", port)
    finally:
        await pool.close()
        logs.close()
        shutil.rmtree(home, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def start_platform(
    code: Path, layer: Path | None, concurrency: int, service: str = SERVICE,
    function: str = "app",
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    argv = [
        sys.executable,
        __file__,
        "serve",
        str(port),
        str(code),
        str(layer or ""),
        str(concurrency),
        service,
        function,
    ]
    proc = subprocess.Popen(argv)
    wait_for_port(port)
    return proc, port


def process_tree(pid: int) -> list[int]:
    """`pid` and every process whose ancestry leads to it."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree = [pid]
    for child in parents:
        node = child
        while node in parents and node not in (0, 1):
            node = parents[node]
            if node == pid:
                tree.append(child)
                break
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes (all their threads) have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def warm(url: str, timeout: float = 30.0) -> None:
    """One request, so that the first instance (and template) is up before measuring."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=timeout) as response:
        response.read()


def wrk(url: str, threads: int, connections: int, seconds: int) -> dict[str, float]:
    """Run wrk; requests/s, latency avg and p50/p99 (ms), and the non-2xx/3xx count."""
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout

    def ms(text: str) -> float:
        found = re.match(r"([\d.]+)(us|ms|s)", text)
        if found is None:
            raise RuntimeError(f"wrk printed {text!r} where a latency belongs:\n{out}")
        value, unit = found.groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    avg = re.search(r"^\s+Latency\s+(\S+)", out, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    done = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Socket errors: (.*)", out)
    assert avg and p50 and p99 and rps, out
    return {
        "rps": float(rps.group(1)),
        "avg_ms": ms(avg.group(1)),
        "p50_ms": ms(p50.group(1)),
        "p99_ms": ms(p99.group(1)),
        "non_2xx": float(bad.group(1)) if bad else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
        "requests": float(done.group(1)) if done else 0.0,
    }


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    import uvloop

    from aloft.local.instances.cpu_policy import batch_scheduling

    batch_scheduling()  # as the daemon does (ALOFT_SCHED=normal: not)

    _port, _code, _layer, _conc = sys.argv[2:6]
    _service = sys.argv[6] if len(sys.argv) > 6 else SERVICE
    _function = sys.argv[7] if len(sys.argv) > 7 else "app"
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        uvloop.run(_serve(int(_port), Path(_code), Path(_layer) if _layer else None, int(_conc),
                          _service, _function))
