"""A stage's functions: their physical names, settings, Lambda environment, async settings and
grants. Pure.

A function's environment is what its configuration sets: the stage's resource variables
(`ALOFT_<KIND>_<NAME>`), the config's `environment` (CloudFormation values resolved) and
`ALOFT_FUNCTION`. Lambda adds its own variables to that (`lambda_environment`): the aws provider
leaves them to Lambda, the local cloud and `aloft invoke --local` set them as Lambda does.
"""

from __future__ import annotations

from collections.abc import Mapping

from aloft.config.models import APP_FUNCTION, DEFAULT_EPHEMERAL_STORAGE, Service, Statement
from aloft.config.models import Function as FunctionConfig
from aloft.errors import ConfigError
from aloft.stage import grants as g
from aloft.stage import records as r
from aloft.stage.names import StageNames
from aloft.stage.values import Values, Written


def functions(service: Service, names: StageNames, values: Values, declared: r.Resources,
              bindings: tuple[r.Binding, ...], resource_env: Mapping[str, str], *,
              tasks: bool) -> tuple[r.Function, ...]:
    """Every function of the stage (`app` first); `tasks`: whether the code uses
    `@aloft.task` (its functions may then invoke their task target)."""
    out: list[r.Function] = []
    shared = g.declared_resource_grants(declared)
    for name in service.all_function_names():
        fn = service.function(name)
        where = "" if name == APP_FUNCTION else f"functions.{name}."
        settings = _async(service, names, values, name, fn, where)
        dead_letter = _target(service, names, values, name, fn.dead_letter,
                              f"{where}dead_letter")
        target = service.tasks.function or name
        grants = [
            g.log_grant(names, name),
            *g.invoke_grants(names.function_arn(target) if tasks else None, settings,
                             dead_letter),
            *shared,
            *g.source_grants(names, [b for b in bindings if b.function == name]),
            *g.secret_grants(service, names, declared, list(fn.secrets)),
            *g.user_grants(values, name, _statements(service, name, fn)),
        ]
        out.append(r.Function(
            name=name, physical=names.function(name), arn=names.function_arn(name),
            handler=fn.handler, runtime=fn.runtime or service.runtime,
            memory=fn.memory or 512, timeout=fn.timeout or 30, keep_alive=fn.keep_alive or 0,
            concurrency=fn.concurrency, provisioned_concurrency=fn.provisioned_concurrency,
            architecture=fn.architecture or service.aws.architecture,
            tracing=service.aws.tracing if fn.tracing is None else fn.tracing,
            layers=tuple(fn.layers), payload=fn.payload, snapshot=bool(fn.snapshot),
            description=fn.description,
            environment=tuple(_environment(values, name, fn, where, resource_env).items()),
            log_group=names.log_group(name), log_format=fn.log_format or "text",
            log_level=_log_level(values, name, fn, where),
            ephemeral_storage=fn.ephemeral_storage or DEFAULT_EPHEMERAL_STORAGE,
            snap_start=bool(fn.snap_start), async_settings=settings,
            dead_letter=dead_letter, grants=tuple(grants),
        ))
    return tuple(out)


def _environment(values: Values, name: str, fn: FunctionConfig, where: str,
                 resource_env: Mapping[str, str]) -> dict[str, str]:
    env = dict(resource_env)
    for key, written in fn.environment.items():
        text = values.text(written, f"{where}environment.{key}", name)
        if text is not None:
            env[key] = text
    env["ALOFT_FUNCTION"] = name
    return env


def _log_level(values: Values, name: str, fn: FunctionConfig, where: str) -> str | None:
    """The ApplicationLogLevel: Lambda takes one only with the JSON log format, and then
    defaults to INFO."""
    if fn.log_level is not None and fn.log_format != "json":
        raise ConfigError(
            f"log_level {fn.log_level} needs `log_format: json`: Lambda filters application "
            "logs by level only in its JSON format",
            where=values.where(f"{where}log_level", name),
            fix="add `log_format: json`, or remove `log_level` (then the root logger keeps "
                "Python's level, WARNING, unless your code sets one)",
        )
    return fn.log_level or ("INFO" if fn.log_format == "json" else None)


