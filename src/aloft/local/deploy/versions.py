"""A published version of a function on the local cloud: the stage model's function translated
into a `FunctionVersion`, with the full environment an instance sees (pure).

The environment is the stage model's (the resource variables, the config's variables, and
`ALOFT_FUNCTION`), Lambda's own variables (aloft.stage.functions.lambda_environment), and what
the local cloud adds: credentials for its AWS endpoint (by which the endpoint knows the
function's grants; its secret is added when an instance starts, never stored), the endpoint's
URL, the stage's base path and the Lambda endpoint for `@aloft.task`. The stage model's
placeholders for what only exists once deployed (a table's stream ARN, the API) are filled with
the local cloud's values.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from aloft.errors import ConfigError, Location
from aloft.local.services.account import REGION
from aloft.local.types import FunctionVersion, Runtime
from aloft.stage import Stage
from aloft.stage import late as lt
from aloft.stage import records as r
from aloft.stage.functions import lambda_environment

Known = Callable[[str], str | None]
"""A placeholder (`stream:table`, `api`, ...) -> its local value, None if there is none."""

DUMMY_CREDENTIALS = {
    # So that boto3 (and @task's SigV4) work against the local endpoints; the config may
    # override them, the platform gives each version its own.
    "AWS_ACCESS_KEY_ID": "aloft-local",
    "AWS_SECRET_ACCESS_KEY": "aloft-local",
    "AWS_SESSION_TOKEN": "aloft-local",
}


def function_environment(
    stage: Stage, fn: r.Function, version: int, port: int, code_dir: Path,
    aws: Mapping[str, str] | None = None, known: Known | None = None,
) -> dict[str, str]:
    """What an instance's os.environ holds. `aws`: AWS_ENDPOINT_URL and the version's own
    credentials; `known`: the local values of the stage model's placeholders."""
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    own = {k: lt.fill(v, known) if known is not None else v for k, v in fn.environment}
    dummy = dict(DUMMY_CREDENTIALS)
    if aws and "AWS_ACCESS_KEY_ID" in aws and "AWS_SECRET_ACCESS_KEY" not in aws:
        del dummy["AWS_SECRET_ACCESS_KEY"]  # the version's own: derived when an instance starts
    return {
        **dummy,
        **(aws or {}),
        **own,
        **lambda_environment(fn, REGION, version=str(version), task_root=str(code_dir),
                             log_stream=f"{day}/[{version}]{uuid.uuid4().hex}"),
        "ALOFT_BASE_PATH": f"/{stage.service}/{stage.stage}",
        "AWS_ENDPOINT_URL_LAMBDA": f"http://127.0.0.1:{port}",
    }


def function_version(
    stage: Stage, fn: r.Function, version: int, port: int, code_dir: Path,
    layer_dir: Path | None, aws: Mapping[str, str] | None = None, known: Known | None = None,
    runtime: Runtime | None = None, prime_path: str = "/",
) -> FunctionVersion:
    """`prime_path`: the app's health path, which its template GETs before its snapshot (the
    path a user made safe to call at every deploy, rather than `/` with its side effects)."""
    runtime = runtime or Runtime()
    return FunctionVersion(
        function=fn.physical, version=version, code_dir=code_dir, layer_dir=layer_dir,
        memory=fn.memory, timeout=fn.timeout, concurrency=fn.concurrency,
        keep_alive=fn.keep_alive,
        environment=function_environment(stage, fn, version, port, code_dir, aws, known),
        snapshot=fn.snapshot, payload=fn.payload, python=runtime.python,
        runtime_dir=Path(runtime.layer) if runtime.layer else None,
        ephemeral_storage=fn.ephemeral_storage, prime_path=prime_path,
        provisioned=fn.provisioned_concurrency or 0, snap_start=fn.snap_start,
    )


def check_placeholders(stage: Stage) -> None:
    """Refuse what the local cloud cannot fill: another stack's export (`!ImportValue`), or the
    deployment bucket of the aws provider."""
    texts = [(f"functions.{fn.name}.environment.{k}", fn.name, v)
             for fn in stage.functions for k, v in fn.environment]
    texts += [(f"functions.{b.function}.events", b.function, b.arn) for b in stage.bindings]
    texts += [(f"functions.{fn.name}.permissions", fn.name, res)
              for fn in stage.functions for g in fn.grants for res in g.resources]
    for where, function, text in texts:
        for ref in lt.refs(text):
            kind, name = lt.split(ref)
            if kind in (lt.EXPORT, lt.DEPLOYMENT_BUCKET, lt.ROLE_ID):
                what = f"`!ImportValue {name}`" if kind == lt.EXPORT else f"`{ref}`"
                raise ConfigError(
                    f"{what} cannot be resolved on the local cloud: it has no other stacks"
                    if kind == lt.EXPORT else f"{what} only exists on aws",
                    where=Location(key_path=where, function=function, stage=stage.stage),
                    fix="give the value for the local stage itself (e.g. under `stages.<name>` "
                        "of aloft.yml, or a `${env:...}` variable)",
                )


def local_values(stage: Stage, url: str, streams: Mapping[str, str]) -> Known:
    """The local values of the stage model's placeholders: the stage's API (its URL on the
    gateway) and the tables' stream ARNs (`streams`: table name -> latest stream ARN)."""
    def known(ref: str) -> str | None:
        kind, name = lt.split(ref)
        if kind == lt.STREAM:
            return streams.get(name)
        if kind == lt.API:
            return "local"
        if kind == lt.API_URL:
            return url.rstrip("/")
        return None

    return known
