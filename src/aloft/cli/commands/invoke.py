"""`aloft invoke`: call a function once, locally (in a fresh process) or on the deployed stage."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from aloft.cli import providers, render
from aloft.cli.completers import complete_invoke_target
from aloft.cli.events import http_event, parse_headers, raw_event
from aloft.cli.helptext import examples
from aloft.cli.project import begin, state
from aloft.errors import InvokeError, Location, UsageError

if TYPE_CHECKING:  # completing this command's arguments imports none of them
    from aloft.cli.local_run import LocalResult
    from aloft.config.models import Service
    from aloft.provider import InvokeOutput


def _read_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{what} is not valid JSON ({exc})",
                         fix="pass a JSON document, e.g. --data '{\"name\": \"x\"}'") from None


def build_event(
    *, event_file: Path | None, data: str | None, raw: str | None, path: str | None,
    method: str | None, headers: tuple[str, ...], body: str | None,
) -> Any:
    """The event from exactly one of --event, --data, --raw, --path (default: `{}`)."""
    given = [name for name, value in (("--event", event_file), ("--data", data), ("--raw", raw),
                                      ("--path", path)) if value is not None]
    if len(given) > 1:
        raise UsageError(f"{' and '.join(given)} cannot be combined",
                         fix="pass the event one way: --event FILE, --data JSON, --raw or --path")
    if (method or headers or body is not None) and path is None:
        raise UsageError("--method, --header and --body describe an HTTP request",
                         fix="add --path, e.g. --path / --method POST --body '...'")
    if event_file is not None:
        try:
            text = sys.stdin.read() if str(event_file) == "-" else event_file.read_text("utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read the event file {event_file}: {exc.strerror}",
                             fix="pass an existing JSON file, or - for stdin") from None
        return _read_json(text, f"event file {event_file}")
    if data is not None:
        return _read_json(data, "--data")
    if raw is not None:
        return raw_event(raw)
    if path is not None:
        # API stage `$default`: a named stage would make the runtime strip `/<stage>` from paths.
        return http_event(path, method or "GET", headers=parse_headers(headers), body=body)
    return {}


def split_target(
    args: tuple[str, ...], *, local: bool, app_event: bool
) -> tuple[str | None, str]:
    """(stage, function) from `[STAGE] [FUNCTION]`. With --raw or --path the function is `app`
    unless named, so `aloft invoke dev --raw ...` runs on stage dev; with --local one argument
    is always the function."""
    if len(args) == 2:
        return args[0], args[1]
    if app_event and not local:
        from aloft.config import load_project
        from aloft.config.models import APP_FUNCTION

        if args[0] in load_project(state().root).stages:
            return args[0], APP_FUNCTION
    return None, args[0]


@click.command(
    "invoke",
    short_help="Call a function once, locally or on a stage.",
    epilog=examples(
        "aloft invoke --local app --path /hello/world",
        "aloft invoke --local app --path /echo --method POST --body '{\"a\": 1}' "
        "-H 'content-type: application/json'",
        "aloft invoke --local hello --data '{\"name\": \"Ada\"}'",
        "aloft invoke --local worker --event events/jobs.json",
        "aloft invoke --local app --raw 'import sys; print(sys.version)'",
        "aloft invoke dev worker --data '{}' --async     # the deployed stage",
        "aloft invoke dev --raw 'print(1)'               # FUNCTION defaults to app",
    ),
)
@click.argument("args", nargs=-1, required=True, metavar="[STAGE] [FUNCTION]",
                shell_complete=complete_invoke_target)
@click.option("--local", "local", is_flag=True,
              help="Build and run the function here in a fresh process (no deploy needed).")
@click.option("--event", "event_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read the event from a JSON file (- for stdin).")
@click.option("--data", help="The event as a JSON string.")
@click.option("--raw", help="Python source to run inside the function.")
@click.option("--path", help="Send an HTTP request for this path (HTTP API v2 event).")
@click.option("--method", help="HTTP method for --path (default GET).")
@click.option("-H", "--header", "headers", multiple=True, help="HTTP header 'Name: value'.")
@click.option("--body", help="HTTP request body for --path.")
@click.option("--async", "asynchronous", is_flag=True,
              help="Queue the event and return at once (deployed stages only).")
def command(
    args: tuple[str, ...], local: bool, event_file: Path | None, data: str | None,
    raw: str | None, path: str | None, method: str | None, headers: tuple[str, ...],
    body: str | None, asynchronous: bool,
) -> None:
    """Invoke FUNCTION (`app` for the web app) of STAGE once and print its return value.

    The return value is printed as JSON on stdout, the function's logs go to stderr, and the
    exit code is 1 if the function failed.
    """
    if len(args) > 2:
        raise UsageError(f"expected [STAGE] FUNCTION, got {' '.join(args)}",
                         fix="quote the event: --data '{...}'; see `aloft invoke --help`")
    stage, function = split_target(args, local=local, app_event=raw is not None or path is not None)
    if asynchronous and local:
        raise UsageError("--async runs on a deployed stage, not with --local",
                         fix="drop --local (deploy first), or drop --async")
    lifecycle = begin("invoke", stage)  # steps: start, run (the invocation), finish
    service = lifecycle.service
    event = build_event(event_file=event_file, data=data, raw=raw, path=path, method=method,
                        headers=headers, body=body)
    where = Location(function=function, stage=service.stage)
    from aloft.cli.local_run import function_or_error, invoke_locally

    if local:
        progress = render.StepProgress(quiet=True)
        try:
            with lifecycle.step("run"):
                result = invoke_locally(service, function, event, progress=progress,
                                        readable_logs=True)
        finally:
            progress.close()
        with lifecycle.step("finish"):
            _show_local(result, raw, where, service, function)
        return
    function_or_error(service, function)
    provider = providers.provider_for(service)
    with lifecycle.step("run"):
        output = provider.invoke(service, function, event, asynchronous=asynchronous)
    with lifecycle.step("finish"):
        _show(output, service, function, raw, asynchronous, where)


def _show_local(
    result: LocalResult, raw: str | None, where: Location, service: Service, function: str
) -> None:
    from aloft.cli.local_run import error_summary
    from aloft.init_report import init_report_for

    if raw is not None and result.ok:
        _raw_reply(json.loads(result.output), where)
        return
    # A failure's error object is for scripts; on a terminal the error below says it once.
    if result.ok or not sys.stdout.isatty():
        click.echo(result.output)
    if result.ok:
        return
    report = init_report_for(service, function, result.output,
                             [result.code_dir] if result.code_dir else []) \
        if result.init_failed else None
    if report is not None:
        raise InvokeError("failed to initialise", where=where,
                          detail=report.detail(),
                          fix=report.fix or "correct the code or the setting named above")
    raise InvokeError(f"failed: {error_summary(result.output, result.exit_code)}",
                      where=where, fix="read the function's output above")


def _show(output: InvokeOutput, service: Service, function: str, raw: str | None,
          asynchronous: bool, where: Location) -> None:
    if output.logs:
        from aloft.cli.log_view import readable

        logs = readable(output.logs)  # an error's traceback: one row per line, not one row
        sys.stderr.write(logs if logs.endswith("\n") else logs + "\n")
    if raw is not None and output.error is None:
        _raw_reply(output.payload, where)
        return
    if asynchronous:
        render.note(f"queued an event for {function!r} on stage {service.stage!r}")
    if output.payload is not None or not asynchronous:
        click.echo(json.dumps(output.payload))
    if output.error:
        raise InvokeError(f"failed: {output.error}", where=where,
                          fix=f"`aloft tail {service.stage} --function {function}` shows its logs")


def _raw_reply(payload: Any, where: Location) -> None:
    """--raw prints what the code printed (not JSON); a raised exception makes it fail."""
    if not isinstance(payload, dict):
        click.echo(json.dumps(payload))
        return
    output = str(payload.get("output") or "")
    sys.stdout.write(output)
    sys.stdout.flush()
    if payload.get("error"):
        raise InvokeError(f"the --raw code raised {payload['error']}", where=where,
                          fix="correct the code; its traceback is printed above")
