"""`aloft invoke --local`: build (from cache), unpack, run one invocation in a fresh process.

The process is what a Lambda instance runs: `python -S -m aloft.runtime.invoke` on the
declared Python, with only the artifact on sys.path (code dir, then the layer's `python/`, then
Lambda's boto3 and botocore: aloft.package.provided), a Lambda-like environment, the event on
stdin and the return value as JSON on stdout. Its logs go straight to our stderr.
"""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aloft.cli import render
from aloft.config.models import Service
from aloft.errors import InvokeError, Location, PackageError, UsageError
from aloft.package import build, unpack
from aloft.package.progress import Progress
from aloft.package.provided import ensure_layer
from aloft.package.python import PASS_THROUGH, interpreter
from aloft.stage import Account, Stage, late, stage_of
from aloft.stage.functions import lambda_environment
from aloft.stage.records import Function as FunctionSpec

RUN_DIR = Path(".aloft") / "run"
"""Where artifacts are unpacked, under the project root (content-addressed, reused)."""

PYCACHE_DIR = Path(".aloft") / "pycache"
"""Bytecode of the unpacked artifacts, outside them (they are content-addressed and shared)."""


_GRACE_SECONDS = 5.0
"""Extra wall time for interpreter start-up before the function's timeout kills the process."""


INIT_FAILED = 3
"""The invocation process's exit code when the function could not initialise (as
aloft.runtime.invoke.INIT_FAILED; the runtime is not imported here)."""


@dataclass(frozen=True)
class LocalResult:
    ok: bool
    output: str  # the return value (or Lambda's error object) as JSON text
    exit_code: int
    code_dir: Path | None = None  # where the function's code ran from

    @property
    def init_failed(self) -> bool:
        return self.exit_code == INIT_FAILED


def function_or_error(service: Service, name: str) -> None:
    """Check `name` is a function of the service; the error lists the ones there are."""
    if name not in service.all_function_names():
        names = ", ".join(service.all_function_names())
        # A handler's path (`zappa invoke dev tasks.cleanup` takes one): name its function.
        handled = [f for f, spec in service.functions.items()
                   if spec.handler in (name, name.replace(":", "."))]
        fix = f"use one of: {names}"
        if handled:
            fix = f"name the function, not its handler: {', '.join(handled)}"
        raise UsageError(
            f"{name!r} is not a function of {service.service}",
            where=Location(
                file=str(service.config_file) if service.config_file else None,
                stage=service.stage,
            ),
            fix=fix,
        )


def local_run_stage(service: Service, *, tasks: bool = True) -> Stage:
    """The stage model an invocation here sees: the local cloud's account (an aws stage's own is
    not known without calling AWS) in the stage's region."""
    from aloft.local.services.account import ACCOUNT_ID, REGION

    region = service.aws.region if service.provider == "aws" and service.aws.region else REGION
    return stage_of(service, Account(ACCOUNT_ID, region), tasks=tasks)


def instance_environment(
    service: Service, function: str, code_dir: Path, layer_dir: Path | None,
    base: Mapping[str, str] | None = None, runtime_dir: Path | None = None,
) -> dict[str, str]:
    """The environment of the instance process: the function's own (the stage model's: the
    resource variables, the config's variables), Lambda's, and the interpreter's.

    A variable whose value exists only once the stage is deployed (a table's stream ARN, the
    API's id) is left out. Bytecode goes to `.aloft/pycache` (PYTHONPYCACHEPREFIX): the unpacked
    artifact stays as built, and the next invocation does not compile the dependencies again.
    """
    stage = local_run_stage(service)
    fn = stage.function(function)
    source = os.environ if base is None else base
    env = {key: source[key] for key in PASS_THROUGH if key in source}
    env.update((k, v) for k, v in fn.environment if not late.is_late(v))
    env.update(lambda_environment(fn, stage.account.region, version="$LATEST",
                                  task_root=str(code_dir), log_stream="local"))
    # Lambda's order: the code, the dependency layer, the runtime's boto3 (a pinned one wins)
    path = [str(code_dir)] + ([str(layer_dir / "python")] if layer_dir else []) + \
        ([str(runtime_dir)] if runtime_dir else [])
    env.update({
        "PYTHONPATH": os.pathsep.join(path),
        "PYTHONUNBUFFERED": "1",
        "PYTHONPYCACHEPREFIX": str(service.root / PYCACHE_DIR),
        "ALOFT_TIMEOUT": str(fn.timeout),
        "ALOFT_STAGE": service.stage,
    })
    return env


