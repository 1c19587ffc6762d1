"""`@aloft.task`: call a function asynchronously in a fresh invocation of the deployment.

Inside a deployed function (AWS_LAMBDA_FUNCTION_NAME set and aloft_settings.json readable),
calling a task sends `{"aloft": "task", "function", "args", "kwargs"}` to the Lambda Invoke API
with `X-Amz-Invocation-Type: Event` and returns None at once. Anywhere else (tests, a shell, a
local script) it runs inline. `task.sync(...)` always runs inline.

Arguments travel as JSON, so they are checked at the call, inline too, so that a mistake shows
up in development rather than in production: non-JSON arguments, or a payload over
MAX_PAYLOAD_BYTES, raise TaskError.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar
from urllib.parse import quote

from aloft.runtime.errors import TaskError
from aloft.runtime.settings import load_settings, settings_path

if TYPE_CHECKING:
    from aloft.runtime.sigv4 import Credentials

MAX_PAYLOAD_BYTES = 1024 * 1024
"""1 MB, as aloft's design says. AWS Lambda accepted only 256 KB for asynchronous invocations
for years; a deployment whose account still has the lower limit gets the service's 413 back as
a TaskError at the call."""

INVOKE_TIMEOUT_S = 10.0

if TYPE_CHECKING or sys.version_info >= (3, 10):
    from typing import ParamSpec

    P = ParamSpec("P")
else:  # Python 3.9 (Lambda's python3.9): no ParamSpec, a TypeVar stands in at run time
    P = TypeVar("P")
R = TypeVar("R")


class InvokeTarget(NamedTuple):
    """Where a task invocation goes."""

    endpoint: str
    region: str
    function_name: str
    qualifier: str

    @property
    def url(self) -> str:
        name = quote(self.function_name, safe="")
        return (
            f"{self.endpoint}/2015-03-31/functions/{name}/invocations"
            f"?Qualifier={quote(self.qualifier, safe='')}"
        )


def deployment_target(environ: Mapping[str, str] | None = None) -> InvokeTarget | None:
    """The Invoke target when running in a deployed function, else None (run inline)."""
    env = os.environ if environ is None else environ
    current = env.get("AWS_LAMBDA_FUNCTION_NAME")
    if not current:
        return None
    try:
        settings = load_settings(settings_path())
    except (OSError, ValueError):
        return None
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    endpoint = (
        env.get("AWS_ENDPOINT_URL_LAMBDA")
        or env.get("AWS_ENDPOINT_URL")
        or f"https://lambda.{region}.amazonaws.com"
    ).rstrip("/")
    task_function = settings.get("task_function")
    name = (
        f"{settings['service']}-{settings['stage']}-{task_function}" if task_function else current
    )
    return InvokeTarget(endpoint, region, name, settings["stage"])


def encode_call(path: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    """The task envelope as JSON bytes, or TaskError saying what cannot travel."""
    envelope = {"aloft": "task", "function": path, "args": list(args), "kwargs": kwargs}
    try:
        payload = json.dumps(envelope, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise TaskError(
            f"task {path}: its arguments must be JSON ({exc}). Pass plain data (str, int, "
            "float, bool, None, lists, dicts), e.g. an id instead of a model object."
        ) from exc
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise TaskError(
            f"task {path}: the arguments take {len(payload)} bytes as JSON, over the "
            f"{MAX_PAYLOAD_BYTES}-byte limit of an asynchronous invocation. Store the data "
            "(S3, a table) and pass its key instead."
        )
    return payload


def credentials_from(environ: Mapping[str, str]) -> Credentials:
    from aloft.runtime.sigv4 import Credentials

    key, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        raise TaskError(
            "cannot send a task: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set in this "
            "function's environment (Lambda sets them from the function's role)"
        )
    return Credentials(key, secret, environ.get("AWS_SESSION_TOKEN") or None)


def invoke_async(
    target: InvokeTarget, payload: bytes, environ: Mapping[str, str] | None = None
) -> None:
    """POST the payload to the Invoke API as an asynchronous (Event) invocation. A stage's
    alias does not exist before its first deploy is published, while the new version answers
    its health check (and primes its snapshot): a task of the function's own then goes to the
    version running it, which is the one about to be published."""
    env = os.environ if environ is None else environ
    try:
        _post_event(target, payload, env)
    except _AliasMissing:
        own = env.get("AWS_LAMBDA_FUNCTION_VERSION", "")
        if target.function_name != env.get("AWS_LAMBDA_FUNCTION_NAME") or not own.isdigit():
            raise TaskError(
                f"invoking {target.function_name}:{target.qualifier} failed: the function or "
                f"its alias {target.qualifier} does not exist (yet: a stage's first deploy "
                "creates its aliases once its health check has passed)"
            ) from None
        _post_event(target._replace(qualifier=own), payload, env)


class _AliasMissing(Exception):
    """The Invoke API answered 404 for the target's alias."""


def _post_event(target: InvokeTarget, payload: bytes, env: Mapping[str, str]) -> None:
    # Imported here: `import aloft` (for @aloft.task) must stay cheap at cold start.
    import urllib.error
    import urllib.request

    from aloft.runtime.sigv4 import sign

    headers = sign(
        "POST",
        target.url,
        {"Content-Type": "application/json", "X-Amz-Invocation-Type": "Event"},
        payload,
        credentials=credentials_from(env),
        region=target.region,
        service="lambda",
    )
    request = urllib.request.Request(target.url, data=payload, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=INVOKE_TIMEOUT_S) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:500].decode("utf-8", "replace")
        if exc.code == 404 and not target.qualifier.isdigit() \
                and "ResourceNotFoundException" in (exc.headers.get("X-Amzn-ErrorType") or ""):
            raise _AliasMissing from exc
        raise TaskError(
            f"invoking {target.function_name}:{target.qualifier} failed: HTTP {exc.code} "
            f"{detail}"
        ) from exc
    except OSError as exc:
        raise TaskError(
            f"invoking {target.function_name}:{target.qualifier} at {target.endpoint} "
            f"failed: {exc}"
        ) from exc
    if status >= 300:
        raise TaskError(f"invoking {target.function_name}: unexpected HTTP {status}")


class Task(Generic[P, R]):
    """A function that runs asynchronously when called inside a deployment."""

    def __init__(self, func: Callable[P, R]) -> None:
        functools.update_wrapper(self, func)
        self.func = func
        self.path = f"{func.__module__}.{func.__qualname__}"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R | None:
        payload = encode_call(self.path, args, dict(kwargs))
        target = deployment_target()
        if target is None:
            return self.func(*args, **kwargs)
        if "<locals>" in self.path or self.func.__module__ == "__main__":
            raise TaskError(
                f"task {self.path} cannot run remotely: define it at the top level of an "
                "importable module"
            )
        invoke_async(target, payload)
        return None

    def sync(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the body here and now, in this invocation."""
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<aloft task {self.path}>"


def task(func: Callable[P, R]) -> Task[P, R]:
    """Decorator: `@aloft.task def send_email(to: str) -> None: ...`."""
    return Task(func)
