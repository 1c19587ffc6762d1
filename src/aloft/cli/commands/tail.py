"""`aloft tail`: a stage's logs, following new lines as they come."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import click
from rich.console import Console

from aloft import access_log
from aloft.cli import log_view, providers, render
from aloft.cli.completers import complete_function, stage_argument
from aloft.cli.durations import parse_duration
from aloft.cli.helptext import examples
from aloft.cli.project import begin
from aloft.provider import LogLine


@click.command(
    "tail",
    short_help="Show and follow a stage's logs.",
    epilog=examples(
        "aloft tail dev                            # follow every function",
        "aloft tail dev --function worker --since 1h",
        "aloft tail prod --filter ERROR --no-follow",
    ),
)
@stage_argument()
@click.option("--function", "-f", "function", help="Only this function's logs.",
              shell_complete=complete_function)
@click.option("--since", default="10m", show_default=True,
              help="How far back to start: 30s, 10m, 2h, 1d.")
@click.option("--filter", "filter_text", help="Only lines containing TEXT.")
@click.option("--no-follow", is_flag=True, help="Print what is there and exit.")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per line: timestamp, function, request_id, text (and, on "
              "a request line, request: method, path, status, latency_ms, request_id).")
def command(stage: str, function: str | None, since: str, filter_text: str | None,
            no_follow: bool, as_json: bool) -> None:
    """Print the logs of STAGE, then follow new lines (Ctrl-C stops, exit code 130)."""
    seconds = parse_duration(since, "--since")
    lifecycle = begin("tail", stage)  # steps: start, run (the lines), finish
    service = lifecycle.service
    lines = providers.provider_for(service).logs(
        service, function=function, since=time.time() - seconds, filter_text=filter_text,
        follow=not no_follow,
    )
    console = render.out()
    with lifecycle.step("run"):
        _print(lines, console, as_json)
    with lifecycle.step("finish"):
        pass


def _print(lines: Iterator[LogLine], console: Console, as_json: bool) -> None:
    # Following ends with Ctrl-C: the KeyboardInterrupt goes up to the top level (exit 130,
    # like any interrupted command; the lines shown are complete, held ones shown first).
    if as_json:
        for line in lines:
            print(json.dumps(as_record(line)), flush=True)
        return
    for shown in _shown(lines):
        console.print(log_view.render(shown, shown.line.function), soft_wrap=True,
                      highlight=False)


def as_record(line: LogLine) -> dict[str, Any]:
    """A line as `--json` prints it; a request line also as its fields (`request`)."""
    record: dict[str, Any] = {"timestamp": line.timestamp, "function": line.function,
                              "request_id": line.request_id, "text": line.text}
    request = access_log.parse(line.text)
    if request is not None:
        record["request"] = request.as_dict()
    return record


_TICK = 0.1  # seconds between two looks for held lines that are due


def _shown(lines: Iterator[LogLine]) -> Iterator[log_view.Shown]:
    """The lines as log_view shows them. A thread reads them (a follow blocks in a long poll),
    so that a request's held lines show when due even while no new line comes."""
    found: queue.Queue[LogLine | BaseException | None] = queue.Queue()

    def read() -> None:
        try:
            for line in lines:
                found.put(line)
        except BaseException as exc:  # shown where the lines are printed, by the CLI's top
            found.put(exc)
        else:
            found.put(None)

    threading.Thread(target=read, name="aloft-tail", daemon=True).start()
    view = log_view.LogView()
    try:
        while True:
            try:
                item = found.get(timeout=_TICK)
            except queue.Empty:
                yield from view.due()
                continue
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            yield from view.feed(item)
            yield from view.due()
    except BaseException:  # Ctrl-C (or the provider's error): what was held shows first
        yield from view.flush()
        raise
    yield from view.flush()