def invoke_locally(
    service: Service, function: str, event: Any, *, progress: Progress,
    readable_logs: bool = False,
) -> LocalResult:
    """Build, unpack into `.aloft/run/` and run one invocation of `function` with `event`.

    The function's logs go to our stderr as they are written: byte for byte as Lambda's
    runtime writes them, or with `readable_logs` (the CLI, showing them to a person) with the
    CRs that join an error's lines made line breaks (log_view.CarriageReturns)."""
    function_or_error(service, function)
    manifest = build(service, progress=progress)
    run_root = service.root / RUN_DIR
    code_dir = unpack(manifest.code.path, run_root, sha256=manifest.code.sha256)
    layer_dir = (
        unpack(manifest.layer.path, run_root, sha256=manifest.layer.sha256)
        if manifest.layer else None
    )
    python = interpreter(manifest.python_version)
    try:
        runtime_dir: Path | None = ensure_layer(manifest.python_version, progress=progress)
    except PackageError as exc:  # offline: functions run, `import boto3` fails
        progress.done("runtime", f"not installed: {exc.message}")
        runtime_dir = None
    spec = local_run_stage(service).function(function)
    timeout = float(spec.timeout)
    env = instance_environment(service, function, code_dir, layer_dir, runtime_dir=runtime_dir)
    command = _command(python, service, spec, [code_dir, layer_dir, runtime_dir], env)
    logs = _LogCopy() if readable_logs else None
    try:
        proc = subprocess.run(
            command,
            input=json.dumps(event).encode("utf-8"),
            stdout=subprocess.PIPE,
            stderr=logs.write_end if logs else None,  # the logs stream as they are written
            cwd=code_dir,
            env=env,
            timeout=timeout + _GRACE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InvokeError(
            f"function {function!r} timed out after {spec.timeout}s",
            where=Location(function=function, stage=service.stage),
            fix="make it faster, or raise `timeout` for the function in aloft.yml",
        ) from None
    finally:
        if logs is not None:
            logs.close()
    output = proc.stdout.decode("utf-8", errors="replace").strip()
    if proc.returncode and not output and _sandbox_failed(proc.returncode, env):
        raise InvokeError(
            "could not isolate the function (why is said above); it did not run",
            where=Location(function=function, stage=service.stage),
            fix="run it without isolation: ALOFT_SANDBOX=0 aloft invoke --local ...",
        )
    return LocalResult(ok=proc.returncode == 0, output=output, exit_code=proc.returncode,
                       code_dir=code_dir)


INVOKE_MODULE = "aloft.runtime.invoke"


def _sandbox_failed(returncode: int, env: Mapping[str, str]) -> bool:
    """The process was to narrow itself (`_command` gave it a spec) and could not."""
    from aloft.local.instances.worker.sandbox import SANDBOX_FAILED, SPEC_ENV

    return SPEC_ENV in env and returncode == SANDBOX_FAILED


def _command(python: str, service: Service, fn: FunctionSpec, dirs: list[Path | None],
             env: dict[str, str]) -> list[str]:
    """`python -S -m aloft.runtime.invoke` (no -P: 3.9 lacks it), narrowed first as the local
    cloud narrows its instances (worker/sandbox.py `run`): the function sees `dirs` (its code,
    layer and runtime, read-only), the interpreter and its own /tmp, not the project's other
    files, the user's home, the local cloud's home or the build cache, as on Lambda. Without
    isolation here (ALOFT_SANDBOX=0, not Linux) it runs with the user's view."""
    from aloft.local.instances import isolation
    from aloft.local.instances.worker.sandbox import SPEC_ENV
    from aloft.local.store.home import resolve_home

    found = isolation.for_local_run(resolve_home(), service.root)
    pycache = service.root / PYCACHE_DIR  # (bytecode of the run's code, kept between runs)
    keep = [str(d) for d in dirs if d is not None]
    spec = found.run_spec(keep, tmp_mb=fn.ephemeral_storage, share=(str(pycache),))
    if spec is None:
        return [python, "-S", "-m", INVOKE_MODULE]
    pycache.mkdir(parents=True, exist_ok=True)
    for warning in found.unseen_warnings(fn.name, fn.environment,
                                         "`ALOFT_SANDBOX_SHARE={folder} aloft invoke --local ...`"):
        render.warning(warning)
    env[SPEC_ENV] = spec  # (in its environment, not its argv: see sandbox.py)
    return [python, "-S", str(isolation.SANDBOX_MAIN), "run", INVOKE_MODULE]


class _LogCopy:
    """A pipe for the function's stderr, copied to ours by a thread as it comes, an error's
    CR-joined lines made line breaks."""

    def __init__(self) -> None:
        self._read, self.write_end = os.pipe()
        self._thread = threading.Thread(target=self._copy, name="aloft-invoke-logs",
                                        daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        from aloft.cli.log_view import CarriageReturns

        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        lines = CarriageReturns()
        with os.fdopen(self._read, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                sys.stderr.write(lines.feed(decoder.decode(chunk)))
                sys.stderr.flush()
        sys.stderr.write(lines.feed(decoder.decode(b"", final=True)) + lines.end())
        sys.stderr.flush()

    def close(self) -> None:
        """Once the process has ended: its write end closes, the thread writes the rest."""
        os.close(self.write_end)
        self._thread.join(timeout=2.0)  # a process it started may keep the pipe open


def error_summary(output: str, exit_code: int = 1) -> str:
    """`ErrorType: message` from Lambda's error object, or what the process left instead."""
    if not output:
        return f"the instance process exited with code {exit_code} and no result"
    try:
        data = json.loads(output)
    except ValueError:
        return output[:200]
    if isinstance(data, dict) and "errorMessage" in data:
        kind = data.get("errorType") or "Error"
        return f"{kind}: {data['errorMessage']}"
    return output[:200]