def _statements(service: Service, name: str,
                fn: FunctionConfig) -> list[tuple[str, Statement]]:
    """The service's `permissions` and the function's own (the app's are the service's)."""
    own = [(f"functions.{name}.permissions[{i}]", st) for i, st in enumerate(fn.permissions)]
    if name == APP_FUNCTION:
        return [(f"permissions[{i}]", st) for i, st in enumerate(fn.permissions)]
    return [(f"permissions[{i}]", st) for i, st in enumerate(service.permissions)] + own


def _async(service: Service, names: StageNames, values: Values, name: str,
           fn: FunctionConfig, where: str) -> r.AsyncSettings:
    dest = fn.destinations
    return r.AsyncSettings(
        fn.retries, fn.max_event_age,
        _target(service, names, values, name, dest.on_success if dest else None,
                f"{where}destinations.on_success"),
        _target(service, names, values, name, dest.on_failure if dest else None,
                f"{where}destinations.on_failure"),
    )


def _target(service: Service, names: StageNames, values: Values, function: str,
            written: Written | None, key_path: str) -> str | None:
    """The ARN of a destination or dead-letter target: a function, queue or topic of this
    service by its name or key, or an ARN."""
    if written is None:
        return None
    text = values.text(written, key_path, function)
    if not text or text.startswith("arn:") or text.startswith("${"):
        return text or None
    res = service.resources
    if text in service.all_function_names():
        return names.function_arn(text)
    if text in res.queues:
        q = res.queues[text]
        return names.queue_arn(names.queue(text, q.name, q.fifo))
    if text in res.topics:
        return names.topic_arn(names.topic(text, res.topics[text].name))
    raise ConfigError(
        f"{text!r} is not a function, queue or topic of this service",
        where=values.where(key_path, function),
        fix="name a function, a queue or a topic of this service, or write an ARN",
    )


RUNTIME_HANDLER = "aloft.runtime.handler.handler"
"""Lambda's `Handler` of every aloft function (its `_HANDLER`): aloft's runtime, which calls the
app or the configured handler."""

LAMBDA_PATH = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"
"""`PATH` as Lambda sets it."""


def lambda_environment(fn: r.Function, region: str, *, version: str, task_root: str,
                       log_stream: str, runtime_dir: str | None = None) -> dict[str, str]:
    """The variables Lambda itself sets in a function's environment, with AWS's values (the
    local cloud and `aloft invoke --local` set them as Lambda does; on aws, Lambda does).
    `task_root`: where the code is (Lambda's /var/task); `runtime_dir`: where the runtime's
    libraries are (Lambda's /var/runtime; default: task_root). `_X_AMZN_TRACE_ID` is set per
    request, by the runtime."""
    runtime = runtime_dir or task_root
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": fn.physical,
        "AWS_LAMBDA_FUNCTION_VERSION": version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": fn.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{fn.runtime}",
        "_HANDLER": RUNTIME_HANDLER,
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": runtime,
        "LANG": "en_US.UTF-8",
        "PATH": LAMBDA_PATH,
        "LD_LIBRARY_PATH": lambda_library_path(task_root, runtime),
        "TZ": ":UTC",
    }
    if fn.log_format == "json":  # Lambda's advanced logging controls, as its runtime reads them
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        if fn.log_level is not None:
            env["AWS_LAMBDA_LOG_LEVEL"] = fn.log_level
    return env


LAMBDA_VARIABLES = (
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "_HANDLER", "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR", "LANG", "PATH", "LD_LIBRARY_PATH", "TZ", "AWS_LAMBDA_LOG_FORMAT",
    "AWS_LAMBDA_LOG_LEVEL",
)
"""The names of the variables Lambda itself sets (lambda_environment's keys)."""


def lambda_library_path(task_root: str, runtime_dir: str) -> str:
    """`LD_LIBRARY_PATH` as Lambda sets it, with this machine's task root and runtime dir."""
    return ":".join(["/var/lang/lib", "/lib64", "/usr/lib64", runtime_dir, f"{runtime_dir}/lib",
                     task_root, f"{task_root}/lib", "/opt/lib"])
