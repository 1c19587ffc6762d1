"""Zappa's `zappa.asynchronous` on aloft's tasks, so that code written for Zappa (`from
zappa.asynchronous import task`) deploys unchanged.

The artifact of a project whose code imports `zappa` carries a small `zappa` package that
re-exports this module (aloft.package.build); Zappa itself, a deployment tool, is not needed
in the function. `@task` is `@aloft.task`: a direct asynchronous invocation of the deployment
(Zappa's `service="sns"` transport and `remote_aws_lambda_function_name` are not used), inline
outside a deployed function. Responses are not stored (`capture_response`): the call returns
None in a deployed function, as an asynchronous call without a response does under Zappa.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aloft.runtime.tasks import Task
from aloft.runtime.tasks import task as aloft_task

__all__ = ["AsyncException", "get_async_response", "run", "task", "task_sns"]


class AsyncException(Exception):
    """Zappa's error for asynchronous calls."""


def task(*args: Any, **options: Any) -> Any:
    """`@task` or `@task(service=..., capture_response=..., ...)`, as Zappa writes it; the
    options are accepted and do not change what a task does."""
    if len(args) == 1 and callable(args[0]) and not options:
        return aloft_task(args[0])
    if args:
        raise TypeError("use @task or @task(service=..., ...), as with Zappa")
    return aloft_task


def task_sns(func: Callable[..., Any]) -> Task[..., Any]:
    """Zappa's `@task_sns`: the same task (aloft has no SNS transport for tasks)."""
    return aloft_task(func)


def run(func: Callable[..., Any], args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None, **_options: Any) -> Any:
    """Zappa's `run(func, args, kwargs)`: call `func` (a module-level function) as a task."""
    target = func if isinstance(func, Task) else aloft_task(func)
    return target(*args, **dict(kwargs or {}))


def get_async_response(response_id: str) -> Any:
    raise AsyncException(
        f"no response for {response_id!r}: aloft does not store task responses (Zappa's "
        "capture_response); have the task write its result where the caller reads it")
